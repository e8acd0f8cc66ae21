"""The soak's crossing schedule: whole 3-reading crossings, none inside the warm-up."""

from __future__ import annotations

import pytest

from ioc.bench.soak_load import crossing


@pytest.mark.parametrize("warm_seq", [0, 5, 17])
def test_no_reading_crosses_during_the_warm_up_and_each_crossing_is_whole(warm_seq: int) -> None:
    for device in range(300):
        highs = {seq for seq in range(1200) if crossing(seq, device, warm_seq)}
        assert highs and min(highs) >= warm_seq, (device, sorted(highs))
        # 3 consecutive readings per crossing, never a crossing cut short by the warm-up
        starts = {seq for seq in highs if seq - 1 not in highs}
        for start in starts:
            assert all(crossing(start + k, device, warm_seq) for k in range(3)), (device, start)
            assert not crossing(start + 3, device, warm_seq), (device, start)
            assert start < warm_seq + 600 or start - 600 in starts, (device, start)


def test_the_warm_up_only_removes_the_crossings_that_would_start_inside_it() -> None:
    cold = {(d, s) for d in range(600) for s in range(60) if crossing(s, d, 0)}
    warm = {(d, s) for d in range(600) for s in range(60) if crossing(s, d, 5)}
    assert warm < cold
    starts = {d: min(s for dd, s in cold if dd == d) for d, _ in cold}
    assert {d for d, _ in warm} == {d for d, s0 in starts.items() if s0 >= 5}
