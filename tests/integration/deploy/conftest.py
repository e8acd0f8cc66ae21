"""The Docker Compose v2 CLI for the deploy tests: `make compose` builds and installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.integration.deploy.compose_model import ROOT


def _runs(argv: list[str]) -> bool:
    try:
        done = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True,
                              timeout=30, check=False)
    except OSError:
        return False
    # Compose v2 only: Debian's docker-compose 1.x reads the file differently
    return done.returncode == 0 and done.stdout.strip().lstrip("v").startswith("2.")


def _candidates() -> list[list[str]]:
    found = [[os.environ["IOC_DOCKER_COMPOSE"]]] if os.environ.get("IOC_DOCKER_COMPOSE") else []
    docker = shutil.which("docker")
    if docker:
        found.append([docker, "compose"])
    standalone = shutil.which("docker-compose")
    if standalone:
        found.append([standalone])
    # what deploy/local/build_compose.sh caches (it also works standalone)
    cache = Path(os.environ.get("IOC_CACHE_DIR", Path.home() / ".cache" / "ioc"))
    found.extend([str(path)] for path in sorted(cache.glob("docker-compose-v2*/docker-compose"),
                                                reverse=True))
    return found


@pytest.fixture(scope="session")
def compose_cli() -> list[str]:
    """argv of a Compose v2 CLI, or skip (fail on CI): `make compose` installs one."""
    for argv in _candidates():
        if _runs(argv):
            return argv
    message = ("no Docker Compose v2 CLI (`docker compose` or IOC_DOCKER_COMPOSE): "
               "run `make compose` (builds it from its Go module, cached in ~/.cache/ioc)")
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def compose_config(compose_cli: list[str], tmp_path: Path) -> Callable[..., CompletedProcess[str]]:
    """Run `docker compose config --format json` on the repository's file with exactly the
    given variables (an env file; none from this shell, .env or IOC_* of env.sh)."""

    def run(values: dict[str, str], *args: str) -> CompletedProcess[str]:
        env_file = tmp_path / "compose.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        env = {key: os.environ[key] for key in ("PATH", "HOME", "DOCKER_CONFIG")
               if key in os.environ}
        argv = [*compose_cli, "--project-directory", str(ROOT), "-f",
                str(ROOT / "docker-compose.yml"), "--env-file", str(env_file), *args,
                "config", "--format", "json"]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60,
                              check=False)

    return run
