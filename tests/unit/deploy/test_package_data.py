"""`pip install .` (the Docker image) ships every file the package reads, not only the .py
files an editable install finds in the checkout."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# vendored by `ioc assets` into the installed package; never in the checkout's wheel
NOT_SHIPPED = ("static/vendor",)


def _declared() -> set[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]
    found: set[Path] = set()
    for package, patterns in globs.items():
        folder = ROOT.joinpath(*package.split("."))
        for pattern in patterns:  # setuptools expands them with glob, as here
            found.update(path for path in folder.glob(pattern) if path.is_file())
    return found


def _data_files() -> set[Path]:
    return {path for path in (ROOT / "ioc").rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")
            and "__pycache__" not in path.parts
            and not any(part in path.as_posix() for part in NOT_SHIPPED)}


def test_every_data_file_under_ioc_is_package_data() -> None:
    missing = sorted(str(p.relative_to(ROOT)) for p in _data_files() - _declared())
    assert missing == []
    assert any(p.name == "console.js" for p in _declared())  # the console's own scripts
