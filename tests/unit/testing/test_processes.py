"""The one child-process helper: start, poll with a deadline, stop, kill, restart."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from ioc.core.errors import ServiceError
from ioc.testing.processes import ChildProcess, WorkerProcess, free_port

# a child that says it is ready, then waits; SIGTERM ends it with code 3
_SERVE = ("import signal, sys, time\n"
          "signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n"
          "print('ready', flush=True)\n"
          "time.sleep(60)\n")


def _child(tmp_path: Path, code: str, log: str = "child.log") -> ChildProcess:
    return ChildProcess("child", [sys.executable, "-c", code], tmp_path / log,
                        env={"IOC_TEST_MARK": "x"})


def test_start_wait_until_ready_and_stop(tmp_path: Path) -> None:
    child = _child(tmp_path, _SERVE)
    assert not child.alive() and child.stop() is None
    child.start()
    child.wait_until(lambda: "ready" in child.log(), timeout=30, what="ready line",
                     interval=0.02)
    assert child.alive()
    assert child.stop(10) == 3
    assert not child.alive()


def test_wait_until_reports_an_exit(tmp_path: Path) -> None:
    child = _child(tmp_path, "import sys; print('bye'); sys.exit(5)")
    child.start()
    with pytest.raises(ServiceError, match="exited with 5"):
        child.wait_until(lambda: False, timeout=30, what="nothing", interval=0.02)
    assert "bye" in child.log()


def test_wait_until_gives_up_at_the_deadline(tmp_path: Path) -> None:
    child = _child(tmp_path, _SERVE)
    child.start()
    try:
        with pytest.raises(ServiceError, match="no never after"):
            child.wait_until(lambda: False, timeout=0.2, what="never", interval=0.02)
    finally:
        child.stop(10)


def test_kill_is_sigkill_and_a_restart_logs_elsewhere(tmp_path: Path) -> None:
    child = _child(tmp_path, "import os; print(os.environ['IOC_TEST_MARK']); " + _SERVE)
    child.start()
    child.wait_until(lambda: "ready" in child.log(), timeout=30, what="ready line")
    child.kill()
    assert child.proc.returncode == -signal.SIGKILL
    child.start(tmp_path / "second.log")
    child.wait_until(lambda: "ready" in child.log(), timeout=30, what="ready line")
    assert child.starts == 2 and child.log_file.name == "second.log"
    assert child.log().startswith("x\n")
    child.stop(10)


def test_worker_command_line(tmp_path: Path) -> None:
    plain = WorkerProcess("p.", tmp_path / "devices.yaml", tmp_path / "w.log")
    assert plain.argv[1:] == ["-m", "ioc", "worker", "--topic-prefix", "p.", "--no-influx"]
    assert plain.env == {"IOC_REGISTRY": str(tmp_path / "devices.yaml")}
    assert (plain.group, plain.topics.telemetry) == ("p.ioc-worker", "p.ioc.telemetry")
    stored = WorkerProcess("p.", tmp_path / "d.yaml", tmp_path / "w.log", bucket="b",
                           profile=tmp_path / "w.prof")
    assert stored.argv[1:4] == ["-m", "cProfile", "-o"] and "--no-influx" not in stored.argv
    assert stored.env["IOC_INFLUX_BUCKET"] == "b"
    assert 0 < free_port() < 65536


def test_worker_assignments_are_read_per_process_from_the_shared_log(tmp_path: Path) -> None:
    w = WorkerProcess("p-", tmp_path / "devices.yaml", tmp_path / "w.log", processes=2)
    assert w.assignments() == {} and not w.settled(4)
    line = "[2026-12-01 17:36:26,909] [{}] [INFO] partitions of p-ioc.worker-owned: [{}]; lost\n"
    w.log_file.write_text(line.format(11, "0, 1, 2, 3") + line.format(12, ""))
    assert w.assignments() == {11: frozenset({0, 1, 2, 3}), 12: frozenset()}
    assert not w.settled(4)  # one member holds nothing
    with w.log_file.open("a") as fh:
        fh.write(line.format(11, "1, 3") + line.format(12, "0, 2"))
    assert w.settled(4) and not w.settled(5)
    with w.log_file.open("a") as fh:
        fh.write(line.format(12, "0, 2, 3"))  # 3 held twice
    assert not w.settled(4)
    assert WorkerProcess("p-", tmp_path / "d.yaml", tmp_path / "w.log").processes == 1
