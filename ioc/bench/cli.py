"""`ioc bench`: throughput and latency figures, each measured beside a baseline in one run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from ioc.core.admin_settings import load_admin_settings

__all__ = ["bench"]

_PARTS = ("contract", "detector", "worker", "worker-state", "bridge", "storage", "pipeline")


def _contract(quick: bool) -> dict[str, Any]:
    from ioc.bench.contract import run_contract_bench
    return run_contract_bench(20_000 if quick else 200_000)


def _detector(quick: bool) -> dict[str, Any]:
    from ioc.bench.detector import run_detector_bench
    return run_detector_bench(20_000 if quick else 200_000)


def _worker(quick: bool) -> dict[str, Any]:
    from ioc.bench.worker import run_worker_bench
    return run_worker_bench(load_admin_settings(), 10_000 if quick else 100_000,
                            progress=lambda text: click.echo(f"  {text}", err=True))


def _worker_state(quick: bool) -> dict[str, Any]:
    from ioc.bench.worker_state import run_worker_state_bench
    return run_worker_state_bench(load_admin_settings(), 20_000 if quick else 40_000,
                                  runs=1 if quick else 3,
                                  progress=lambda text: click.echo(f"  {text}", err=True))


def _bridge(quick: bool) -> dict[str, Any]:
    from ioc.bench.bridge import run_bridge_bench
    return run_bridge_bench(load_admin_settings(), 10_000 if quick else 100_000,
                            progress=lambda text: click.echo(f"  {text}", err=True))


def _storage(quick: bool) -> dict[str, Any]:
    from ioc.bench.storage import run_storage_bench
    return run_storage_bench(load_admin_settings(), 10_000 if quick else 100_000,
                             progress=lambda text: click.echo(f"  {text}", err=True))


def _pipeline(quick: bool) -> dict[str, Any]:
    from ioc.bench.pipeline import run_pipeline_bench
    return run_pipeline_bench(load_admin_settings(), rate=2000, seconds=5 if quick else 20,
                              progress=lambda text: click.echo(f"  {text}", err=True))


_RUNNERS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "contract": _contract, "detector": _detector, "worker": _worker,
    "worker-state": _worker_state, "bridge": _bridge,
    "storage": _storage, "pipeline": _pipeline}


@click.command()
@click.option("--only", default=",".join(_PARTS), show_default=True,
              help="Comma-separated parts to run: " + ", ".join(_PARTS) + ".")
@click.option("--quick", is_flag=True, help="Smaller runs (a smoke test of the bench).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
def bench(only: str, quick: bool, as_json: bool) -> None:
    """Measure the pipeline on this machine, each figure beside a baseline from the same run.

    contract: parse_telemetry vs JSON decode alone. detector: readings/s and per-reading
    latency of all rules. worker: readings/s through the Faust worker vs a plain Kafka
    consumer (needs the services). worker-state: the worker bench with rule-state
    checkpoints and without (--no-state), interleaved, 3 rounds (needs the services).
    bridge: MQTT → bridge → Kafka vs kafka-python producing directly (needs the services).
    storage: Kafka → InfluxDB writer vs writing the same readings
    straight to InfluxDB (needs the services). pipeline: publish-to-alert latency at
    2,000 readings/s through Mosquitto, the bridge, Kafka and a worker (needs the services).
    """
    parts = [p.strip() for p in only.split(",") if p.strip()]
    unknown = set(parts) - set(_PARTS)
    if unknown:
        raise click.BadParameter(f"unknown part(s): {', '.join(sorted(unknown))}",
                                 param_hint="--only")
    results: dict[str, Any] = {}
    for part in parts:
        click.echo(f"[{part}] running…", err=True)
        try:
            results[part] = _RUNNERS[part](quick)
        except ImportError as exc:
            results[part] = {"skipped": f"not available: {exc}"}
        if not as_json:
            click.echo(f"[{part}]")
            for key, value in results[part].items():
                click.echo(f"  {key:<34} {value}")
    if as_json:
        click.echo(json.dumps(results, indent=2))
