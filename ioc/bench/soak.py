"""`ioc bench soak`: publisher → Mosquitto → bridge → Kafka → worker (+ storage) → InfluxDB at
a steady rate for minutes; afterwards every reading is counted in Kafka and in InfluxDB, and
each process's RSS over the run is summarised (min/median/max and its slope)."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ioc.bench.broker_warmth import warm_up_s
from ioc.bench.jvm_pauses import Pauses, read_pauses
from ioc.bench.lag_watch import GroupLags
from ioc.bench.loadgen import BridgeProcess
from ioc.bench.machine import CpuShare, cpu_share, cpu_times
from ioc.bench.publishers import PublisherPool
from ioc.bench.rss import PidSource, RssSampler, RssSummary, read_cpu_s
from ioc.bench.soak_count import (
    broker_drops,
    count_in_influx,
    count_in_kafka,
    crossing_hops,
    end_offsets,
    first_alerts,
    latency_summary,
)
from ioc.bench.soak_load import Load, stream
from ioc.bench.soak_window import CommitMarks, Window, committed_reader
from ioc.core.heap import settle_heap
from ioc.core.kafka_admin import drop_topics, ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import WARDS, Device, dump_registry
from ioc.core.settings import Settings, state_dir
from ioc.ingest.router import KafkaTopics
from ioc.testing.influx import ScopedBucket, scoped_bucket
from ioc.testing.mqtt_logins import GATEWAY_DEVICES, run_gateways
from ioc.testing.processes import WorkerProcess

__all__ = ["SoakResult", "run_soak"]

Say = Callable[[str], None]
_SERVICES = {"mosquitto": "mosquitto.pid", "kafka": "kafka.pid", "influxd": "influxd.pid"}


@dataclass(frozen=True)
class SoakResult:
    """What the soak published, what arrived where, and the RSS of every process."""

    minutes: float
    rate: int
    devices: int
    published: int
    acked: int
    achieved_rate: float
    kafka_distinct: int
    kafka_duplicates: int
    influx_points: int
    influx_extra: int
    alert_records: int
    drain_s: float
    rss: list[RssSummary] = field(default_factory=list)
    end_to_end_s: float = 0.0  # first publish → every reading stored and judged
    worker_processes: int = 1
    bridge_processes: int = 1
    # publish of a device's first crossing → its flood.level alert in Kafka, milliseconds
    alert_ms: dict[str, float] = field(default_factory=dict)
    warmup_s: float = 0.0  # unmeasured load before the measured minutes and any crossing
    publisher: str = "wire"  # the load generator's MQTT client (publishers.PUBLISHERS)
    broker_drops: int = 0  # Mosquitto's log lines on dropping the bridge's queued messages
    cpu: CpuShare | None = None  # how the machine's CPU went while publishing
    kafka_pauses: Pauses | None = None  # the broker's GC pauses while publishing (its GC log)
    # alert_ms's two parts, split at the bridge's produce call (soak_count.crossing_hops)
    hops_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    measured: int = 0  # readings published after the warm-up (the CPU table's per 10k)
    per_gateway: int = GATEWAY_DEVICES  # devices per gateway login of the load generator
    # readings/s the worker and the storage consumer committed while publishing after the
    # warm-up (soak_window); None if an offset read failed
    kept_up: tuple[float, ...] | None = None

    @property
    def end_to_end_rate(self) -> float:
        """Readings/s from the first publish until every reading was stored and judged."""
        return round(self.published / self.end_to_end_s, 1) if self.end_to_end_s > 0 else 0.0

    @property
    def lost_in_kafka(self) -> int:
        """Published readings missing from the telemetry topic."""
        return self.published - self.kafka_distinct

    @property
    def lost_in_influx(self) -> int:
        """Published readings missing from InfluxDB."""
        return self.published - self.influx_points

    @property
    def lost(self) -> int:
        """Readings lost anywhere: not acknowledged, not in Kafka, or not in InfluxDB."""
        return max(self.published - self.acked, self.lost_in_kafka, self.lost_in_influx)

    @property
    def ok(self) -> bool:
        """Nothing lost and every reading stored exactly once."""
        return self.lost == 0 and self.influx_extra == 0


def _drains(prefix: str, count: int, interval_s: float) -> list[Device]:
    wards = list(WARDS.values())
    return [Device(id=f"{prefix}{i:05d}", domain="drainage", name=f"soak drain {i}",
                   ward=wards[i % len(wards)].slug, lat=wards[i % len(wards)].lat,
                   lon=wards[i % len(wards)].lon, interval_s=interval_s, basin=f"b{i % 16}",
                   depth_m=2.0, warn_m=1.0, critical_m=1.6) for i in range(count)]


@dataclass
class _Run:
    """One soak's names, devices and processes."""

    settings: Settings
    prefix: str
    devices: list[Device]
    tmp: Path
    bucket: ScopedBucket | None = None
    bridge: BridgeProcess | None = None
    worker: WorkerProcess | None = None
    gateways: list[tuple[MqttLogin, list[str]]] = field(default_factory=list)

    @property
    def topics(self) -> KafkaTopics:
        return KafkaTopics.prefixed(self.prefix)

    def commit_marks(self) -> tuple[CommitMarks, Callable[[], None]]:
        """Marks of the worker's and the storage consumer's commits on telemetry."""
        assert self.worker is not None
        w = self.worker
        read, close = committed_reader(kafka_access(self.settings),
                                       [w.group, self.storage_group], w.topics.telemetry)
        return CommitMarks(read), close

    @property
    def storage_group(self) -> str:
        """The worker's InfluxDB writer's consumer group."""
        assert self.worker is not None
        return f"{self.worker.prefix}ioc-influx-writer"

    def group_lags(self) -> GroupLags:
        """The worker's and the storage consumer's lag, in that order."""
        assert self.worker is not None
        w = self.worker
        return GroupLags(kafka_access(self.settings), [
            (w.group, [w.topics.telemetry, w.topics.owned]),
            (self.storage_group, [w.topics.telemetry, w.topics.alerts])])


