"""The Telegraf peer without services: finding the binary, skipping without it, reading
Telegraf's JSON metrics back, and its configuration matching the bridge's guarantees."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ioc.bench import cli as bench_cli
from ioc.bench.bridge import PROBE_SEQ
from ioc.bench.loadgen import Collected
from ioc.bench.peer import find_telegraf, run_peer_bench, telegraf_key
from ioc.bench.peer_config import telegraf_kafka_config
from ioc.core.settings import Settings


@pytest.fixture
def no_telegraf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("ioc.bench.peer.shutil.which", lambda name: None)
    monkeypatch.setenv("IOC_CACHE_DIR", str(tmp_path))


def test_without_telegraf_the_part_is_skipped_with_a_hint(no_telegraf: None) -> None:
    assert find_telegraf() is None
    result = run_peer_bench(Settings(), 10)
    assert result == {"skipped": "no telegraf binary: build it with `make telegraf` "
                                 "(deploy/local/build_telegraf.sh) or put it on PATH"}


def test_bench_reports_the_skip_and_exits_0(no_telegraf: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_cli, "load_admin_settings", Settings)
    out = CliRunner().invoke(bench_cli.bench, ["--only", "peer"])
    assert out.exit_code == 0, out.output
    assert "skipped: no telegraf binary" in out.output


def test_a_cached_build_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("ioc.bench.peer.shutil.which", lambda name: None)
    monkeypatch.setenv("IOC_CACHE_DIR", str(tmp_path))
    binary = tmp_path / "telegraf-v1.37.2" / "telegraf"
    binary.parent.mkdir()
    binary.write_text("")
    assert find_telegraf() == binary


def _metric(topic: str, seq: float) -> Collected:
    doc = {"fields": {"seq": seq, "intensity": 3}, "name": "mqtt_consumer",
           "tags": {"topic": topic}, "timestamp": 1}
    return Collected(None, orjson.dumps(doc), {}, 0, 0)


def test_telegraf_metrics_are_identified_by_topic_device_and_seq() -> None:
    assert telegraf_key(_metric("ioc/v1/traffic/d-7/telemetry", 12.0)) == ("d-7", 12)
    assert telegraf_key(_metric("ioc/v1/traffic/d-7/telemetry", PROBE_SEQ)) is None
    assert telegraf_key(Collected(None, b"not json", {}, 0, 0)) is None


def test_telegraf_config_is_at_least_once_like_the_bridge() -> None:
    config = telegraf_kafka_config(Settings(), "cid", "out", ["ioc/v1/traffic/a/telemetry"])
    for line in ("qos = 1", "persistent_session = true", "max_undelivered_messages = 4000",
                 "required_acks = -1", 'topic = "out"', 'client_id = "cid"',
                 'topics = ["ioc/v1/traffic/a/telemetry"]'):
        assert line in config, line
