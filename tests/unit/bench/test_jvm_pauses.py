"""The soak's reading of Kafka's GC log: only stop-the-world pauses, only in the window."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ioc.bench.jvm_pauses import Pauses, pauses_between, read_pauses

_LOG = """\
[2026-12-03T18:48:46.472+0000][0.008s][info] Using G1
[2026-12-03T18:48:46.966+0000][0.502s][info] GC(0) Pause Young (Normal) 9.148ms
[2026-12-03T18:50:07.691+0000][81.227s][info] GC(46) Pause Remark 171M->171M(341M) 15.097ms
[2026-12-03T18:50:07.719+0000][81.254s][info] GC(46) Concurrent Mark Cycle 110.095ms
[2026-12-03T18:50:09.000+0000][82.500s][info] GC(47) Pause Young (Normal) 294M->187M(339M) 51.561ms
[2026-12-03T18:52:00.000+0000][190.0s][info] GC(48) Pause Young (Normal) 294M->187M(339M) 99.000ms
[91.0s][info] GC(49) Pause Young (Normal) 294M->187M(339M) 500.000ms
"""


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def test_counts_the_pauses_written_in_the_window_only() -> None:
    found = pauses_between(_LOG.splitlines(), _epoch("2026-12-03T18:50:00+00:00"),
                           _epoch("2026-12-03T18:51:00+00:00"))
    # the remark and the young pause; not the concurrent cycle (the broker kept serving),
    # not the pauses before or after, not a line without a wall-clock time
    assert found == Pauses(2, 66.7, 51.561)
    assert found.line() == "2 GC pause(s), 67 ms in all, the longest 51.6 ms"


def test_an_empty_window_says_so() -> None:
    found = pauses_between(_LOG.splitlines(), 0.0, 1.0)
    assert found == Pauses(0, 0.0, 0.0)
    assert found.line() == "no GC pause logged"


def test_reads_the_rotated_files_too(tmp_path: Path) -> None:
    lines = _LOG.splitlines(keepends=True)
    (tmp_path / "kafka-gc.log").write_text("".join(lines[4:6]))
    (tmp_path / "kafka-gc.log.0").write_text("".join(lines[:4]))
    found = read_pauses(tmp_path / "kafka-gc.log", 0.0, _epoch("2026-12-04T00:00:00+00:00"))
    assert found is not None
    assert (found.count, found.max_ms) == (4, 99.0)


def test_no_log_is_none_not_zero_pauses(tmp_path: Path) -> None:
    # a broker started some other way: the soak claims nothing about its pauses
    assert read_pauses(tmp_path / "kafka-gc.log", 0.0, 2e9) is None