@contextmanager
def _pipeline(settings: Settings, devices: int, say: Say, worker_processes: int = 1,
              bridge_processes: int = 1, per_gateway: int = GATEWAY_DEVICES) -> Iterator[_Run]:
    """Bucket, topics, registry, worker and bridge for one soak; all removed afterwards."""
    run_id = uuid.uuid4().hex[:8]
    # one reading per device per second at most; silence alerts only after 15 minutes
    run = _Run(settings, f"soak-{run_id}-", _drains(f"sk{run_id}-", devices, 300.0),
               Path(tempfile.mkdtemp(prefix="ioc-soak-")))
    registry = run.tmp / "devices.yaml"
    dump_registry(run.devices, registry)
    topics = run.topics
    ensure_topics(kafka_access(settings), [topics.telemetry, topics.deadletter,
                                           topics.device_status], settings.kafka_partitions)
    with ExitStack() as stack:
        stack.callback(drop_topics, kafka_access(settings), [run.prefix])
        run.bucket = stack.enter_context(scoped_bucket(settings, "soak"))
        # gateway users of its own, allowed to publish for the soak's devices only
        run.gateways = stack.enter_context(run_gateways(
            settings, f"gw-soak-{run_id}-", "drainage", [d.id for d in run.devices],
            per_gateway))
        say(f"bucket {run.bucket.name}; starting worker and bridge (logs in {run.tmp})…")
        run.worker = WorkerProcess(run.prefix, registry, run.tmp / "worker.log",
                                   bucket=run.bucket.name, env=run.bucket.env(),
                                   processes=worker_processes)
        run.worker.start()
        stack.callback(run.worker.stop, 60)
        run.bridge = BridgeProcess(["--client-id", f"soak-{run_id}", "--share-group", "",
                                    "--registry", str(registry), "--topic-prefix", run.prefix,
                                    "--no-status"], run.tmp / "bridge.log",
                                   members=bridge_processes)
        stack.callback(run.bridge.stop_and_forget, settings, 60)
        run.bridge.wait_ready(120)
        worker = run.worker
        # publishing before the worker holds its partitions counted its start-up in the lag
        # and the alert latency (12,000 readings behind after 10 s at 2,500/s); a later join
        # would pause it for a rebalance
        worker.wait_until(lambda: worker.settled(settings.kafka_partitions), 120,
                          "every worker process holding partitions", interval=0.5)
        yield run


def _drain(lags: GroupLags, say: Say, timeout_s: float) -> float:
    """Wait until the worker and the storage consumer committed everything; seconds taken."""
    start = next_say = time.monotonic()
    while time.monotonic() - start < timeout_s:
        worker, storage = lags.read()
        if worker == 0 and storage == 0:
            return time.monotonic() - start
        if time.monotonic() >= next_say:
            say(f"draining: worker lag {worker}, storage lag {storage}")
            next_say += 5.0
        time.sleep(0.2)  # polling the consumer groups' lag with a deadline
    return time.monotonic() - start


