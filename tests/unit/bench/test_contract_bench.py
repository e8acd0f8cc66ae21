"""The contract bench measures every path on a feed they all accept."""

from __future__ import annotations

from ioc.bench.contract import run_contract_bench
from ioc.bench.trials import PROBLEMS


def test_every_path_accepts_the_whole_feed() -> None:
    report = run_contract_bench(300)
    assert report["accepted"] == report["messages"] == 300
    assert report[PROBLEMS] == []
    for key in ("parse_telemetry_msgs_per_s", "record_telemetry_json_msgs_per_s",
                "baseline_record_via_model_msgs_per_s", "baseline_json_decode_msgs_per_s"):
        assert report[key] > 0, key
