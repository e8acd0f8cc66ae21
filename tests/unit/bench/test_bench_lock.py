"""One measurement on the services at a time: a soak and every `ioc bench` part that runs
on the services take the same lock, and a second one is refused at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ioc.bench import cli as bench_cli
from ioc.core.errors import ServiceError
from ioc.core.private_files import locked_or_busy
from ioc.core.settings import Settings


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("IOC_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(bench_cli, "load_admin_settings", Settings)
    monkeypatch.setattr("ioc.bench.peer.shutil.which", lambda name: None)
    monkeypatch.setenv("IOC_CACHE_DIR", str(tmp_path))  # no Telegraf: the peer part skips
    return tmp_path


def _refused(args: list[str]) -> str:
    out = CliRunner().invoke(bench_cli.bench, args)
    assert isinstance(out.exception, ServiceError), out.output
    return str(out.exception)


@pytest.mark.parametrize("args", [["--only", "peer"], ["soak", "--minutes", "0.05"]],
                         ids=["part-on-services", "soak"])
def test_a_second_measurement_on_the_services_is_refused(state: Path, args: list[str]) -> None:
    with locked_or_busy(state / "run" / "bench", "held by the test"):
        assert "another `ioc bench`" in _refused(args)


def test_the_lock_is_released_after_a_part(state: Path) -> None:
    for _ in range(2):  # the second run finds the lock free again
        out = CliRunner().invoke(bench_cli.bench, ["--only", "peer"])
        assert out.exit_code == 0, out.output
    with locked_or_busy(state / "run" / "bench", "free again"):
        pass


def test_parts_off_the_services_take_no_lock(state: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(bench_cli._RUNNERS, "contract", lambda quick: {"messages": 1})
    with locked_or_busy(state / "run" / "bench", "held by the test"):
        out = CliRunner().invoke(bench_cli.bench, ["--only", "contract", "--quick"])
    assert out.exit_code == 0, out.output
