"""End to end: publish over MQTT at a fixed rate, measure publish→Kafka and publish→alert."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ioc.bench.drain import count_problems
from ioc.bench.loadgen import BridgeProcess, Collected, Collector, Publisher
from ioc.bench.trials import PROBLEMS
from ioc.core.heap import settle_heap
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.registry import WARDS, Device, dump_registry
from ioc.core.settings import Settings
from ioc.core.topics import ALERTS, DEADLETTER, DEVICE_STATUS, TELEMETRY, telemetry_topic
from ioc.ingest.kafka_sink import DEFAULT_LINGER_MS
from ioc.testing.mqtt_logins import run_gateway
from ioc.testing.processes import WorkerProcess

__all__ = ["run_pipeline_bench"]


def _drains(prefix: str, count: int) -> list[Device]:
    wards = list(WARDS.values())
    return [Device(id=f"{prefix}{i:05d}", domain="drainage", name=f"bench drain {i}",
                   ward=wards[i % len(wards)].slug, lat=wards[i % len(wards)].lat,
                   lon=wards[i % len(wards)].lon, interval_s=60, basin=f"b{i % 16}",
                   depth_m=2.0, warn_m=1.0, critical_m=1.6) for i in range(count)]


def _payload(seq: int, level: float) -> bytes:
    return orjson.dumps({"dateObserved": int(time.time() * 1000), "seq": seq,
                         "waterLevel": level})


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    s = sorted(samples)
    pick = lambda q: round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 1)  # noqa: E731
    return {"count": len(s), "p50_ms": pick(0.50), "p90_ms": pick(0.90),
            "p99_ms": pick(0.99), "max_ms": round(s[-1] * 1000, 1)}


def _stream(pub: Publisher, devices: list[Device], rate: int, seconds: float,
            triggers: int) -> tuple[dict[str, tuple[float, int]], set[tuple[str, int]], float]:
    """Publish at `rate`/s; every so often one device's level jumps over warning. Returns
    (crossings sent, every (device, seq) sent, seconds the publishing took)."""
    total = int(rate * seconds)
    every = max(1, total // max(1, triggers))
    sent_at: dict[str, tuple[float, int]] = {}
    seqs = dict.fromkeys((d.id for d in devices), 0)
    keys: set[tuple[str, int]] = set()
    start = time.perf_counter()
    for i in range(total):
        device = devices[i % len(devices)]
        level = 0.3
        if i % every == every // 2 and device.id not in sent_at:
            level = 1.2
        seq = seqs[device.id] = seqs[device.id] + 1
        target = start + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # pacing the load, not synchronization
        if level > 1.0:
            sent_at[device.id] = (time.time(), seq)
        pub.publish(telemetry_topic("drainage", device.id), _payload(seq, level))
        keys.add((device.id, seq))
    return sent_at, keys, time.perf_counter() - start


def _key(rec: Collected) -> tuple[str, int]:
    return (rec.key or b"").decode(), int(orjson.loads(rec.value)["seq"])


def _latencies(records: list[Collected], sent_at: dict[str, tuple[float, int]],
               is_alert: bool) -> list[float]:
    """Seconds from publish to the record's Kafka timestamp, first match per device."""
    out: dict[str, float] = {}
    for rec in records:
        doc = orjson.loads(rec.value)
        device = doc.get("alertSource") if is_alert else doc.get("deviceId")
        if device not in sent_at or device in out:
            continue
        at, seq = sent_at[device]
        if (is_alert and doc.get("rule") == "flood.level") or doc.get("seq") == seq:
            out[device] = rec.timestamp_ms / 1000 - at
    return list(out.values())


def _stages(telemetry: list[Collected], alerts: list[Collected],
            sent_at: dict[str, tuple[float, int]]) -> dict[str, list[float]]:
    """Per crossing, seconds spent in each hop: publish → the bridge's MQTT receipt
    (`receivedAt`), → its produce call (the record's timestamp), → the alert's timestamp."""
    produced: dict[str, tuple[float, float]] = {}
    for rec in telemetry:
        doc = orjson.loads(rec.value)
        device = doc.get("deviceId")
        if device in sent_at and device not in produced and doc.get("seq") == sent_at[device][1]:
            received = datetime.fromisoformat(doc["receivedAt"]).timestamp()
            produced[device] = (received, rec.timestamp_ms / 1000)
    alerted: dict[str, float] = {}
    for rec in alerts:
        doc = orjson.loads(rec.value)
        device = doc.get("alertSource")
        if device in produced and device not in alerted and doc.get("rule") == "flood.level":
            alerted[device] = rec.timestamp_ms / 1000
    out: dict[str, list[float]] = {"mqtt_to_bridge": [], "bridge_to_kafka": [],
                                   "kafka_to_alert": []}
    for device, (received, at) in produced.items():
        out["mqtt_to_bridge"].append(received - sent_at[device][0])
        out["bridge_to_kafka"].append(at - received)
        if device in alerted:
            out["kafka_to_alert"].append(alerted[device] - at)
    return out


