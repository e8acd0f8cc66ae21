"""Bench honesty without services: spreads over runs, count problems, the exit code."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from ioc.bench import cli as bench_cli
from ioc.bench.drain import count_problems
from ioc.bench.trials import PROBLEMS, Spread, run_trials, summarise


def test_varying_numbers_become_min_median_max_and_constants_stay_facts() -> None:
    result = summarise([{"messages": 10, "rate_per_s": 5.0, "mode": "x"},
                        {"messages": 10, "rate_per_s": 9.0, "mode": "x"},
                        {"messages": 10, "rate_per_s": 6.0, "mode": "x"}])
    assert result.runs == 3 and result.ok
    assert result.figures["rate_per_s"] == Spread(5.0, 6.0, 9.0)
    assert result.facts == {"messages": 10, "mode": "x"}
    assert result.as_dict()["rate_per_s"] == {"min": 5.0, "median": 6.0, "max": 9.0}


def test_nested_figures_are_flattened() -> None:
    result = summarise([{"alert": {"p99_ms": 4.0}}, {"alert": {"p99_ms": 8.0}}])
    assert result.figures["alert.p99_ms"] == Spread(4.0, 6.0, 8.0)


def test_a_problem_in_any_run_fails_the_part() -> None:
    runs = iter([{"rate_per_s": 1.0, PROBLEMS: []}, {"rate_per_s": 2.0, PROBLEMS: ["3 missing"]}])
    result = run_trials(lambda: next(runs), 2)
    assert not result.ok
    assert result.problems == ("run 2: 3 missing",)
    assert any("FAILED: run 2: 3 missing" in line for line in result.lines())


def test_counts_find_missing_duplicated_and_stray_records() -> None:
    expected = {("d1", 0), ("d1", 1), ("d2", 0)}
    missing, duplicates, problems = count_problems(
        [("d1", 0), ("d1", 0), ("d2", 0), ("d9", 5), None], expected)
    assert (missing, duplicates) == (1, 1)
    assert problems == ["1 of 3 messages missing", "1 duplicate records",
                        "1 records that were never published"]
    assert count_problems([("d1", 0), ("d1", 1), ("d2", 0)], expected) == (0, 0, [])


@pytest.mark.parametrize(("problems", "code"), [([], 0), (["7 of 10 messages missing"], 1)])
def test_bench_exits_1_when_a_part_lost_records(monkeypatch: pytest.MonkeyPatch,
                                                 problems: list[str], code: int) -> None:
    calls: list[bool] = []

    def fake(quick: bool) -> dict[str, Any]:
        calls.append(quick)
        return {"rate_per_s": 100.0 + len(calls), PROBLEMS: problems}

    monkeypatch.setitem(bench_cli._RUNNERS, "contract", fake)
    out = CliRunner().invoke(bench_cli.bench, ["--only", "contract", "--runs", "3"])
    assert out.exit_code == code, out.output
    assert len(calls) == 3
    assert "101 / 102 / 103  (min/median/max)" in out.output
    assert ("FAILED" in out.output) == bool(problems)
