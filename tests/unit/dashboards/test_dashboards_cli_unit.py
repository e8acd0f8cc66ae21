"""`ioc dashboards build` output, and `publish` failing cleanly without Grafana."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import niquests
import pytest
from click.testing import CliRunner

from ioc.dashboards import publish as publish_module
from ioc.dashboards.cli import dashboards

REGISTRY = str(Path(__file__).parents[3] / "deploy" / "registry" / "devices.yaml")


def test_build_writes_one_json_file_per_dashboard_and_the_gazetteer(tmp_path: Path) -> None:
    result = CliRunner().invoke(dashboards, [
        "build", "--out", str(tmp_path / "out"), "--gazetteer", str(tmp_path / "g.json"),
        "--registry", REGISTRY])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["ioc-drainage.json", "ioc-overview.json", "ioc-streetlights.json",
                     "ioc-traffic.json"]
    board = json.loads((tmp_path / "out" / "ioc-drainage.json").read_text(encoding="utf-8"))
    assert board["title"] == "Thoát nước — Drainage & flooding"
    assert json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))[0]["key"]


def test_build_reports_a_missing_registry_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(dashboards, ["build", "--out", str(tmp_path),
                                             "--registry", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "cannot read device registry" in result.output
    assert "Traceback" not in result.output


class _Unreachable:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.health = self

    @classmethod
    def from_url(cls, *args: Any, **kwargs: Any) -> _Unreachable:
        return cls()

    def check(self) -> None:
        raise niquests.exceptions.ConnectionError("Connection refused")


def test_publish_without_grafana_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish_module, "GrafanaApi", _Unreachable)
    monkeypatch.setenv("TEST_GRAFANA_TOKEN", "t0ken")
    result = CliRunner().invoke(dashboards, [
        "publish", "--url", "http://grafana.invalid:3000", "--token-env",
        "TEST_GRAFANA_TOKEN", "--registry", REGISTRY])
    assert result.exit_code == 1
    assert "Grafana at http://grafana.invalid:3000 is unreachable" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
