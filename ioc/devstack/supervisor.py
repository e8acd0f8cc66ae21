"""Run the pipeline's long-lived processes (bridge, worker, simulator) and keep them up."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ioc.devstack.filemodes import PRIVATE_UMASK, open_private

__all__ = ["ManagedProcess", "ProcessSpec", "Supervisor"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One pipeline process: a name, its full argv and where its log goes."""

    name: str
    argv: tuple[str, ...]
    log_file: Path


@dataclass(slots=True)
class ManagedProcess:
    """A started process and its restart bookkeeping."""

    spec: ProcessSpec
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)


class Supervisor:
    """Starts processes, restarts any that die (with backoff) and stops them all."""

    def __init__(self, specs: Sequence[ProcessSpec], max_restarts: int = 20,
                 backoff_s: float = 2.0) -> None:
        self._procs = [ManagedProcess(spec) for spec in specs]
        self._max_restarts = max_restarts
        self._backoff_s = backoff_s

    @property
    def processes(self) -> list[ManagedProcess]:
        """The managed processes, in start order."""
        return self._procs

    def start(self) -> None:
        """Start every process."""
        for proc in self._procs:
            self._spawn(proc)

    def _spawn(self, proc: ManagedProcess) -> None:
        # private log (0600), and what the process writes is private too (umask 0o077)
        with open_private(proc.spec.log_file) as log:
            proc.popen = subprocess.Popen(
                list(proc.spec.argv),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=os.environ.copy(), umask=PRIVATE_UMASK)
        proc.started_at = time.monotonic()
        logger.info("started %s (pid %s)", proc.spec.name, proc.popen.pid)

    def check(self) -> list[str]:
        """Restart processes that exited; return the names restarted."""
        restarted = []
        for proc in self._procs:
            if proc.popen is None or proc.popen.poll() is None:
                continue
            code = proc.popen.returncode
            if proc.restarts >= self._max_restarts:
                continue
            # A process that dies at once again and again is backed off, not spun.
            if time.monotonic() - proc.started_at < self._backoff_s * (1 + proc.restarts):
                continue
            logger.warning("%s exited with %s; restarting", proc.spec.name, code)
            proc.restarts += 1
            self._spawn(proc)
            restarted.append(proc.spec.name)
        return restarted

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every process (newest first), then SIGKILL what is left after timeout."""
        alive = [p.popen for p in reversed(self._procs) if p.popen and p.popen.poll() is None]
        for popen in alive:
            os.killpg(popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for popen in alive:
            try:
                popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()
