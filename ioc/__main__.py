"""`python -m ioc` is the `ioc` command."""

from ioc.cli import main

main()
