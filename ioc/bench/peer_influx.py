"""The storage half of `ioc bench --only peer`: an MQTT backlog into InfluxDB by the bridge
plus the worker (the production path: contract, rules, alerts, storage) and by Telegraf
(mqtt_consumer → outputs.influxdb_v2), counted in InfluxDB on both sides."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import requests

from ioc.bench.bridge import PROBE_SEQ, _bridge, _Opts, queue_backlog
from ioc.bench.loadgen import Publisher, session_ended, traffic_payload
from ioc.bench.peer_config import telegraf_influx_config
from ioc.bench.rss import read_cpu_s
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import Device
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.ingest.router import KafkaTopics
from ioc.processors.worker.app import WorkerTopics
from ioc.processors.worker.topics import ensure_worker_topics
from ioc.testing.influx import ScopedBucket, scoped_bucket
from ioc.testing.processes import WorkerProcess

__all__ = ["influx_round", "timed_feed"]


def timed_feed(devices: Sequence[Device], per_device: int) -> list[tuple[str, bytes]]:
    """Round-robin traffic readings, each seq its own millisecond in the past (a point is
    stored per device and time, so equal times would overwrite each other)."""
    start = int(time.time() * 1000) - per_device - 60_000
    return [(telemetry_topic(d.domain, d.id), traffic_payload(seq, start + seq))
            for seq in range(per_device) for d in devices]


def _count(settings: Settings, bucket: str, measurement: str, field: str) -> int:
    """Points with a counted seq (probes excluded) in one measurement."""
    q = f'SELECT count("{field}") FROM "{measurement}" WHERE "seq" < {PROBE_SEQ}'
    r = requests.get(f"{settings.influx_url}/query", params={"db": bucket, "q": q},
                     headers={"Authorization": f"Token {settings.influx_token_for('read')}"},
                     timeout=60)
    if r.status_code != 200:
        raise ServiceError(f"InfluxDB count failed: HTTP {r.status_code}")
    series = r.json()["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


def _cpu(pids: Sequence[int]) -> float:
    # a worker member that is not running (yet, or any more) counts as 0, not the whole sum
    # as unknown (drain.cpu_of): the others' CPU is still the figure's bulk
    return sum(read_cpu_s(p, children=True) or 0.0 for p in pids)


def _measure(count: Callable[[], int], n: int,
             start: Callable[[], AbstractContextManager[Sequence[int]]], timeout_s: float,
             label: str) -> dict[str, Any]:
    """Rate from the first stored point to the n-th; CPU of the drainers over their whole
    run, start-up included (the bridge has drained into Kafka before the worker's first
    write, so CPU from the first point on would miss most of it)."""
    with start() as pids:
        cpu0 = _cpu(pids)  # the processes have only just started (the bridge imported)
        deadline = time.monotonic() + timeout_s
        while (first_n := count()) == 0:
            if time.monotonic() > deadline:
                raise ServiceError(f"{label}: nothing stored in {timeout_s:.0f}s")
            time.sleep(0.2)
        first_at = time.perf_counter()
        while (stored := count()) < n and time.monotonic() < deadline:
            time.sleep(0.25)
        last_at, cpu1 = time.perf_counter(), _cpu(pids)
    stored = count()
    problems = [f"{label}: {n - stored} of {n} readings not in InfluxDB"] if stored < n else []
    if stored > n:
        problems.append(f"{label}: {stored - n} points more than readings")
    span, done = last_at - first_at, stored - first_n
    # None, not 0: everything was stored before the first count (too few readings to time)
    return {f"influx_{label}_readings_per_s": round(done / span) if span > 0 and done > 0
            else None,
            f"influx_{label}_cpu_s_per_10k_with_startup": round((cpu1 - cpu0) / stored * 1e4, 3)
            if stored > 0 else None,
            f"influx_{label}_stored": stored, PROBLEMS: problems}


class _LivePids(Sequence[int]):
    """The bridge's pids and the worker's, its members read anew on each use (they start
    after the parent, so the first CPU reading may not see them: it counts them as 0)."""

    def __init__(self, bridge: Sequence[int], worker: WorkerProcess) -> None:
        self._bridge, self._worker = list(bridge), worker

    def _now(self) -> list[int]:
        return [*self._bridge, *self._worker.pids()]

    def __getitem__(self, index: Any) -> Any:
        return self._now()[index]

    def __len__(self) -> int:
        return len(self._now())


@contextmanager
def _bridge_and_worker(opts: _Opts, prefix: str, bucket_env: dict[str, str],
                       bucket: str, worker_processes: int) -> Iterator[Sequence[int]]:
    worker = WorkerProcess(prefix, opts.registry_file, opts.tmp / "worker.log", bucket=bucket,
                           env=bucket_env, processes=worker_processes)
    worker.start()
    try:
        with _bridge(opts) as pids:
            yield _LivePids(pids, worker)
    finally:
        worker.stop(60)


def _probe_through(settings: Settings, login: MqttLogin, topic: str,
                   count: Callable[[], int]) -> None:
    """Publish probe readings (not counted) until Telegraf stored one: it has subscribed."""
    pub = Publisher(settings, login)
    deadline = time.monotonic() + 120
    try:
        while count() == 0:
            if time.monotonic() > deadline:
                raise ServiceError("telegraf: no probe stored in InfluxDB in 120 s")
            pub.publish(topic, traffic_payload(PROBE_SEQ))
            time.sleep(1.0)  # pacing probes, each checked by the count above
    finally:
        pub.close()


def influx_round(settings: Settings, login: MqttLogin, devices: Sequence[Device],
                 registry: Path, tmp: Path, n: int, processes: int,
                 telegraf: Callable[[str], AbstractContextManager[Sequence[int]]],
                 say: Callable[[str], None], worker_processes: int = 1) -> dict[str, Any]:
    """One round of the storage comparison over a fresh bucket per side; our side runs
    `ioc worker --processes worker_processes`."""
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-{run}-"
    messages = timed_feed(devices, max(1, n // len(devices)))
    ensure_worker_topics(kafka_access(settings), WorkerTopics.prefixed(prefix),
                         settings.kafka_partitions)
    opts = _Opts(settings, run, KafkaTopics.prefixed(prefix), registry, False, None, 5, tmp,
                 processes, "librdkafka")
    with scoped_bucket(settings, "peer") as ours, scoped_bucket(settings, "peer") as theirs:
        with session_ended(settings, f"bench-{run}-bridge", processes):
            with _bridge(opts):
                pass  # the bridge's session exists: the backlog queues for it
            queue_backlog(settings, login, messages, 300)
            say(f"bridge + worker → InfluxDB: {len(messages)} readings…")
            bridge = _measure(lambda: _count(ours.settings, ours.name, "traffic", "intensity"),
                              len(messages),
                              lambda: _bridge_and_worker(opts, prefix, ours.env(), ours.name,
                                                         worker_processes),
                              600, "bridge_worker")
        client_id = f"peer-{run}-influx"
        config = telegraf_influx_config(settings, client_id, theirs.settings, theirs.name,
                                        [t for t, _ in messages[:len(devices)]])
        with session_ended(settings, client_id):
            with telegraf(config):
                _probe_through(settings, login, messages[0][0], lambda: _probes(theirs))
            queue_backlog(settings, login, messages, 300)
            say(f"telegraf → InfluxDB: {len(messages)} readings…")
            peer = _measure(lambda: _count(theirs.settings, theirs.name, "mqtt_consumer",
                                           "seq"),
                            len(messages), lambda: telegraf(config), 600, "telegraf")
    return {**bridge, **peer, PROBLEMS: [*bridge[PROBLEMS], *peer[PROBLEMS]]}


def _probes(bucket: ScopedBucket) -> int:
    """Probe points Telegraf stored (seq = PROBE_SEQ)."""
    q = f'SELECT count("seq") FROM "mqtt_consumer" WHERE "seq" >= {PROBE_SEQ}'
    r = requests.get(f"{bucket.settings.influx_url}/query", params={"db": bucket.name, "q": q},
                     headers={"Authorization":
                              f"Token {bucket.settings.influx_token_for('read')}"}, timeout=60)
    series = r.json()["results"][0].get("series", []) if r.status_code == 200 else []
    return int(series[0]["values"][0][1]) if series else 0

