"""A daemon thread that polls something on an interval until stopped (bench samplers)."""

from __future__ import annotations

import threading

__all__ = ["Periodic"]


class Periodic:
    """Calls `poll()` on a daemon thread: once at `start()`, next after `first_s` (default
    `every_s`), then every `every_s` until `halt()`."""

    def __init__(self, name: str, every_s: float, first_s: float | None = None) -> None:
        self._every_s = every_s
        self._first_s = every_s if first_s is None else first_s
        self._halted = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def poll(self) -> None:
        """One poll; subclasses say what it does."""
        raise NotImplementedError

    def start(self) -> None:
        """Poll now and keep polling."""
        self._thread.start()

    def halt(self, timeout_s: float | None = None) -> None:
        """Stop polling and wait up to `timeout_s` (None: as long as it takes) for a poll
        in progress."""
        self._halted.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        wait = self._first_s
        while True:
            self.poll()
            if self._halted.wait(wait):
                return
            wait = self._every_s
