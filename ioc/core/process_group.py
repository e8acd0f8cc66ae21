"""N member processes of one command on this machine, supervised: a member that exits
unexpectedly is restarted after a backoff; SIGTERM/SIGINT stop every member gracefully.

The members split the work among themselves (Kafka consumer groups, disjoint MQTT
sessions); this module only keeps them running. `ioc worker --processes N` uses it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

__all__ = ["Member", "backoff_s", "run_group"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Member:
    """One member's full command line."""

    index: int
    argv: tuple[str, ...]


@dataclass
class _Running:
    spec: Member
    name: str
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0

    def start(self) -> None:
        self.proc = subprocess.Popen(list(self.spec.argv))
        self.started_at = time.monotonic()
        log.info("%s member %d: started (pid %d)", self.name, self.spec.index, self.proc.pid)


def backoff_s(restarts: int) -> float:
    """Seconds before the next start of a member that exited `restarts` times in a row."""
    return float(min(30, 2 ** min(restarts, 5)))


def _supervise(members: list[_Running], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        now = time.monotonic()
        for m in members:
            if m.proc is not None and m.proc.poll() is None:
                continue
            if m.proc is not None:  # just exited
                if now - m.started_at > 60:
                    m.restarts = 0  # it ran for a while: start over with a short delay
                delay = backoff_s(m.restarts)
                log.error("%s member %d exited with %s; restarting in %.0fs", m.name,
                          m.spec.index, m.proc.returncode, delay)
                m.proc, m.next_start, m.restarts = None, now + delay, m.restarts + 1
            if now >= m.next_start:
                m.start()


def _stop_all(members: list[_Running], timeout_s: float) -> int:
    running = [m.proc for m in members if m.proc is not None and m.proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    worst = 0
    for proc in running:
        try:
            worst = max(worst, abs(proc.wait(max(0.1, deadline - time.monotonic()))))
        except subprocess.TimeoutExpired:
            log.error("member pid %d did not stop in %.0fs; killing", proc.pid, timeout_s)
            proc.kill()
            proc.wait()
            worst = 1
    return worst


def run_group(name: str, members: Sequence[Member], stop_timeout_s: float = 60.0) -> int:
    """Run the members until SIGTERM/SIGINT; return the worst exit code of their stop."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s: %s received, stopping %d members", name, signal.Signals(signum).name,
                 len(members))
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running = [_Running(spec, name) for spec in members]
    for m in running:
        m.start()
    try:
        _supervise(running, stop)
    finally:
        code = _stop_all(running, stop_timeout_s)
    return code
