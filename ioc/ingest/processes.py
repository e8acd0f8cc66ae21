"""`ioc bridge --processes N`: N bridge member processes on one machine, supervised.

Each member is `python -m ioc.ingest ... --member i/N` with its own client id (persistent
session) and status port. A member that exits unexpectedly is restarted after a backoff;
its session kept everything unacked. SIGTERM/SIGINT stop every member gracefully.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

__all__ = ["MemberSpec", "run_members"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """One member's command line."""

    index: int
    argv: tuple[str, ...]


@dataclass
class _Member:
    spec: MemberSpec
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "ioc.ingest", *self.spec.argv])
        self.started_at = time.monotonic()
        log.info("bridge member %d: started (pid %d)", self.spec.index, self.proc.pid)


def _backoff(restarts: int) -> float:
    return float(min(30, 2 ** min(restarts, 5)))


def _supervise(members: list[_Member], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        now = time.monotonic()
        for m in members:
            if m.proc is not None and m.proc.poll() is None:
                continue
            if m.proc is not None:  # just exited
                if now - m.started_at > 60:
                    m.restarts = 0  # it ran for a while: start over with a short delay
                delay = _backoff(m.restarts)
                log.error("bridge member %d exited with %s; restarting in %.0fs",
                          m.spec.index, m.proc.returncode, delay)
                m.proc, m.next_start, m.restarts = None, now + delay, m.restarts + 1
            if now >= m.next_start:
                m.start()


def _stop_all(members: list[_Member], timeout_s: float) -> int:
    running = [m.proc for m in members if m.proc is not None and m.proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    worst = 0
    for proc in running:
        try:
            worst = max(worst, abs(proc.wait(max(0.1, deadline - time.monotonic()))))
        except subprocess.TimeoutExpired:
            log.error("bridge member pid %d did not drain in %.0fs; killing", proc.pid,
                      timeout_s)
            proc.kill()
            proc.wait()
            worst = 1
    return worst


def run_members(specs: Sequence[MemberSpec], drain_timeout_s: float = 60.0) -> int:
    """Run the members until SIGTERM/SIGINT; return the worst exit code of their stop."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("bridge: %s received, stopping %d members", signal.Signals(signum).name,
                 len(specs))
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    members = [_Member(spec) for spec in specs]
    for m in members:
        m.start()
    try:
        _supervise(members, stop)
    finally:
        code = _stop_all(members, drain_timeout_s)
    return code