def run_pipeline_bench(settings: Settings, rate: int = 2000, seconds: float = 20.0,
                       devices: int = 400, triggers: int = 200, linger_ms: int = DEFAULT_LINGER_MS,
                       worker_profile: Path | None = None, bridge_processes: int = 1,
                       progress: Callable[[str], None] | None = None,
                       worker_processes: int = 1) -> dict[str, Any]:
    """Publish-to-Kafka (baseline hop) and publish-to-alert latency at a steady rate.

    `linger_ms` is the bridge producer's linger (its `--linger-ms`); `worker_profile` runs
    the worker under cProfile, writing its stats there; `worker_processes` runs `ioc worker
    --processes N` (the measurement starts once every member holds its partitions).
    """
    say = progress or (lambda text: None)
    run = uuid.uuid4().hex[:8]
    prefix = f"bench-{run}-"
    devs = _drains(f"bp{run}-", devices)
    topics = [prefix + t for t in (TELEMETRY, DEADLETTER, DEVICE_STATUS, ALERTS)]
    ensure_topics(kafka_access(settings), topics, settings.kafka_partitions)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        registry = Path(tmp) / "devices.yaml"
        dump_registry(devs, registry)
        say("starting bridge and worker…")
        bridge = BridgeProcess(["--client-id", f"bench-{run}", "--share-group", "",
                                "--registry", str(registry), "--topic-prefix", prefix,
                                "--no-status", "--linger-ms", str(linger_ms)],
                               Path(tmp) / "bridge.log", members=bridge_processes)
        stack.callback(bridge.stop_and_forget, settings)
        worker = WorkerProcess(prefix, registry, Path(tmp) / "worker.log",
                               profile=worker_profile, processes=worker_processes)
        worker.start()
        stack.callback(worker.stop, 30)
        bridge.wait_ready(60)
        if worker_processes > 1:  # no rebalance while measuring
            worker.wait_until(lambda: worker.settled(settings.kafka_partitions), 120,
                              "every worker process holding partitions", interval=0.5)
        collector = Collector(kafka_access(settings), [topics[0], topics[3]], f"bench-{run}")
        stack.callback(collector.close)
        login = stack.enter_context(run_gateway(settings, f"gwb-{run}", "drainage",
                                                [(d.domain, d.id) for d in devs]))
        pub = Publisher(settings, login)
        stack.callback(pub.close)
        probes = _warm_up(pub, devs[0], collector, topics[3], worker)
        settle_heap(settings.gc_young_threshold)  # the measuring process pauses like the rest
        say(f"publishing {rate}/s for {seconds:.0f}s ({triggers} level crossings)…")
        sent_at, keys, took = _stream(pub, devs[1:], rate, seconds, triggers)
        # the warm-up's probes are in the topic too: waiting for the feed's count alone
        # could stop one record short of it
        collector.wait(topics[0], probes + len(keys), 60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _all_alerted(collector, topics[3], sent_at):
            time.sleep(0.1)
        kafka_hop = _latencies(collector.records[topics[0]], sent_at, is_alert=False)
        alerts = _latencies(collector.records[topics[3]], sent_at, is_alert=True)
        probe = devs[0].id  # the warm-up device: not part of the counted feed
        missing, duplicates, problems = count_problems(
            [k for k in map(_key, collector.records[topics[0]]) if k[0] != probe], keys)
        if len(alerts) < len(sent_at):
            problems.append(f"{len(sent_at) - len(alerts)} of {len(sent_at)} alerts missing")
        return {"bridge_processes": bridge_processes, "worker_processes": worker_processes,
                "target_rate_per_s": rate,
                "seconds": seconds, "bridge_linger_ms": linger_ms,
                "published": len(keys), "achieved_publish_rate_per_s": round(len(keys) / took),
                "telemetry_records": collector.count(topics[0]),
                "telemetry_missing": missing, "telemetry_duplicates": duplicates,
                "baseline_publish_to_kafka": _percentiles(kafka_hop),
                "publish_to_alert": _percentiles(alerts),
                **{f"stage_{name}": _percentiles(v) for name, v in _stages(
                    collector.records[topics[0]], collector.records[topics[3]],
                    sent_at).items()},
                "alerts_expected": len(sent_at), "alerts_missing": len(sent_at) - len(alerts),
                PROBLEMS: problems}


def _all_alerted(collector: Collector, topic: str, devices: Iterable[str]) -> bool:
    """Whether each of `devices` has its flood.level alert (a set, not a count: the warm-up
    probe is alerted too)."""
    return set(devices) <= _alerted(collector, topic)


def _alerted(collector: Collector, topic: str) -> set[str]:
    """The devices with a `flood.level` alert, the one each crossing must raise (other
    rules' alerts, such as a ward's flood.localized, are not the crossing's)."""
    out = set()
    for rec in collector.records[topic]:
        doc = orjson.loads(rec.value)
        if doc.get("rule") == "flood.level":
            out.add(doc.get("alertSource"))
    return out


def _warm_up(pub: Publisher, device: Device, collector: Collector, topic: str,
             worker: WorkerProcess) -> int:
    """Wait until one crossing has gone all the way through (worker joined its group);
    returns the probe readings published."""
    seq = 0

    def alerted() -> bool:
        nonlocal seq
        if device.id in _alerted(collector, topic):
            return True
        seq += 1  # one probe reading per poll while the worker starts
        pub.publish(telemetry_topic("drainage", device.id), _payload(seq, 1.2))
        return False

    worker.wait_until(alerted, 120, "alert during warm-up", interval=0.5)
    return seq
