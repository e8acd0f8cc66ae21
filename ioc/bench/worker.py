"""Worker throughput: a backlog of readings on Kafka, drained by `ioc worker`, beside a plain
kafka-python consumer reading the same topic in the same run."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.partitioner import DefaultPartitioner

from ioc.bench.drain import cpu_of
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import OWNER_HEADER, owner_partition
from ioc.core.registry import WARDS, Device, Registry, dump_registry
from ioc.core.schemas import reading_from_json, reading_to_json
from ioc.core.settings import Settings
from ioc.processors.detector import Detector
from ioc.processors.worker.app import WorkerTopics
from ioc.processors.worker.routing import Router
from ioc.processors.worker.topics import ensure_worker_topics
from ioc.testing.factories import T0, drain, drainage_device
from ioc.testing.kafka_groups import GroupLag
from ioc.testing.processes import WorkerProcess

__all__ = ["run_worker_bench"]


def _devices(prefix: str, count: int) -> list[Device]:
    wards = list(WARDS)
    return [drainage_device(f"{prefix}{i:05d}", ward=wards[i % len(wards)])
            for i in range(count)]


def _produce(settings: Settings, topic: str, devices: Sequence[Device], n: int,
             by_ward: bool) -> int:
    """`n` drainage readings round robin; every 50th device-reading crosses warning."""
    owner = Router(Registry(devices))
    producer = KafkaProducer(**kafka_access(settings).client_options(), acks="all",
                             linger_ms=20, batch_size=512 * 1024, metrics_enabled=False)
    try:
        parts = sorted(producer.partitions_for(topic))
        default = DefaultPartitioner()
        for i in range(n):
            dev = devices[i % len(devices)]
            step = i // len(devices)
            level = 0.7 if step % 50 in range(10, 20) else 0.3  # open, then clear, ...
            value = reading_to_json(drain(dev, T0 + timedelta(seconds=60 * step), level))
            key = dev.id.encode()
            ward_key = owner.device_owner(dev.id) or ""
            ward = ward_key.encode()
            part = (parts[owner_partition(ward_key, len(parts))] if by_ward
                    else default.partition(topic, key, key, None, None, producer._metadata))
            producer.send(topic, key=key, value=value, partition=part,
                          headers=[(OWNER_HEADER, ward)] if by_ward else None)
        producer.flush(timeout=120)
    finally:
        producer.close()
    return n


def _baseline(settings: Settings, topic: str, alerts_topic: str, devices: Sequence[Device],
              n: int) -> dict[str, float]:
    """The worker's fair peer: a kafka-python consumer group feeding the same Detector,
    producing its alert changes and committing; timed like the worker, from its first
    commit to its last."""
    detector = Detector(Registry(devices))
    consumer = KafkaConsumer(topic, **kafka_access(settings).client_options(),
                             group_id=f"{topic}-baseline-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             max_poll_records=5000, metrics_enabled=False)
    producer = KafkaProducer(**kafka_access(settings).client_options(), acks="all",
                             linger_ms=5, metrics_enabled=False)
    seen = alerts = 0
    start = time.perf_counter()
    first: tuple[float, int] | None = None
    try:
        while seen < n and time.perf_counter() - start < 300:
            for records in consumer.poll(timeout_ms=500).values():
                for rec in records:
                    for alert in detector.process(reading_from_json(rec.value)):
                        producer.send(alerts_topic, key=alert.id.encode(), value=alert.to_json())
                        alerts += 1
                seen += len(records)
            if seen:
                producer.flush()  # alerts stored before the offsets that produced them
                consumer.commit()
                first = first or (time.perf_counter(), seen)
        end = time.perf_counter()
        drained_s = end - first[0] if first else float("nan")
        return {"baseline_read": seen, "baseline_alert_changes": alerts,
                "baseline_total_s": round(end - start, 2),
                "baseline_readings_per_s": round((seen - first[1]) / drained_s, 1)
                if first and drained_s > 0 else float("nan")}
    finally:
        producer.close()
        consumer.close()


@dataclass
class _Drain:
    """When the worker's first commit was seen (how far it got, the worker's CPU seconds
    then), and when lag hit 0. With several worker processes, the first commit counted is
    the first one after every process holds its partitions: their joins (one rebalance
    each) are start-up, like the imports."""

    n: int
    worker: WorkerProcess
    partitions: int
    first: tuple[float, int, float | None] | None = None
    done_at: float | None = None

    def observe(self, left: int | None) -> bool:
        """Record one lag reading; whether the backlog is fully committed."""
        if left is None:  # the topics have no partitions (yet)
            return False
        now, done = time.perf_counter(), self.n - min(self.n, left)
        if self.first is None and done > 0 and (self.worker.processes == 1 or
                                                self.worker.settled(self.partitions)):
            self.first = (now, done, cpu_of(self.worker.pids()))
        if left == 0:
            # drained before every process joined: no drain to time (the whole run is)
            self.first = self.first or (now, done, None)
            self.done_at = now
        return self.done_at is not None


def _drain(settings: Settings, topics: Sequence[str], n: int, worker: WorkerProcess,
           timeout: float) -> dict[str, Any]:
    """Poll the group's committed offsets until no lag is left; rate from first commit."""
    started = time.perf_counter()
    progress = _Drain(n, worker, settings.kafka_partitions)
    with closing(GroupLag(kafka_access(settings), worker.group, topics)) as lag:
        worker.wait_until(lambda: progress.observe(lag.lag()), timeout, "caught-up group",
                          interval=0.05)
    assert progress.first is not None and progress.done_at is not None
    drained_s = progress.done_at - progress.first[0]
    drained = n - progress.first[1]
    # a backlog committed in one or two steps (a small run) has no drain to time: then the
    # rate is over the whole run, start-up included (and says so)
    whole = drained < n // 2 or drained_s <= 0
    rate = n / (progress.done_at - started) if whole else drained / drained_s
    cpu, cpu_first = cpu_of(worker.pids()), progress.first[2]  # all still running
    # CPU per reading after the first commit: without start-up (imports, joining the group)
    drain_cpu = None if cpu is None or cpu_first is None or drained <= 0 else \
        round((cpu - cpu_first) / drained * 1e6, 1)
    return {"worker_cpu_s": cpu, "worker_cpu_us_per_reading":
            None if cpu is None else round(cpu / n * 1e6, 1),
            "worker_drain_cpu_us_per_reading": drain_cpu,
            "worker_total_s": round(progress.done_at - started, 2),
            "worker_drain_s": round(drained_s, 2),
            "worker_readings_per_s": round(rate, 1),
            "worker_rate_basis": "whole run incl. start-up" if whole else
            "from first commit" + (" with every process joined" if worker.processes > 1
                                   else "")}


