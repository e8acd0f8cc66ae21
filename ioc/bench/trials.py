"""Repeating a bench part and summarising it: min/median/max of every figure across runs, and
the count problems (missing, duplicated) that fail the part."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["PROBLEMS", "PartResult", "Spread", "flatten", "run_trials"]

# A part's result may list, under this key, what its own counts found wrong.
PROBLEMS: Final = "problems"


@dataclass(frozen=True, slots=True)
class Spread:
    """One figure over the runs."""

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of at least one value."""
        return cls(min(values), statistics.median(values), max(values))

    def __str__(self) -> str:
        if self.min == self.max:
            return _num(self.min)
        return f"{_num(self.min)} / {_num(self.median)} / {_num(self.max)}  (min/median/max)"

    def as_dict(self) -> dict[str, float]:
        """{"min", "median", "max"}."""
        return {"min": self.min, "median": self.median, "max": self.max}


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


@dataclass(frozen=True, slots=True)
class PartResult:
    """Every run's figures of one part: numbers spread, other values from the first run."""

    runs: int
    figures: dict[str, Spread] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def ok(self) -> bool:
        """No run found a missing or duplicated record."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: facts, figures as {min, median, max}, problems, ok."""
        return {"runs": self.runs, "load_average_1_5_15": list(self.load_average),
                **self.facts, **{k: v.as_dict() for k, v in self.figures.items()},
                PROBLEMS: list(self.problems), "ok": self.ok}

    def lines(self) -> list[str]:
        """Human-readable lines."""
        out = [f"  {'runs':<40} {self.runs}",
               f"  {'load average (1/5/15 min)':<40} "
               + " ".join(f"{x:.2f}" for x in self.load_average)]
        out += [f"  {k:<40} {v}" for k, v in self.facts.items()]
        out += [f"  {k:<40} {v}" for k, v in self.figures.items()]
        out += [f"  FAILED: {p}" for p in self.problems]
        return out


def flatten(result: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted keys (`publish_to_alert.p99_ms`)."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, Mapping) and set(value) == {"min", "median", "max"}:
            out[f"{prefix}{key}"] = Spread(value["min"], value["median"], value["max"])
        elif isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def summarise(results: Sequence[Mapping[str, Any]]) -> PartResult:
    """Numbers that vary between runs become spreads; the rest are facts of the first run."""
    flat = [flatten({k: v for k, v in r.items() if k != PROBLEMS}) for r in results]
    problems = tuple(f"run {i}: {p}" if len(results) > 1 else str(p)
                     for i, r in enumerate(results, 1) for p in r.get(PROBLEMS, ()))
    figures: dict[str, Spread] = {}
    facts: dict[str, Any] = {}
    for key, first in flat[0].items():
        values = [f.get(key) for f in flat]
        if isinstance(first, Spread) and len(flat) == 1:
            figures[key] = first  # a part that repeated itself
        elif all(_is_number(v) for v in values) and len(set(values)) > 1:
            figures[key] = Spread.of([float(v) for v in values])  # type: ignore[arg-type]
        elif _is_number(first) and (key.endswith(("_per_s", "_s", "_ms", "_us")) or "ratio" in key):
            figures[key] = Spread.of([float(first)])
        else:
            facts[key] = first
    return PartResult(len(results), figures, facts, problems, os.getloadavg())


def run_trials(measure: Callable[[], Mapping[str, Any]], runs: int,
               say: Callable[[str], None] | None = None) -> PartResult:
    """Run `measure` `runs` times (each run is complete: its own topics, its own counts)."""
    results = []
    for i in range(1, runs + 1):
        if say is not None and runs > 1:
            say(f"run {i}/{runs}")
        results.append(measure())
    return summarise(results)