def _pids(run: _Run) -> dict[str, PidSource]:
    run_dir = state_dir() / "run"

    def from_file(name: str) -> Callable[[], int | None]:
        def pid() -> int | None:
            try:
                return int((run_dir / name).read_text().strip())
            except (OSError, ValueError):
                return None
        return pid

    assert run.bridge is not None and run.worker is not None
    bridge, worker = run.bridge, run.worker
    # with --processes N a parent supervises N members: the group counts, not the parent
    pids: dict[str, PidSource] = {
        "publisher": os.getpid, "bridge": bridge.pids, "worker": worker.pids}
    pids.update({name: from_file(file) for name, file in _SERVICES.items()})
    return pids


def _warm_up(asked_s: float, kafka: PidSource, say: Say) -> float:
    """The warm-up to run: longer while the broker is fresh from a start (broker_warmth)."""
    pid = kafka()
    cpu = read_cpu_s(pid) if isinstance(pid, int) else None
    warm = warm_up_s(asked_s, cpu)
    if warm > asked_s:
        say(f"Kafka has used {cpu:.0f} CPU-s since it started, its JIT compiler is still "
            f"cold: {warm:g} s of load first, left out of every figure")
    return warm


def run_soak(settings: Settings, minutes: float, rate: int, devices: int | None = None,
             sample_s: float = 10.0, say: Say = lambda text: None, *,
             worker_processes: int = 1, bridge_processes: int = 1,
             warmup_s: float = 0.0, publisher: str = "wire",
             warm_broker: bool = True, per_gateway: int | None = None) -> SoakResult:
    """Run the soak and count; see the module docstring. `warm_broker`: a longer warm-up
    while the Kafka broker is fresh from a start (broker_warmth)."""
    n = devices or max(1, min(rate, 5000))
    per_gateway = per_gateway or GATEWAY_DEVICES
    with _pipeline(settings, n, say, worker_processes, bridge_processes, per_gateway) as run:
        pids = _pids(run)
        if warm_broker:
            warmup_s = _warm_up(warmup_s, pids["kafka"], say)
        load = Load(rate, minutes * 60, warmup_s)
        sampler = RssSampler(pids, sample_s)
        sampler.start()
        pub = PublisherPool(settings, run.gateways, publisher)
        settle_heap(settings.gc_young_threshold)  # no 100 ms collections while publishing
        window = Window()
        marks, close_marks = run.commit_marks()
        with closing(run.group_lags()) as lags:
            try:
                say(f"publishing {rate}/s from {n} devices for {minutes:g} min after "
                    f"{warmup_s:g} s of warm-up…")
                started = time.monotonic()
                sent_at: dict[str, tuple[float, int]] = {}

                def measure() -> None:
                    window.open(sampler)
                    marks.mark()

                published = stream(run.devices, pub, load, say, sent_at, lags, measure)
                marks.mark()
                cpu_after = cpu_times()
                pauses = read_pauses(state_dir() / "logs" / "kafka-gc.log", window.wall,
                                     time.time())
                achieved = (published - load.warm) / (time.monotonic() - window.at)
                pub.wait_acked(300)
                acked = pub.acked
                kept_up = marks.rates(30.0)
            finally:
                marks.close(close_marks)
                pub.close()
            drain_s = _drain(lags, say, 900.0)
        end_to_end_s = time.monotonic() - started
        rss = sampler.stop()
        say("counting what Kafka and InfluxDB hold…")
        kafka = count_in_kafka(settings, run.topics.telemetry, [d.id for d in run.devices],
                               {d: seq for d, (_, seq) in sent_at.items()})
        assert run.bucket is not None and run.worker is not None
        influx = count_in_influx(run.bucket.settings, run.bucket.name, "drainage")
        sent = {d.id: published // n + (1 if j < published % n else 0)
                for j, d in enumerate(run.devices)}
        extra = sum(max(0, influx.get(d, 0) - c) for d, c in sent.items())
        hops = crossing_hops({d: at for d, (at, _) in sent_at.items()}, kafka.stamps,
                             first_alerts(settings, run.worker.topics.alerts, sent_at.keys()))
        return SoakResult(minutes, rate, n, published, acked, round(achieved, 1),
                          kafka.distinct, kafka.duplicates, sum(min(influx.get(d, 0), c)
                                                                for d, c in sent.items()),
                          extra, end_offsets(settings, run.worker.topics.alerts), drain_s, rss,
                          round(end_to_end_s, 2), worker_processes, bridge_processes,
                          latency_summary(hops.pop("publish → alert"), len(sent_at)),
                          warmup_s, publisher,
                          broker_drops(state_dir() / "logs" / "mosquitto.log",
                                       run.prefix.rstrip("-")),
                          cpu_share(window.cpu, cpu_after) if window.cpu and cpu_after
                          else None, pauses,
                          {k: latency_summary(v, len(sent_at)) for k, v in hops.items()},
                          published - load.warm, per_gateway, kept_up)
