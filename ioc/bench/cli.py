"""`ioc bench`: throughput and latency figures, each measured beside a baseline in one run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ioc.core.admin_settings import load_admin_settings

if TYPE_CHECKING:
    from ioc.bench.soak import SoakResult

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


@click.group(invoke_without_command=True)
@click.option("--only", default=",".join(_PARTS), show_default=True,
              help="Comma-separated parts to run: " + ", ".join(_PARTS) + ".")
@click.option("--quick", is_flag=True, help="Smaller runs (a smoke test of the bench).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@click.pass_context
def bench(ctx: click.Context, only: str, quick: bool, as_json: bool) -> None:
    """Measure the pipeline on this machine, each figure beside a baseline from the same run.

    `ioc bench soak` runs the pipeline for minutes instead and checks it loses nothing.

    contract: parse_telemetry vs JSON decode alone. detector: readings/s and per-reading
    latency of all rules. worker: readings/s through the Faust worker vs a plain Kafka
    consumer (needs the services). worker-state: the worker bench with rule-state
    checkpoints and without (--no-state), interleaved, 3 rounds (needs the services).
    bridge: MQTT → bridge → Kafka vs kafka-python producing directly (needs the services).
    storage: Kafka → InfluxDB writer vs writing the same readings
    straight to InfluxDB (needs the services). pipeline: publish-to-alert latency at
    2,000 readings/s through Mosquitto, the bridge, Kafka and a worker (needs the services).
    """
    if ctx.invoked_subcommand is not None:
        return
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


@bench.command()
@click.option("--minutes", type=click.FloatRange(min=0.05), default=30.0, show_default=True,
              help="How long to publish.")
@click.option("--rate", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Readings per second.")
@click.option("--devices", type=click.IntRange(min=1), default=None,
              help="Drainage sensors publishing in turn [default: one per reading/s, "
                   "at most 5,000].")
@click.option("--sample-s", type=click.FloatRange(min=0.5), default=10.0, show_default=True,
              help="Seconds between two RSS samples of each process.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
def soak(minutes: float, rate: int, devices: int | None, sample_s: float,
         as_json: bool) -> None:
    """Publisher → Mosquitto → bridge → Kafka → worker + storage → InfluxDB at a steady rate.

    Afterwards every reading is counted in Kafka and in InfluxDB, and the RSS of each
    process (sampled every --sample-s) is summarised: min/median/max and its slope after
    the first fifth of the run. Exits 1 if a reading was lost or stored more than once.
    Needs the services (`ioc services up`).
    """
    from ioc.bench.soak import run_soak

    result = run_soak(load_admin_settings(), minutes, rate, devices, sample_s,
                      say=lambda text: click.echo(f"  {text}", err=True))
    if as_json:
        doc = dataclasses.asdict(result)
        doc.update(lost=result.lost, lost_in_kafka=result.lost_in_kafka,
                   lost_in_influx=result.lost_in_influx, ok=result.ok)
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(_soak_report(result))
    if not result.ok:
        raise SystemExit(1)


def _soak_report(r: SoakResult) -> str:
    from ioc.bench.rss import format_table

    lines = [f"soak: {r.minutes:g} min at {r.rate}/s (achieved {r.achieved_rate}/s) from "
             f"{r.devices} devices",
             f"  published {r.published}, acknowledged by Mosquitto {r.acked}",
             f"  Kafka: {r.kafka_distinct} distinct readings ({r.kafka_duplicates} duplicate "
             f"records), lost {r.lost_in_kafka}",
             f"  InfluxDB: {r.influx_points} points, lost {r.lost_in_influx}, stored more than "
             f"once {r.influx_extra}",
             f"  alert records {r.alert_records}; drained {r.drain_s:.0f} s after publishing",
             f"  LOST: {r.lost}" + ("" if r.ok else "  (FAILED)"), "",
             "RSS per process (sampled; slope after the first fifth of the run):",
             format_table(r.rss)]
    return "\n".join(lines)
