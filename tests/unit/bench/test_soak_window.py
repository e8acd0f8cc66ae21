"""The soak's kept-up rate: committed readings per second between two marks."""

from __future__ import annotations

import threading

from ioc.bench.soak_window import CommitMarks


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_committed_readings_per_second_between_the_first_and_last_mark() -> None:
    clock = Clock()
    sums = iter([(1_000, 900), (300_000, 250_000), (601_000, 540_900)])
    marks = CommitMarks(lambda: next(sums), clock)
    marks.mark()
    assert marks.rates(5.0) is None  # one mark is no interval
    clock.now += 30.0
    marks.mark()
    clock.now += 30.0
    marks.mark()
    # worker 600,000 in 60 s; storage 540,000: a backlog grew behind it
    assert marks.rates(5.0) == (10_000.0, 9_000.0)


def test_a_failed_read_gives_no_rate_rather_than_a_wrong_one() -> None:
    clock = Clock()
    answers: list[BaseException | tuple[int, int]] = [(0, 0), ConnectionError("broker away")]

    def read() -> tuple[int, int]:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    marks = CommitMarks(read, clock)
    marks.mark()
    clock.now += 60.0
    marks.mark()
    assert marks.rates(5.0) is None


def test_mark_returns_before_the_read_does() -> None:
    release = threading.Event()
    calls: list[int] = []

    def slow_read() -> tuple[int]:
        release.wait(10.0)
        calls.append(1)
        return (len(calls) * 500,)

    clock = Clock()
    marks = CommitMarks(slow_read, clock)
    marks.mark()  # would block the publishing loop if it read inline
    assert calls == []
    release.set()
    assert marks.rates(5.0) is None and calls == [1]  # rates() waits for the reads
    clock.now += 1.0
    marks.mark()
    assert marks.rates(5.0) == (500.0,)
