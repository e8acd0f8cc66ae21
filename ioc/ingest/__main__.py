"""`python -m ingest [OPTIONS]`: the same as `ioc bridge [OPTIONS]`."""

from __future__ import annotations

import sys

import click

from ioc.core.errors import IocError
from ioc.ingest.cli import bridge

if __name__ == "__main__":
    try:
        bridge.main(prog_name="python -m ingest", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except IocError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
