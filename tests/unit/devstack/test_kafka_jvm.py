"""The broker runs with the GC settings of Kafka's own launch scripts and logs its pauses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ioc.devstack import kafka


def test_the_broker_gets_one_collector_a_pause_target_and_a_gc_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    paths = kafka._paths(tmp_path)
    cmd = kafka.broker_command(tmp_path / "libs", paths)
    collectors = [a for a in cmd if a.startswith("-XX:+Use") and a.endswith("GC")]
    assert collectors == ["-XX:+UseG1GC"]  # two would make the JVM refuse to start
    assert "-XX:MaxGCPauseMillis=20" in cmd  # G1's own default aims at 200 ms
    # a fixed heap: with 256 MiB to start, 35 % occupancy kept G1's marking running
    assert {"-Xmx1g", "-Xms1g"} <= set(cmd)
    gc_log = [a for a in cmd if a.startswith("-Xlog:gc:")]
    assert gc_log == [f"-Xlog:gc:file={tmp_path}/logs/kafka-gc.log:time,uptime,level:"
                      "filecount=5,filesize=10m"]
    # the `time` decorator is what the soak reads the pauses of its window by
    assert cmd[-2:] == [kafka.MAIN_CLASS, str(paths["props"])]
