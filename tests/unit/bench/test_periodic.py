"""`Periodic`: a poll at start, the next after `first_s`, then every `every_s` until halted."""

from __future__ import annotations

import threading
import time

from ioc.bench.periodic import Periodic


class _Counting(Periodic):
    def __init__(self, every_s: float, first_s: float | None) -> None:
        super().__init__("counting", every_s, first_s)
        self.polls = 0
        self.second = threading.Event()

    def poll(self) -> None:
        self.polls += 1
        if self.polls == 2:
            self.second.set()


def test_the_second_poll_follows_after_first_s_and_halt_ends_the_wait() -> None:
    p = _Counting(every_s=3600, first_s=0)
    p.start()
    assert p.second.wait(5)  # with first_s=0 the next poll does not wait an hour
    p.halt(5)  # ends the hour's wait at once
    assert not p._thread.is_alive()
    assert p.polls == 2


def test_without_first_s_the_second_poll_waits_every_s() -> None:
    p = _Counting(every_s=3600, first_s=None)
    p.start()
    deadline = time.monotonic() + 5
    while p.polls < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the condition, with a deadline
    p.halt(5)
    assert not p._thread.is_alive()
    assert p.polls == 1
