"""`.env.example` lists every variable docker-compose.yml requires, with no value."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def required_by_compose() -> set[str]:
    """Every `${VAR:?message}` in docker-compose.yml (its comments aside)."""
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    return set(re.findall(r"\$\{(\w+):\?", text))


def test_every_required_variable_is_listed_without_a_value() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = dict(line.split("=", 1) for line in lines
                    if line and not line.startswith("#"))
    assert set(assigned) == required_by_compose()
    assert set(assigned.values()) == {""}  # an example never carries a secret


def test_the_real_env_file_stays_out_of_git_and_the_image() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
