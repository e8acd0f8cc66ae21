"""Child processes for tests and benches: `python -m ioc …` logging to a file, polled with a
deadline, stopped with SIGTERM (or killed with SIGKILL)."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ioc.core.errors import ServiceError

__all__ = ["REPO_ROOT", "ChildProcess", "WorkerProcess", "free_port"]

# "[time] [pid] [INFO] partitions of <topic>: [0, 2]; ..." (Faust's log format)
_ASSIGNED = re.compile(r"\[(\d+)\] \[\w+\] partitions of \S+: \[([0-9, ]*)\]")

# children run from the checkout, where `.ioc/credentials.env` of `ioc services up` lives
REPO_ROOT = Path(__file__).resolve().parents[2]


# below Linux's ephemeral range (32768-60999): a port handed out by bind(0) can be taken by any
# outgoing connection before the child binds it; these can only be taken by another listener
_PORT_RANGE = (20000, 32000)


def free_port(span: int = 1) -> int:
    """A port p on 127.0.0.1 with p..p+span-1 bindable now, outside the ephemeral range."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(_PORT_RANGE[0], _PORT_RANGE[1] - span)
        if all(_bindable(port + i) for i in range(span)):
            return port
    raise ServiceError(f"no {span} adjacent free ports in {_PORT_RANGE}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_NOTABLE = re.compile(r"CRITICAL|Crashed|Traceback|Signal received|SinkFailed|Got exception|"
                      r"raised exception|storage loop error|^\w*(Error|Exception)\b")


class ChildProcess:
    """One child process with its output (stdout and stderr) appended to a log file."""

    def __init__(self, name: str, argv: Sequence[str], log_file: Path, *,
                 env: Mapping[str, str] | None = None, cwd: Path = REPO_ROOT) -> None:
        self.name, self.argv, self.log_file = name, list(argv), log_file
        self.env, self.cwd = dict(env or {}), cwd
        self.starts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, log_file: Path | None = None) -> None:
        """Start (or restart) the process; a restart may log to another file."""
        self.log_file = log_file or self.log_file
        self.starts += 1
        with self.log_file.open("ab") as out:  # the child keeps its own handle
            self._proc = subprocess.Popen(self.argv, cwd=self.cwd, env={**os.environ, **self.env},
                                          stdout=out, stderr=subprocess.STDOUT)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        """The running (or finished) process; ServiceError before the first start."""
        if self._proc is None:
            raise ServiceError(f"{self.name} was never started")
        return self._proc

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def pids(self) -> list[int]:
        """The process and its children (the members of `--processes N`), Linux only."""
        pid = self.pid
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            kids = []
        return [pid, *(int(k) for k in kids)]

    def alive(self) -> bool:
        """Whether the process has been started and is still running."""
        return self._proc is not None and self._proc.poll() is None

    def log(self, tail: int = 4000) -> str:
        """The end of the current log file (for failure messages)."""
        if not self.log_file.exists():
            return ""
        return self.log_file.read_text(errors="replace")[-tail:]

    def highlights(self, limit: int = 30) -> str:
        """The log's first lines that say why a process stopped (for failure messages): the
        tail alone is often a Kafka client's reconnect noise."""
        if not self.log_file.exists():
            return ""
        lines = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join([line for line in lines if _NOTABLE.search(line)][:limit])

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str,
                   interval: float = 0.1) -> None:
        """Poll `condition` until true; ServiceError if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self.proc.returncode} "
                                   f"while waiting for {what}")
            if time.monotonic() > deadline:
                raise ServiceError(f"{self.name}: no {what} after {timeout:.0f}s")
            time.sleep(interval)  # polling a condition with a deadline

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait up to `timeout`, then SIGKILL; the exit code (None if never run)."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self._proc.returncode

    def kill(self, timeout: float = 30.0) -> None:
        """SIGKILL, no goodbye: no shutdown, no final commit."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout)


class WorkerProcess(ChildProcess):
    """`python -m ioc worker --topic-prefix P` over a registry file (not started yet).

    Without `bucket` the worker runs `--no-influx`; `profile` runs it under cProfile,
    writing the stats there; `processes` > 1 runs `--processes N` (`pids()` lists them).
    """

    def __init__(self, prefix: str, registry: Path, log_file: Path, *,
                 bucket: str | None = None, profile: Path | None = None,
                 env: Mapping[str, str] | None = None, processes: int = 1) -> None:
        prof = ["-m", "cProfile", "-o", str(profile)] if profile else []
        argv = [sys.executable, *prof, "-m", "ioc", "worker", "--topic-prefix", prefix]
        if processes > 1:
            argv += ["--processes", str(processes)]
        extra = {"IOC_REGISTRY": str(registry), **(env or {})}
        if bucket is None:
            argv.append("--no-influx")
        else:
            extra["IOC_INFLUX_BUCKET"] = bucket
        super().__init__("worker", argv, log_file, env=extra)
        # imported here: bridge tests use this module and need not load Faust
        from ioc.processors.worker.app import WorkerTopics

        self.prefix, self.topics = prefix, WorkerTopics.prefixed(prefix)
        self.group = f"{prefix}ioc-worker"
        self.processes = processes

    def assignments(self) -> dict[int, frozenset[int]]:
        """Each worker process's latest partition assignment, by pid, from the log."""
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        latest: dict[int, frozenset[int]] = {}
        for pid, parts in _ASSIGNED.findall(text):
            latest[int(pid)] = frozenset(int(p) for p in parts.split(",") if p.strip())
        return latest

    def settled(self, partitions: int) -> bool:
        """Whether each of the `processes` holds partitions (if there are enough for all) and
        every partition is held by exactly one of them, as their logs last said."""
        held = list(self.assignments().values())
        return len(held) == self.processes and \
            sum(1 for h in held if h) == min(self.processes, partitions) and \
            sum(map(len, held)) == partitions and \
            frozenset().union(*held) == frozenset(range(partitions))

