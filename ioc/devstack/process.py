"""Detached child processes with pid files, health polling and graceful stop."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ioc.core.errors import ServiceError
from ioc.devstack.filemodes import PRIVATE_UMASK, open_private

__all__ = [
    "ServiceStatus",
    "log_tail",
    "pid_alive",
    "read_pid",
    "running_pid",
    "start_detached",
    "stop_process",
    "wait_until",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceStatus:
    """What `ioc services status` reports for one service."""

    name: str
    version: str
    address: str
    pid: int | None
    healthy: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {"name": self.name, "version": self.version, "address": self.address,
                "pid": self.pid, "healthy": self.healthy, "detail": self.detail}


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in `pid_file`, or None when absent or unreadable."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int, marker: str | None = None) -> bool:
    """True if `pid` runs (not a zombie) and its command line contains `marker`."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[0]
    if state in ("Z", "X"):
        return False
    return marker is None or marker in cmdline


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid from `pid_file` if that process still runs; stale pid files are removed."""
    pid = read_pid(pid_file)
    if pid is None:
        return None
    if pid_alive(pid, marker):
        return pid
    log.debug("removing stale pid file %s (pid %s)", pid_file, pid)
    pid_file.unlink(missing_ok=True)
    return None


def start_detached(cmd: Sequence[str], *, log_file: Path, pid_file: Path,
                   cwd: Path | None = None, env: dict[str, str] | None = None,
                   ) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own session, output appended to `log_file`, pid to `pid_file`.

    The log is private (0600) and so is everything the service creates (umask 0o077).
    """
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log.info("starting %s (log %s)", " ".join(cmd), log_file)
    with open_private(log_file) as out:
        try:
            proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd,
                                    env={**os.environ, **(env or {})},
                                    start_new_session=True, close_fds=True,
                                    umask=PRIVATE_UMASK)
        except OSError as exc:
            raise ServiceError(f"cannot start {cmd[0]}: {exc}") from exc
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def wait_until(check: Callable[[], bool], *, timeout: float, what: str,
               proc: subprocess.Popen[bytes] | None = None, log_file: Path | None = None,
               interval: float = 0.2) -> None:
    """Poll `check` until it is true; fail early if `proc` exits, or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"{what}: process exited with code {proc.returncode}"
                               f"{_log_hint(log_file)}")
        if time.monotonic() >= deadline:
            raise ServiceError(f"{what}: not healthy after {timeout:.0f}s{_log_hint(log_file)}")
        time.sleep(interval)


def _log_hint(log_file: Path | None) -> str:
    if log_file is None:
        return ""
    tail = log_tail(log_file, 15)
    return f"; see {log_file}" + (f":\n{tail}" if tail else "")


def log_tail(log_file: Path, lines: int) -> str:
    """The last `lines` lines of a log file ('' if missing)."""
    try:
        data = log_file.read_bytes()[-16384:].decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def stop_process(pid_file: Path, marker: str, *, timeout: float = 30.0) -> bool:
    """SIGTERM the process group from `pid_file`, SIGKILL after `timeout`; True if stopped."""
    pid = running_pid(pid_file, marker)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if pid_alive(pid):
        log.warning("pid %s ignored SIGTERM for %.0fs; sending SIGKILL", pid, timeout)
        _signal_group(pid, signal.SIGKILL)
        while pid_alive(pid) and time.monotonic() < deadline + 10:
            _reap(pid)
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
