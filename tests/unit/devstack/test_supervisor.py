"""The process supervisor behind `ioc up`: restarts what dies, stops what runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from ioc.devstack.supervisor import ProcessSpec, Supervisor

SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")
QUITTER = (sys.executable, "-c", "print('bye')")


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_process_that_exits_is_restarted_and_logged(tmp_path: Path) -> None:
    log = tmp_path / "quitter.log"
    sup = Supervisor([ProcessSpec("quitter", QUITTER, log)], max_restarts=2, backoff_s=0.0)
    sup.start()
    proc = sup.processes[0]
    assert proc.popen is not None
    assert _until(lambda: proc.popen is not None and proc.popen.poll() is not None)
    assert sup.check() == ["quitter"]
    assert _until(lambda: proc.popen is not None and proc.popen.poll() is not None)
    assert sup.check() == ["quitter"]
    assert _until(lambda: proc.popen is not None and proc.popen.poll() is not None)
    assert sup.check() == []  # max_restarts reached: no endless respawning
    assert _until(lambda: log.read_text().count("bye") == 3)


def test_stop_ends_running_processes(tmp_path: Path) -> None:
    sup = Supervisor([ProcessSpec(f"s{i}", SLEEPER, tmp_path / f"s{i}.log") for i in range(2)])
    sup.start()
    assert sup.check() == []  # both alive, nothing restarted
    sup.stop(timeout=5)
    assert all(p.popen is not None and p.popen.poll() is not None for p in sup.processes)
