"""The city's clock: the fixed UTC+7 hot loops use must agree with the real zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ioc.core.city import TZ, TZ_FIXED, UTC_OFFSET_S


@pytest.mark.parametrize("year", [1976, 2000, 2026, 2099])
@pytest.mark.parametrize("month", [1, 4, 7, 10])
def test_fixed_offset_matches_the_zone(year: int, month: int) -> None:
    when = datetime(year, month, 15, 12, tzinfo=UTC)
    assert when.astimezone(TZ).utcoffset() == when.astimezone(TZ_FIXED).utcoffset()
    assert when.astimezone(TZ).isoformat() == when.astimezone(TZ_FIXED).isoformat()
    assert TZ_FIXED.utcoffset(None).total_seconds() == UTC_OFFSET_S
