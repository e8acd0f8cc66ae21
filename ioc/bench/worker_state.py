"""What checkpointing rule state costs the worker: the worker bench with and without it,
interleaved in one run (the machine is shared), min/median/max of each figure."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ioc.bench.worker import run_worker_bench
from ioc.core.settings import Settings

__all__ = ["VARIANTS", "run_worker_state_bench"]

# variant -> extra `ioc worker` arguments
VARIANTS: Mapping[str, Sequence[str]] = {"memory_only": ("--no-state",), "checkpointed": ()}
_FIGURES = ("worker_drain_cpu_us_per_reading", "worker_readings_per_s")


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def run_worker_state_bench(settings: Settings, n: int = 40_000, runs: int = 3,
                           variants: Mapping[str, Sequence[str]] = VARIANTS,
                           progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """`runs` rounds of the worker bench, each variant once per round (A, B, A, B, ...)."""
    say = progress or (lambda text: None)
    seen: dict[str, dict[str, list[float]]] = {v: {f: [] for f in _FIGURES} for v in variants}
    for round_no in range(1, runs + 1):
        for name, args in variants.items():
            say(f"round {round_no}/{runs}: {name}")
            result = run_worker_bench(settings, n, worker_args=args)
            for figure in _FIGURES:
                if isinstance(result.get(figure), int | float):
                    seen[name][figure].append(float(result[figure]))
    out: dict[str, Any] = {"readings_per_run": n, "runs": runs}
    for name, figures in seen.items():
        for figure, values in figures.items():
            if values:
                out[f"{name}.{figure}"] = _spread(values)
    return out