def run_worker_bench(settings: Settings, n: int = 50_000, *, devices: int = 400,
                     by_ward: bool = True, profile: Path | None = None,
                     progress: Callable[[str], None] | None = None,
                     worker_args: Sequence[str] = (), processes: int = 1) -> dict[str, Any]:
    """Readings/s of `ioc worker --no-influx` draining `n` readings, beside a plain consumer.

    `by_ward` partitions the backlog as the bridge does (by owner ward); False uses Kafka's
    default (device-id hash), which makes the worker repartition every reading.
    `worker_args` are added to the worker's command line (e.g. `--no-state`); `processes`
    runs `ioc worker --processes N`.
    """
    say = progress or (lambda text: None)
    run = uuid.uuid4().hex[:8]
    prefix = f"wbench-{run}-"
    topics = WorkerTopics.prefixed(prefix)
    devs = _devices(f"wb{run}-", devices)
    ensure_worker_topics(kafka_access(settings), topics, settings.kafka_partitions)
    ensure_topics(kafka_access(settings), [f"{prefix}baseline-alerts"], 1)
    say(f"producing {n} readings to {topics.telemetry}…")
    _produce(settings, topics.telemetry, devs, n, by_ward)
    say("baseline: a kafka-python consumer feeding the same Detector…")
    base = _baseline(settings, topics.telemetry, f"{prefix}baseline-alerts", devs, n)
    with tempfile.TemporaryDirectory() as tmp:
        registry = Path(tmp) / "devices.yaml"
        dump_registry(devs, registry)
        say("running the worker until its group has committed everything…")
        worker = WorkerProcess(prefix, registry, Path(tmp) / "worker.log", profile=profile,
                               processes=processes)
        worker.argv += worker_args
        worker.start()
        try:
            figures = _drain(settings, [topics.telemetry, topics.owned], n, worker, timeout=600)
        except ServiceError as exc:
            raise ServiceError(f"{exc}\n{worker.log(3000)}") from exc
        finally:
            worker.stop(60)
    problems = [] if base["baseline_read"] == n else [f"baseline read {base['baseline_read']} "
                                                      f"of {n} readings"]
    return {"readings": n, "devices": devices, "partitioned_by_ward": by_ward,
            "worker_processes": processes,
            "baseline": "kafka-python consumer + the same Detector, alerts produced",
            **base, **figures, "ratio_worker_to_baseline": round(
                float(figures["worker_readings_per_s"] or 0) / base["baseline_readings_per_s"], 3),
            PROBLEMS: problems}
