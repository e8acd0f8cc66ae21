"""`ioc bench`: throughput and latency figures, each measured beside a baseline in one run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import click

from ioc.core.admin_settings import load_admin_settings
from ioc.core.errors import IocError

if TYPE_CHECKING:
    from ioc.bench.soak import SoakResult
    from ioc.bench.trials import PartResult

__all__ = ["bench"]

_PARTS = ("contract", "detector", "worker", "worker-state", "bridge", "storage", "pipeline",
          "acl", "peer")
_DEFAULT_PARTS = tuple(p for p in _PARTS if p != "peer")  # peer: on request (needs Telegraf)


def _say(text: str) -> None:
    click.echo(f"  {text}", err=True)


def _option(name: str, default: int) -> int:
    """An integer option of the running `ioc bench` (`--bridge-processes`, `--runs`)."""
    ctx = click.get_current_context(silent=True)
    return int(ctx.params.get(name, default)) if ctx is not None else default


def _bridge_processes() -> int:
    return _option("bridge_processes", 1)


def _worker_processes() -> int:
    return _option("worker_processes", 1)


def _contract(quick: bool) -> dict[str, Any]:
    from ioc.bench.contract import run_contract_bench
    return run_contract_bench(20_000 if quick else 200_000)


def _detector(quick: bool) -> dict[str, Any]:
    from ioc.bench.detector import run_detector_bench
    return run_detector_bench(20_000 if quick else 200_000)


def _worker(quick: bool) -> dict[str, Any]:
    from ioc.bench.worker import run_worker_bench
    return run_worker_bench(load_admin_settings(), 10_000 if quick else 100_000, progress=_say,
                            processes=_worker_processes())


def _worker_state(quick: bool) -> dict[str, Any]:
    from ioc.bench.worker_state import run_worker_state_bench
    return run_worker_state_bench(load_admin_settings(), 10_000 if quick else 40_000,
                                  runs=1 if quick else _option("runs", 3), progress=_say)


def _bridge(quick: bool) -> dict[str, Any]:
    from ioc.bench.bridge import run_bridge_bench
    return run_bridge_bench(load_admin_settings(), 10_000 if quick else 100_000,
                            processes=_bridge_processes(), progress=_say)


def _storage(quick: bool) -> dict[str, Any]:
    from ioc.bench.storage import run_storage_bench
    return run_storage_bench(load_admin_settings(), 10_000 if quick else 100_000,
                             progress=_say)


def _pipeline(quick: bool) -> dict[str, Any]:
    from ioc.bench.pipeline import run_pipeline_bench
    return run_pipeline_bench(load_admin_settings(), rate=2000, seconds=5 if quick else 20,
                              bridge_processes=_bridge_processes(), progress=_say,
                              worker_processes=_worker_processes())


def _acl(quick: bool) -> dict[str, Any]:
    from ioc.bench.acl_order import run_acl_order_bench
    return run_acl_order_bench(load_admin_settings(), 10_000 if quick else 100_000,
                               progress=_say)


def _peer(quick: bool) -> dict[str, Any]:
    from ioc.bench.peer import run_peer_bench
    return run_peer_bench(load_admin_settings(), 10_000 if quick else 100_000,
                          runs=1 if quick else _option("runs", 3),
                          bridge_processes=_bridge_processes(),
                          worker_processes=_worker_processes(), progress=_say)


_RUNNERS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "contract": _contract, "detector": _detector, "worker": _worker,
    "worker-state": _worker_state, "bridge": _bridge,
    "storage": _storage, "pipeline": _pipeline, "acl": _acl, "peer": _peer}
# parts that repeat themselves (interleaving their variants) instead of being repeated
_SELF_REPEATING = frozenset({"worker-state", "peer"})
# parts that run on the services, and the topic prefixes of what they create there
_ON_SERVICES = frozenset({"worker", "worker-state", "bridge", "storage", "pipeline", "acl",
                          "peer"})
_TOPIC_PREFIXES = ("bench-", "wbench-", "peer-")


def _alone_on_services() -> AbstractContextManager[None]:
    """One measurement on the services at a time: two share the CPU and Mosquitto's queues,
    and both figures are wrong (two overlapping soaks once lost readings as well)."""
    from ioc.core.private_files import locked_or_busy
    from ioc.core.settings import state_dir

    return locked_or_busy(state_dir() / "run" / "bench",
                          "another `ioc bench` (a soak, or a part on the services) is running "
                          "on these services; wait for it (two at once falsify both)")


def _run_part(part: str, quick: bool, runs: int) -> PartResult | str:
    """The part's result over its runs, or why it was skipped; the topics a part on the
    services created are deleted after it (else each run leaves Kafka more partitions)."""
    if part not in _ON_SERVICES:
        return _measure_part(part, quick, runs)
    from ioc.core.kafka_admin import drop_new_topics
    from ioc.core.kafka_auth import kafka_access

    try:
        kafka = kafka_access(load_admin_settings())
    except IocError:  # the part itself reports it
        return _measure_part(part, quick, runs)
    with drop_new_topics(kafka, _TOPIC_PREFIXES, client_id="ioc-bench") as dropped:
        result = _measure_part(part, quick, runs)
    if dropped:
        _say(f"deleted the {len(dropped)} topic(s) it created")
    return result


def _measure_part(part: str, quick: bool, runs: int) -> PartResult | str:
    from ioc.bench.trials import run_trials

    try:
        if part in _SELF_REPEATING:
            first = _RUNNERS[part](quick)
            if "skipped" in first:
                return str(first["skipped"])
            return run_trials(lambda: first, 1, _say)
        return run_trials(lambda: _RUNNERS[part](quick), 1 if quick else runs, _say)
    except ImportError as exc:
        return f"not available: {exc}"
    except IocError as exc:  # a service failed or a part could not finish: the part fails
        from ioc.bench.trials import PartResult

        return PartResult(0, problems=(f"{type(exc).__name__}: {exc}",))


@click.group(invoke_without_command=True)
@click.option("--only", default=",".join(_DEFAULT_PARTS), show_default=True,
              help="Comma-separated parts to run: " + ", ".join(_PARTS) + ".")
@click.option("--quick", is_flag=True, help="Smaller runs, once each (a smoke test).")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Repetitions of each part (min/median/max are printed); --quick: 1.")
@click.option("--bridge-processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="`ioc bridge --processes` of the bridge under test (bridge, pipeline, peer).")
@click.option("--worker-processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="`ioc worker --processes` of the worker under test (worker, pipeline, "
                   "peer).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
@click.pass_context
def bench(ctx: click.Context, only: str, quick: bool, runs: int, bridge_processes: int,
          worker_processes: int, as_json: bool) -> None:
    """Measure the pipeline on this machine, each figure beside a baseline from the same run.

    Every part counts what it moved: a missing or duplicated record fails the part, and
    the command exits 1. Rates are achieved rates. Each part runs --runs times.
    `ioc bench soak` runs the pipeline for minutes instead and checks it loses nothing.

    contract: parse_telemetry vs JSON decode alone, and the bridge's record path
    (telemetry_json) vs the pydantic model's (same bytes). detector: readings/s and per-reading
    latency of all rules. worker: readings/s through the Faust worker vs a kafka-python
    consumer feeding the same Detector (needs the services). worker-state: the worker bench
    with rule-state checkpoints and without (--no-state), interleaved, 3 rounds (needs the
    services). bridge: MQTT → bridge → Kafka vs kafka-python producing directly, live and
    draining a backlog (needs the services). storage: Kafka → InfluxDB writer vs writing the
    same readings straight to InfluxDB (needs the services). pipeline: publish-to-alert
    latency at 2,000 readings/s through Mosquitto, the bridge, Kafka and a worker (needs the
    services). acl: Mosquitto's CPU per publish of a 250-device gateway, its ACLs telemetry
    first vs in plain sorted order (needs the services). peer (only on request): the same
    backlog through Telegraf beside the bridge, then the same feed published live by three
    gateways while each runs, when a `telegraf` binary is on PATH or in ~/.cache/ioc
    (deploy/local/build_telegraf.sh).
    """
    if ctx.invoked_subcommand is not None:
        return
    parts = [p.strip() for p in only.split(",") if p.strip()]
    unknown = set(parts) - set(_PARTS)
    if unknown:
        raise click.BadParameter(f"unknown part(s): {', '.join(sorted(unknown))}",
                                 param_hint="--only")
    with _alone_on_services() if _ON_SERVICES & set(parts) else nullcontext():
        _run_parts(parts, quick, runs, as_json)


def _run_parts(parts: list[str], quick: bool, runs: int, as_json: bool) -> None:
    from ioc.bench.machine import this_machine

    machine = this_machine()  # before any part: the calibration wants a quiet machine
    if not as_json:
        click.echo(machine.line())
    results: dict[str, Any] = {"machine": dataclasses.asdict(machine)}
    failed = []
    for part in parts:
        click.echo(f"[{part}] running…", err=True)
        result = _run_part(part, quick, runs)
        if isinstance(result, str):
            results[part] = {"skipped": result}
            lines = [f"  skipped: {result}"]
        else:
            results[part] = result.as_dict()
            lines = result.lines()
            if not result.ok:
                failed.append(part)
        if not as_json:
            click.echo(f"[{part}]")
            click.echo("\n".join(lines))
    if as_json:
        click.echo(json.dumps(results, indent=2))
    if failed:
        click.echo(f"FAILED: {', '.join(failed)} (records missing, duplicated or not "
                   "counted; see above)", err=True)
        raise SystemExit(1)


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
@click.option("--worker-processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="`ioc worker --processes` of the worker.")
@click.option("--bridge-processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="`ioc bridge --processes` of the bridge.")
@click.option("--warmup-s", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Seconds of load before the measured minutes, in which no device crosses "
                   "its level: the latency, CPU and GC figures are those of a running "
                   "pipeline, not of freshly started processes. Its readings count all the "
                   "same.")
@click.option("--broker-warm-up/--no-broker-warm-up", default=True, show_default=True,
              help="Warm up for 60 s while the Kafka broker has used under 30 CPU-s since "
                   "it started: its JIT compiler is still cold, and the first soak after a "
                   "start measured the broker, not the pipeline.")
@click.option("--publisher", type=click.Choice(["wire", "paho"]), default="wire",
              show_default=True,
              help="The load generator's MQTT client: hand-built packets on one socket per "
                   "gateway, or paho (1.2-1.8 CPU-s per 10k messages, taken from the "
                   "pipeline it measures).")
@click.option("--per-gateway", type=click.IntRange(min=1), default=None,
              help="Devices per gateway login, one connection each [default: 250]. "
                   "Smaller gateways shorten Mosquitto's ACL scan per publish but bring "
                   "more, smaller reads (docs/architecture.md).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object at the end.")
def soak(minutes: float, rate: int, devices: int | None, sample_s: float,
         worker_processes: int, bridge_processes: int, warmup_s: float,
         broker_warm_up: bool, publisher: str, per_gateway: int | None,
         as_json: bool) -> None:
    """Publisher → Mosquitto → bridge → Kafka → worker + storage → InfluxDB at a steady rate.

    Afterwards every reading is counted in Kafka and in InfluxDB, and the RSS of each
    process (sampled every --sample-s) is summarised: min/median/max and its slope after
    the first fifth of the run. Exits 1 if a reading was lost or stored more than once.
    Needs the services (`ioc services up`).
    """
    from ioc.bench.machine import this_machine
    from ioc.bench.soak import run_soak

    machine = this_machine()
    with _alone_on_services():
        result = run_soak(load_admin_settings(), minutes, rate, devices, sample_s,
                          say=lambda text: click.echo(f"  {text}", err=True),
                          worker_processes=worker_processes,
                          bridge_processes=bridge_processes, warmup_s=warmup_s,
                          publisher=publisher, warm_broker=broker_warm_up,
                          per_gateway=per_gateway)
    if as_json:
        doc = dataclasses.asdict(result)
        doc.update(lost=result.lost, lost_in_kafka=result.lost_in_kafka,
                   end_to_end_rate=result.end_to_end_rate,
                   lost_in_influx=result.lost_in_influx, ok=result.ok,
                   machine=dataclasses.asdict(machine))
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(machine.line())
        click.echo(_soak_report(result))
    if not result.ok:
        raise SystemExit(1)


def _soak_report(r: SoakResult) -> str:
    from ioc.bench.machine import STEAL_DISTURBED_PCT
    from ioc.bench.rss import format_table

    lines = [f"soak: {r.minutes:g} min at {r.rate}/s (achieved {r.achieved_rate}/s) from "
             f"{r.devices} devices ({r.publisher} publisher, {r.per_gateway} per gateway)",
             f"  published {r.published} ({r.measured} after {r.warmup_s:g} s of warm-up), "
             f"acknowledged by Mosquitto {r.acked}",
             f"  Kafka: {r.kafka_distinct} distinct readings ({r.kafka_duplicates} duplicate "
             f"records), lost {r.lost_in_kafka}",
             f"  InfluxDB: {r.influx_points} points, lost {r.lost_in_influx}, stored more than "
             f"once {r.influx_extra}",
             f"  alert records {r.alert_records}; drained {r.drain_s:.1f} s after publishing",
             "  publish → flood.level alert (first crossing of each device, after the "
             "warm-up): "
             + ", ".join(f"{k} {v:g}" for k, v in r.alert_ms.items()),
             *(f"    {hop}: " + ", ".join(f"{k} {v:g}" for k, v in ms.items()
                                          if k.endswith("_ms"))
               for hop, ms in r.hops_ms.items()),
             f"  end to end: {r.end_to_end_rate}/s (first publish → all stored and judged, "
             f"{r.end_to_end_s:.1f} s; {r.worker_processes} worker, {r.bridge_processes} "
             "bridge process(es))",
             "  kept up: " + (
                 f"judged {r.kept_up[0]:g}/s, stored {r.kept_up[1]:g}/s (offsets committed "
                 "from the end of the warm-up to the last publish; each end late by up to a "
                 "commit interval)" if r.kept_up
                 else "not measured (a committed-offset read failed)"),
             f"  LOST: {r.lost}" + ("" if r.ok else "  (FAILED)"),
             *([f"  while publishing: {r.cpu.line()}"] if r.cpu else []),
             *([f"  Kafka while publishing: {r.kafka_pauses.line()}"
                + (" (every produce and fetch in flight waits a pause out)"
                   if r.kafka_pauses.count else "")] if r.kafka_pauses else []),
             *([f"  HOST DISTURBED: the hypervisor took {r.cpu.steal_pct:g} % of the CPU "
                f"time (from {STEAL_DISTURBED_PCT:g} % on, a latency tail is the host's as "
                "much as the pipeline's): compare the alert latency with undisturbed runs"]
               if r.cpu and r.cpu.host_disturbed else []),
             *([f"  Mosquitto logged dropping messages queued for the bridge's session "
                f"{r.broker_drops} time(s): the bridge fell further behind than the broker's "
                "per-client queue limit (max_queued_messages / max_queued_bytes)"]
               if r.broker_drops else []), "",
             "RSS and CPU per process (sampled; slope after the first fifth of the run; CPU "
             "from the end of the warm-up, per 10k readings published after it):",
             format_table(r.rss, r.measured or r.published)]
    return "\n".join(lines)
