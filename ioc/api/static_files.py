"""Where the console's files live in the package: its page, scripts and the vendored map."""

from __future__ import annotations

from pathlib import Path

__all__ = ["CONSOLE_PAGE", "STATIC_DIR", "VENDOR_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
CONSOLE_PAGE = STATIC_DIR / "console.html"
# filled by `ioc assets` (make venv) from the npm registry; not committed
VENDOR_DIR = STATIC_DIR / "vendor"
