"""The pipeline bench's wait for alerts: every crossing's device needs its own flood.level
alert; a ward's alert or the warm-up probe's must not stand in for a missing one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson

from ioc.bench.loadgen import Collected
from ioc.bench.pipeline import _alerted, _all_alerted


class _Records:
    """What `_alerted` reads of a Collector: records by topic."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.records: dict[str, list[Collected]] = defaultdict(list)
        for i, doc in enumerate(docs):
            self.records["alerts"].append(Collected(None, orjson.dumps(doc), {}, 0, i))


def test_only_flood_level_alerts_count_for_their_device() -> None:
    records = _Records([
        {"rule": "flood.level", "alertSource": "probe"},
        {"rule": "flood.localized", "alertSource": "ward:tan-phu"},
        {"rule": "flood.level", "alertSource": "d1"},
        {"rule": "flood.rising", "alertSource": "d2"},
    ])
    alerted = _alerted(records, "alerts")  # type: ignore[arg-type]
    assert alerted == {"probe", "d1"}
    # as many devices alerted as crossed, yet d2's flood.level alert is missing
    assert len(alerted) == len(["d1", "d2"])
    assert not _all_alerted(records, "alerts", ["d1", "d2"])  # type: ignore[arg-type]
    assert _all_alerted(records, "alerts", ["d1"])  # type: ignore[arg-type]
