"""Grafana under docker compose is provisioned with what the `dashboards` one-shot builds: the
provider's folder, the data source the panels name, the gazetteer and Grafana's token."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from subprocess import CompletedProcess
from typing import Any

import yaml

from tests.integration.deploy.compose_model import ROOT, compose_env, parsed

Config = Callable[..., CompletedProcess[str]]
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
GRAFANA_PUBLIC = PurePosixPath("/usr/share/grafana/public")


def _volumes(service: dict[str, Any]) -> dict[PurePosixPath, str]:
    """target -> named volume."""
    return {PurePosixPath(m["target"]): m["source"] for m in service.get("volumes") or []
            if m["type"] == "volume"}


def _option(command: list[str], name: str) -> PurePosixPath:
    return PurePosixPath(command[command.index(name) + 1])


def _built(services: dict[str, Any], tmp_path: Path) -> dict[str, Path]:
    """Run the one-shot's own command here, its volumes mapped to folders: volume -> folder."""
    oneshot = services["dashboards"]
    folders = {volume: tmp_path / volume for volume in _volumes(oneshot).values()}
    argv = list(oneshot["command"])
    for i, arg in enumerate(argv):
        for target, volume in _volumes(oneshot).items():
            if PurePosixPath(arg).is_relative_to(target):
                argv[i] = str(folders[volume] / PurePosixPath(arg).relative_to(target))
    done = subprocess.run([sys.executable, "-m", "ioc", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return folders


def _datasource_uids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        source = node.get("datasource")
        if isinstance(source, dict) and "uid" in source:
            yield str(source["uid"])
        for value in node.values():
            yield from _datasource_uids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _datasource_uids(value)


def _gazetteers(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "gazetteer" and isinstance(value, str):
                yield value
            else:
                yield from _gazetteers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _gazetteers(value)


def test_grafana_provisions_the_dashboards_the_one_shot_builds(compose_config: Config,
                                                              tmp_path: Path) -> None:
    services = parsed(compose_config(compose_env()))["services"]
    grafana = services["grafana"]
    binds = {PurePosixPath(m["target"]): Path(m["source"]) for m in grafana["volumes"]
             if m["type"] == "bind"}
    assert binds[PurePosixPath("/etc/grafana/provisioning")] == PROVISIONING
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "ioc.yaml").read_text())
    (provider,) = providers["providers"]
    folder = _volumes(grafana)[PurePosixPath(provider["options"]["path"])]
    built = _built(services, tmp_path)[folder]  # what Grafana reads at the provider's path
    boards = [json.loads(path.read_text()) for path in sorted(built.glob("*.json"))]
    assert boards and all(board["uid"] and board["panels"] for board in boards)

    sources = yaml.safe_load((PROVISIONING / "datasources" / "influxdb.yaml").read_text())
    provisioned = {source["uid"] for source in sources["datasources"]}
    used = {uid for board in boards for uid in _datasource_uids(board)}
    assert used and used <= provisioned  # every panel's data source is provisioned


def test_the_geomap_gazetteer_is_served_where_the_panels_look(compose_config: Config,
                                                              tmp_path: Path) -> None:
    services = parsed(compose_config(compose_env()))["services"]
    command = services["dashboards"]["command"]
    written = _option(command, "--gazetteer")
    oneshot = {volume: target for target, volume in _volumes(services["dashboards"]).items()}
    served = {volume: target for target, volume in _volumes(services["grafana"]).items()}
    volume = _volumes(services["dashboards"])[written.parent]
    url_path = "public" / (served[volume] / written.name).relative_to(GRAFANA_PUBLIC)
    assert oneshot[volume] == written.parent

    folders = _built(services, tmp_path)
    boards = [json.loads(p.read_text()) for p in folders[_volumes(services["dashboards"])[
        _option(command, "--out")]].glob("*.json")]
    wanted = {path for board in boards for path in _gazetteers(board)}
    assert wanted == {str(url_path)}  # the geomap panels ask Grafana for this file
    places = json.loads((folders[volume] / written.name).read_text())
    assert places and {"key", "latitude", "longitude"} <= set(places[0])


def test_grafana_reads_the_token_the_grafana_token_one_shot_leaves(
        compose_config: Config) -> None:
    services = parsed(compose_config(compose_env()))["services"]
    sources = (PROVISIONING / "datasources" / "influxdb.yaml").read_text()
    token_file = PurePosixPath(sources.split("$__file{", 1)[1].split("}", 1)[0])
    volume = _volumes(services["grafana"])[token_file.parent]
    script = (ROOT / "deploy" / "compose" / "influx-tokens.sh").read_text()
    assert 'secrets=${IOC_SECRETS_DIR:-/run/ioc-secrets}' in script
    assert 'out=$secrets/influx-read.token' in script
    issuer = _volumes(services["grafana-token"])
    assert issuer[PurePosixPath("/run/ioc-secrets")] == volume
    assert token_file == PurePosixPath("/run/ioc-secrets/influx-read.token")
