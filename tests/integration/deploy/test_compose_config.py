"""docker-compose.yml as `docker compose config` (Compose v2) resolves it: the whole pipeline,
healthchecks and start order, real `ioc` commands, and secrets only from the environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from ioc.core.admin_settings import admin_credentials_file
from ioc.core.errors import ConfigError
from ioc.core.settings import DEV_PLACEHOLDER, credentials_file, load_settings
from tests.integration.deploy.compose_model import (
    REQUIRED,
    ROOT,
    compose_env,
    dockerfile_entrypoint,
    parsed,
)

Config = Callable[..., CompletedProcess[str]]

SERVICES = {"mosquitto", "kafka", "influxdb", "pipeline-tokens", "grafana-token", "dashboards",
            "bridge", "worker", "api", "grafana"}
ONE_SHOTS = {"pipeline-tokens", "grafana-token", "dashboards"}
IOC_PROCESSES = {"bridge", "worker", "api", "sim"}  # the pipeline, in the project's image
# the only places the InfluxDB operator (all-access) token may go
OPERATOR_TOKEN_HOLDERS = {"influxdb", "pipeline-tokens", "grafana-token"}


def _ioc_argv(service: dict[str, Any]) -> list[str]:
    entrypoint = service.get("entrypoint") or dockerfile_entrypoint()
    return [*entrypoint, *service["command"]]


def _ioc_help(argv: list[str]) -> CompletedProcess[str]:
    """The container's `ioc ...` command line with --help, run by this checkout's ioc."""
    assert argv[0] == "ioc"
    return subprocess.run([sys.executable, "-m", "ioc", *argv[1:], "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def _healthy(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    test = check.get("test") or []
    return not check.get("disable") and bool(test) and test[0] in ("CMD", "CMD-SHELL")


def test_the_whole_pipeline_is_there_and_the_simulator_only_in_its_profile(
        compose_config: Config) -> None:
    default = parsed(compose_config(compose_env()))["services"]
    assert set(default) == SERVICES
    with_sim = parsed(compose_config(compose_env(), "--profile", "sim"))["services"]
    assert set(with_sim) == SERVICES | {"sim"}
    assert with_sim["sim"]["profiles"] == ["sim"]
    image = {name: with_sim[name]["image"] for name in IOC_PROCESSES | {"pipeline-tokens",
                                                                        "dashboards"}}
    assert len(set(image.values())) == 1  # one project image, built from the Dockerfile
    built = {name for name, s in with_sim.items() if s.get("build")}
    assert built >= IOC_PROCESSES
    assert all(s["build"]["dockerfile"] == "Dockerfile" for name, s in with_sim.items()
               if name in built)


def test_every_long_running_service_has_a_healthcheck_and_starts_after_what_it_needs(
        compose_config: Config) -> None:
    services = parsed(compose_config(compose_env(), "--profile", "sim"))["services"]
    for name in set(services) - ONE_SHOTS - {"sim"}:
        assert _healthy(services[name]), f"{name} has no healthcheck"
    needs = {"bridge": {"mosquitto", "kafka"}, "worker": {"kafka", "pipeline-tokens"},
             "api": {"kafka", "influxdb", "pipeline-tokens"}, "sim": {"bridge"},
             "pipeline-tokens": {"influxdb"}, "grafana-token": {"influxdb"},
             "grafana": {"grafana-token", "dashboards", "influxdb"}}
    for name, wanted in needs.items():
        depends = services[name].get("depends_on") or {}
        assert set(depends) == wanted, name
        for dep, how in depends.items():
            # a server must be healthy, not merely started; a one-shot must have succeeded
            expected = ("service_completed_successfully" if dep in ONE_SHOTS
                        else "service_healthy")
            assert how["condition"] == expected, f"{name} -> {dep}"
            assert dep in ONE_SHOTS or _healthy(services[dep])


def test_the_image_runs_real_ioc_subcommands(compose_config: Config) -> None:
    services = parsed(compose_config(compose_env(), "--profile", "sim"))["services"]
    ioc_services = {name for name, s in services.items() if s["image"].startswith("dongxoai-ioc")}
    assert ioc_services == IOC_PROCESSES | {"pipeline-tokens", "dashboards"}
    for name in sorted(ioc_services):
        argv = _ioc_argv(services[name])
        done = _ioc_help(argv)
        assert done.returncode == 0, f"{name}: {' '.join(argv)}\n{done.stderr}"
        assert "Usage: " in done.stdout
    # the check can fail: a subcommand or option that does not exist is refused
    assert _ioc_help(["ioc", "no-such-command"]).returncode != 0
    assert _ioc_help(["ioc", "bridge", "--no-such-option", "1"]).returncode != 0


def test_the_required_list_is_what_the_file_requires() -> None:
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert set(REQUIRED) == set(re.findall(r"\$\{(\w+):\?", text))


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_secret_stops_compose_with_its_message(compose_config: Config,
                                                         key: str) -> None:
    values = compose_env()
    values[key] = ""  # set but empty counts as missing for ${VAR:?...}
    done = compose_config(values, "--profile", "sim")
    assert done.returncode != 0
    assert f"set {key}" in done.stderr, done.stderr
    del values[key]
    assert f"set {key}" in compose_config(values, "--profile", "sim").stderr


def test_secrets_come_only_from_the_environment(compose_config: Config) -> None:
    values = compose_env()
    services = parsed(compose_config(values, "--profile", "sim"))["services"]
    given = set(values.values())
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if key.endswith(("PASSWORD", "TOKEN", "SECRET", "ID_TAG")):  # not file paths
                assert value in given, f"{name}: {key} is not from the environment"
    holders = {name for name, s in services.items()
               if values["IOC_INFLUX_TOKEN"] in (s.get("environment") or {}).values()}
    assert holders == OPERATOR_TOKEN_HOLDERS
    for name in IOC_PROCESSES:
        env = services[name]["environment"]
        assert not {k for k in env if "ADMIN" in k}, name  # no operator secrets


@pytest.mark.parametrize("service", sorted(IOC_PROCESSES))
def test_pipeline_processes_run_in_prod_and_refuse_the_placeholder(
        compose_config: Config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        service: str) -> None:
    values = {**compose_env(), "IOC_PROFILE": "dev"}  # a dev profile in the shell is ignored
    env = parsed(compose_config(values, "--profile", "sim"))["services"][service]["environment"]
    for key in [k for k in os.environ if k.startswith("IOC_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("IOC_CREDENTIALS", str(tmp_path / "none.env"))  # the container's file
    settings = load_settings()  # every secret prod wants is handed over
    assert settings.profile == "prod"
    assert settings.kafka_bootstrap == "kafka:19092"
    monkeypatch.setenv("IOC_KAFKA_PASSWORD", DEV_PLACEHOLDER)
    with pytest.raises(ConfigError, match="IOC_KAFKA_PASSWORD"):
        load_settings()


def test_each_scoped_token_reaches_only_its_consumer(compose_config: Config) -> None:
    services = parsed(compose_config(compose_env()))["services"]

    def mounts(name: str) -> dict[str, str]:
        return {m["source"]: m["target"] for m in services[name].get("volumes") or []
                if m["type"] == "volume"}

    command = services["pipeline-tokens"]["command"]
    write_env = Path(command[command.index("--write-env") + 1])
    read_env = Path(command[command.index("--read-env") + 1])
    issuer = {Path(target): source for source, target in mounts("pipeline-tokens").items()}
    write_volume, read_volume = issuer[write_env.parent], issuer[read_env.parent]
    assert write_volume != read_volume
    for name, volume, other, env_file in (("worker", write_volume, read_volume, write_env),
                                          ("api", read_volume, write_volume, read_env)):
        own = mounts(name)
        assert other not in own, f"{name} mounts the other consumer's token"
        assert Path(own[volume]) / env_file.name == Path(
            services[name]["environment"]["IOC_CREDENTIALS"])
    for name in {"bridge", "sim", "dashboards"} & set(services):
        assert not {write_volume, read_volume} & set(mounts(name)), name


def test_the_files_ioc_services_up_writes_are_all_compose_needs(compose_cli: list[str]) -> None:
    """The README's command: `--env-file` credentials.env and admin.env, plus IOC_UID."""
    files = [credentials_file(), admin_credentials_file()]
    assert all(path.exists() for path in files), "run `ioc services up` first"
    env = {key: os.environ[key] for key in ("PATH", "HOME", "DOCKER_CONFIG") if key in os.environ}
    argv = [*compose_cli, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml")]
    for path in files:
        argv += ["--env-file", str(path)]
    done = subprocess.run([*argv, "--profile", "sim", "config", "--format", "json"],
                          env={**env, "IOC_UID": str(os.getuid())}, capture_output=True,
                          text=True, timeout=60, check=False)
    services = parsed(done)["services"]
    assert services["bridge"]["environment"]["IOC_PROFILE"] == "prod"
