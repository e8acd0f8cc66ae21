"""`ioc backtest`, `ioc worker` and `ioc alerts`: the processors' command line."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
import orjson

from ioc.core.feed import open_feed
from ioc.core.heap import settle_heap
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import load_registry
from ioc.core.schemas import Alert
from ioc.core.settings import load_settings
from ioc.core.topics import ALERTS
from ioc.processors.worker.members import WorkerMember

__all__ = ["alerts", "backtest", "worker"]

log = logging.getLogger(__name__)

# the writer takes readings in batches of up to 128 KiB or 250 ms, not whatever arrived:
# each batch costs an InfluxDB write and a Kafka commit, and at 2,000 readings/s one-poll
# batches cost influxd 2.5 times the CPU and the worker 15 % more (panels refresh every
# few seconds)
_STORE_FETCH_MIN_BYTES, _STORE_FETCH_WAIT_MS = 128 * 1024, 250
_SUMMARY_KEYS = ("id", "rule", "status", "severity", "ward", "subject", "alertSource",
                 "dateIssued", "dateModified", "version", "description")


@click.command()
@click.argument("feed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--registry", "registry_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Device registry (default: IOC_REGISTRY / Settings.registry).")
@click.option("--full/--summary", default=False, help="Print the whole alert or key fields.")
def backtest(feed: Path, registry_path: Path | None, full: bool) -> None:
    """Run the detection rules over a recorded feed; one JSON line per alert change."""
    from ioc.processors.backtest import run_backtest

    registry = load_registry(registry_path or load_settings().registry)

    def emit(alert: Alert) -> None:
        doc = orjson.loads(alert.to_json())
        if not full:
            doc = {k: doc[k] for k in _SUMMARY_KEYS if k in doc}
        click.echo(orjson.dumps(doc).decode())

    with open_feed(feed, "r") as fh:
        result = run_backtest(fh, registry, on_alert=emit)
    reasons = ", ".join(f"{k}={v}" for k, v in sorted(result.rejected.items())) or "none"
    click.echo(f"readings: {result.readings}; rejected: {sum(result.rejected.values())} "
               f"({reasons})", err=True)
    sys.stdout.flush()


@click.command()
@click.option("--web-port", type=int, default=None,
              help="Faust web port (default: disabled); member i of --processes uses PORT+i.")
@click.option("--influx/--no-influx", default=True, help="Also store readings and alerts.")
@click.option("--topic-prefix", default="", help="Prefix every topic name (tests).")
@click.option("--state/--no-state", default=True, show_default=True,
              help="Checkpoint rule state to the compacted state topic and restore it on "
                   "every partition assignment; --no-state keeps it in memory only (a "
                   "restart then rebuilds it from the open alerts alone).")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine, members of one consumer group that "
                   "split the partitions (at most IOC_KAFKA_PARTITIONS do work); the way "
                   "to use more than one core (docs/architecture.md).")
@click.option("--member", default=None, hidden=True,
              help="INDEX/COUNT: run as one member of --processes (set by the parent).")
def worker(web_port: int | None, influx: bool, topic_prefix: str, state: bool,
           processes: int, member: str | None) -> None:
    """Run the stream processors (Faust) and the InfluxDB writer."""
    if member is None and processes > 1:
        _run_members(processes, web_port, influx, topic_prefix, state)
    _run_worker(web_port, influx, topic_prefix, state,
                WorkerMember.parse(member) if member else WorkerMember())


def _run_members(count: int, web_port: int | None, influx: bool, topic_prefix: str,
                 state: bool) -> None:
    from ioc.core.process_group import run_group
    from ioc.processors.worker.members import member_argvs

    args = ["--topic-prefix", topic_prefix, "--influx" if influx else "--no-influx",
            "--state" if state else "--no-state",
            *(["--web-port", str(web_port)] if web_port is not None else [])]
    log.info("worker: %d member processes of one consumer group", count)
    raise SystemExit(run_group("worker", member_argvs(count, args)))


def _run_worker(web_port: int | None, influx: bool, topic_prefix: str, state: bool,
                member: WorkerMember) -> None:
    import faust

    from ioc.core.alerts_topic import load_alerts
    from ioc.processors.worker.app import Tuning, WorkerTopics, create_app
    from ioc.processors.worker.state_log import KafkaStateLog
    from ioc.processors.worker.topics import (
        copartitioned_count,
        ensure_worker_topics,
        partition_counts,
    )

    settings = load_settings()
    if influx:
        settings.influx_token_for("write")  # a missing token fails here, not in the writer
    kafka = kafka_access(settings)
    registry = load_registry(settings.registry)
    topics = WorkerTopics.prefixed(topic_prefix)
    ensure_worker_topics(kafka, topics, settings.kafka_partitions)
    partitions = copartitioned_count(kafka, topics)
    counts = partition_counts(kafka, [topics.owned, topics.state])
    if state and counts.get(topics.state) != counts.get(topics.owned):
        raise click.ClickException(
            f"{topics.state} has {counts.get(topics.state)} partitions, {topics.owned} "
            f"{counts.get(topics.owned)}: checkpoints need one per owner partition")
    # on each partition assignment the worker loads the gained wards' rule state from their
    # checkpoints and their alerts from the alerts topic (with --no-state: only the alerts,
    # which seed the rules they belong to), so a restart neither duplicates nor forgets
    built = create_app(settings, registry, topics, app_id=f"{topic_prefix}ioc-worker",
                       web_port=member.web_port(web_port), partitions=partitions,
                       alert_source=lambda: load_alerts(kafka, topics.alerts,
                                                        required=True).values(),
                       state_log=KafkaStateLog(kafka, topics.state) if state else None,
                       member=member.index,
                       tuning=Tuning(fetch_max_wait_ms=settings.worker_fetch_max_wait_ms,
                                     fetch_min_bytes=settings.worker_fetch_min_bytes))
    stop, failed = threading.Event(), threading.Event()
    if influx:
        threading.Thread(target=_run_influx_sink,
                         args=(settings, registry, topics, stop, topic_prefix, failed),
                         name="influx-sink", daemon=True).start()
    worker = faust.Worker(built.app, loglevel=settings.log_level.upper())
    settle_heap(settings.gc_young_threshold)  # registry, rules and Faust live as long as we do
    try:
        worker.execute_from_commandline()
    finally:
        stop.set()
        if failed.is_set():  # the storage writer died: exit non-zero so a supervisor restarts
            raise SystemExit(1)


def _run_influx_sink(settings: Any, registry: Any, topics: Any, stop: threading.Event,
                     prefix: str, failed: threading.Event) -> None:
    from ioc.storage.influx_client import InfluxLineSink
    from ioc.storage.influx_sink import InfluxSink, keep_storing
    from ioc.storage.influx_writer import InfluxWriter, StorageRefused
    from ioc.storage.rdkafka_source import RdKafkaSource, consumer_config

    def make() -> InfluxSink:
        source = RdKafkaSource(consumer_config(
            kafka_access(settings), f"{prefix}ioc-influx-writer",
            fetch_min_bytes=_STORE_FETCH_MIN_BYTES, fetch_wait_ms=_STORE_FETCH_WAIT_MS))
        return InfluxSink(source, InfluxWriter(InfluxLineSink.from_settings(settings),
                                                 registry),
                          telemetry=topics.telemetry, alerts=topics.alerts)

    try:
        # holds through InfluxDB and Kafka outages, replaces a failed consumer; raises only
        # StorageRefused (token or bucket wrong)
        keep_storing(make, stop)
    except StorageRefused as exc:  # a configuration error: say what to fix, no traceback
        log.critical("InfluxDB storage stopped, shutting the worker down: %s", exc)
        _fail(failed)
    except Exception:  # the writer must not die silently beside a live worker
        log.critical("InfluxDB storage stopped; shutting the worker down", exc_info=True)
        _fail(failed)


def _fail(failed: threading.Event) -> None:
    failed.set()
    os.kill(os.getpid(), signal.SIGTERM)  # Faust's worker stops cleanly on SIGTERM


@click.command()
@click.option("--follow", is_flag=True, help="Keep printing every change.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@click.option("--topic", default=None, help="Alerts topic (default ioc.alerts).")
def alerts(follow: bool, as_json: bool, show_all: bool, topic: str | None) -> None:
    """Current alerts (folded from the compacted alerts topic), and every change with --follow."""
    from ioc.core.alerts_topic import AlertFold, AlertsTopicReader, Removed, format_row

    def line(change: Alert | Removed) -> str:
        if isinstance(change, Removed):  # a tombstone: the alert is gone from the topic
            doc = {"id": change.alert.id, "deleted": True}
            return orjson.dumps(doc).decode() if as_json else f"deleted {change.alert.id}"
        return change.to_json().decode() if as_json else format_row(change)

    fold = AlertFold()
    reader = AlertsTopicReader(kafka_access(load_settings()), topic or ALERTS)
    caught_up = False
    for record in reader.records(follow=follow):
        if record is None:  # the end of the topic: print the current state once
            caught_up = True
            shown = [a for a in fold.alerts.values() if show_all or a.status != "resolved"]
            for a in sorted(shown, key=lambda a: (a.date_issued, a.id)):
                click.echo(line(a))
            continue
        change = fold.apply_record(record)
        if caught_up and change is not None:  # only changes, not replays of older versions
            click.echo(line(change))
