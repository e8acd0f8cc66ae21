"""The project's Dockerfile: slim, not root, the console's assets fetched at build time, a
healthcheck, no secrets in the build context, and the compose volumes' mount points."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_both_stages_are_python_311_slim() -> None:
    bases = [rest.split()[0] for word, rest in _instructions() if word == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    users = [rest for word, rest in _final_stage() if word == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    run = " ".join(rest for word, rest in _final_stage() if word == "RUN")
    assert "useradd" in run and users[-1] in run


def test_project_installed_and_leaflet_vendored_at_build_time() -> None:
    run = " ".join(rest for word, rest in _instructions() if word == "RUN")
    assert "pip install ." in run
    assert re.search(r"\bioc assets\b", run)
    # the final stage takes the virtualenv, with the vendored files inside the package
    copies = [rest for word, rest in _final_stage() if word == "COPY"]
    assert any(rest.startswith("--from=build /opt/ioc") for rest in copies)


def test_healthcheck_and_entrypoint() -> None:
    final = dict(_final_stage())
    assert "CMD" in final["HEALTHCHECK"] and "/healthz" in final["HEALTHCHECK"]
    assert json.loads(final["ENTRYPOINT"]) == ["ioc"]
    assert json.loads(final["CMD"]) == ["api"]


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".ioc", ".env", ".venv", "ioc/api/static/vendor"} <= ignored


def test_named_volume_mount_points_exist_owned_by_the_image_user() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    run = " ".join(rest for word, rest in _final_stage() if word == "RUN")
    named = set(compose["volumes"])
    for name, service in compose["services"].items():
        if not str(service.get("image", "")).startswith("dongxoai-ioc"):
            continue
        for mount in service.get("volumes") or []:
            source, target = mount.split(":")[:2]
            if source in named:  # a new volume copies the owner of its mount point
                assert target in run, f"{name}: {target} is not made in the Dockerfile"
    assert "chown ioc:ioc" in run
