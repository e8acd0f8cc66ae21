"""Helpers for the processors integration tests: the flood feed, a worker process, readers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ioc.core.kafka_auth import kafka_access
from ioc.core.ownership import OWNER_HEADER, owner_keys, owner_partition
from ioc.core.registry import Registry, dump_registry
from ioc.core.schemas import Alert, Reading, reading_to_json
from ioc.core.settings import Settings
from ioc.core.topic_reader import read_to_end, topic_partitions
from ioc.processors.backtest import run_backtest
from ioc.processors.detector import Detector
from ioc.testing import kafka_groups, processes
from ioc.testing.factories import ScenarioFeed, scenario_feed
from ioc.testing.influx import ScopedBucket, scoped_bucket


@dataclass(frozen=True)
class Flood:
    """The flash-flood scenario as readings, its registry file and the flooded wards."""

    feed: ScenarioFeed
    registry_file: Path
    flooded: frozenset[str]
    reference: tuple[Alert, ...]  # alert changes of one in-process Detector over the feed
    backtest: tuple[Alert, ...]  # `ioc backtest` of the same feed (its MQTT messages)

    @property
    def readings(self) -> list[Reading]:
        """All normalized readings, in time order."""
        return self.feed.readings

    @property
    def owners(self) -> dict[str, str]:
        """Device id -> owner key, as the bridge places readings."""
        return owner_keys(Registry(self.feed.catalog))


@pytest.fixture(scope="session")
def flood(tmp_path_factory: pytest.TempPathFactory) -> Flood:
    """The flash-flood feed (built once per session)."""
    feed = scenario_feed("flash-flood", seed=_SEED, start=_START)
    path = tmp_path_factory.mktemp("registry") / "devices.yaml"
    dump_registry(feed.catalog, path)
    flooded = frozenset(e.ward for e in feed.plan.expected if e.rule == "flood.localized")
    assert flooded, "the flash-flood scenario floods no ward"
    registry = Registry(feed.catalog)
    detector, reference = Detector(registry), []
    for r in feed.readings:
        reference += detector.process(r)
    return Flood(feed, path, flooded, tuple(reference), _backtest(feed, registry))


_SEED, _START = 7, datetime(2025, 6, 2, 6, 0, tzinfo=UTC)


def _backtest(feed: ScenarioFeed, registry: Registry) -> tuple[Alert, ...]:
    """`run_backtest` over the scenario's MQTT messages, as `ioc sim run` records them."""
    from ioc.sensors_sim.generator import generate
    from ioc.sensors_sim.scenarios import get_scenario

    scenario = get_scenario("flash-flood")
    lines = [orjson.dumps({"at": (m.sim_time - _START).total_seconds(), "topic": m.topic,
                           "payload": m.payload.decode()})
             for m in generate(feed.catalog, scenario, _SEED, _START,
                               scenario.default_duration_s)]
    result = run_backtest(lines, registry)
    assert result.readings == len(feed.readings)
    return tuple(result.alerts)


@pytest.fixture
def prefix() -> str:
    """A unique topic prefix (and so unique consumer groups) for one test."""
    return f"test-{uuid.uuid4().hex[:10]}."


def produce(settings: Settings, topic: str, readings: Iterable[Reading], times: int = 1, *,
            owners: Mapping[str, str] | None = None) -> int:
    """Send readings keyed by device id (each `times` times in a row); returns messages sent.

    With `owners` (device id -> owner key) each goes to its owner's partition with the owner
    header, as the bridge writes them; without, the worker re-keys them all through its
    internal topic, which keeps each device's order but not a ward's (see
    docs/architecture.md, "Ordering").
    """
    producer = KafkaProducer(**kafka_access(settings).client_options(), acks="all",
                             linger_ms=20, batch_size=256 * 1024)
    sent = 0
    try:
        for r in readings:
            value, owner = reading_to_json(r), owners[r.device_id] if owners else None
            for _ in range(times):
                if owner is None:
                    producer.send(topic, key=r.device_id.encode(), value=value)
                else:
                    producer.send(topic, key=r.device_id.encode(), value=value,
                                  partition=owner_partition(owner, settings.kafka_partitions),
                                  headers=[(OWNER_HEADER, owner.encode())])
                sent += 1
        producer.flush(timeout=60)
    finally:
        producer.close()
    return sent


class WorkerProcess(processes.WorkerProcess):
    """`python -m ioc worker` over the flood registry; each start logs to its own file."""

    def __init__(self, prefix: str, flood: Flood, log_dir: Path, *,
                 bucket: Bucket | None = None, state: bool = True, name: str = "worker",
                 processes: int = 1) -> None:
        # a storing worker gets only its bucket's write-only token, as in production
        super().__init__(prefix, flood.registry_file, log_dir / f"{name}-1.log",
                         bucket=bucket.name if bucket else None,
                         env=bucket.scoped.env() if bucket else None, processes=processes)
        if not state:
            self.argv.append("--no-state")
        self._log_dir, self._name = log_dir, name

    def start(self, log_file: Path | None = None) -> None:
        """Start (or restart) the worker, logging to <name>-<n>.log."""
        super().start(log_file or self._log_dir / f"{self._name}-{self.starts + 1}.log")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit within `timeout`."""
        return super().stop(timeout)


@pytest.fixture
def worker_process(flood: Flood, prefix: str,
                   tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory of worker processes for this test's prefix; all are stopped afterwards."""
    made: list[WorkerProcess] = []

    def make(bucket: Bucket | None = None, state: bool = True,
             name: str = "worker") -> WorkerProcess:
        w = WorkerProcess(prefix, flood, tmp_path, bucket=bucket, state=state, name=name)
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


class AlertLog:
    """Every alert version published on an alerts topic, read up to its end on each poll."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self._consumer = KafkaConsumer(**kafka_access(settings).client_options(),
                                       group_id=None, enable_auto_commit=False,
                                       allow_auto_create_topics=False)
        self._topic, self._parts = topic, list[TopicPartition]()
        self._read: dict[TopicPartition, int] = {}  # the next offset of each partition
        self.versions: list[Alert] = []

    def poll(self) -> list[Alert]:
        """Read everything published so far; returns all versions seen."""
        if not self._parts:
            self._parts = topic_partitions(self._consumer, self._topic)
            if not self._parts:
                return self.versions  # the worker has not created the topic yet
        for rec in read_to_end(self._consumer, self._parts, start=self._read, poll_ms=200):
            self.versions.append(Alert.from_json(rec.value or b""))
            self._read[TopicPartition(self._topic, rec.partition)] = rec.offset + 1
        return self.versions

    def latest(self) -> dict[str, Alert]:
        """The newest version of each alert id (after reading what arrived)."""
        out: dict[str, Alert] = {}
        for a in self.poll():
            if a.id not in out or out[a.id].version < a.version:
                out[a.id] = a
        return out

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()


@pytest.fixture
def alert_log(settings: Settings) -> Iterator[Callable[[str], AlertLog]]:
    """Factory of AlertLog readers, closed afterwards."""
    made: list[AlertLog] = []

    def make(topic: str) -> AlertLog:
        made.append(AlertLog(settings, topic))
        return made[-1]

    yield make
    for log in made:
        log.close()


def caught_up(settings: Settings, group: str, topics: Iterable[str]) -> bool:
    """Whether `group` has committed every partition of `topics` up to its end offset."""
    return kafka_groups.caught_up(kafka_access(settings), group, list(topics))


WARD_RULES = ("flood.level", "flood.localized")  # flood.rising may fire anywhere it rains


def await_consumed(settings: Settings, worker: WorkerProcess, eventually: Callable[..., None],
                   *topics: str, timeout: float = 90.0) -> None:
    """Wait until the worker's group has committed all of `topics` (default: its telemetry
    and internal topic) up to their end; fail if the worker died meanwhile."""
    names = topics or (worker.topics.telemetry, worker.topics.owned)
    eventually(lambda: not worker.alive() or caught_up(settings, worker.group, names),
               timeout=timeout, interval=0.5, what=f"the worker to commit all of {names}")
    assert worker.alive(), worker.log()


def assert_flood_detected(log: AlertLog, flood: Flood, eventually: Callable[..., None]) -> None:
    """flood.localized in exactly the flooded wards; the same flood.level episodes as offline
    (per-device rules do not depend on how partitions interleave)."""
    def localized() -> set[str]:
        return {a.subject for a in log.poll() if a.rule == "flood.localized"}

    eventually(lambda: localized() >= flood.flooded, timeout=20,
               what=f"flood.localized for {sorted(flood.flooded)}")
    assert localized() == flood.flooded
    assert {a.ward for a in log.poll() if a.rule in WARD_RULES} == flood.flooded
    level_ids = {a.id for a in flood.reference if a.rule == "flood.level"}
    assert {a.id for a in log.poll() if a.rule == "flood.level"} == level_ids


@dataclass(frozen=True)
class Bucket:
    """A throw-away InfluxDB bucket mapped for InfluxQL as database `name`, scoped tokens."""

    scoped: ScopedBucket

    @property
    def name(self) -> str:
        """The bucket (and InfluxQL database) name."""
        return self.scoped.name

    def influxql(self, query: str) -> list[dict[str, Any]]:
        """Run an InfluxQL query through /query with the read-only token; the series."""
        settings = self.scoped.settings
        token = settings.influx_token_for("read")
        response = requests.get(f"{settings.influx_url}/query", timeout=10,
                                params={"db": self.name, "q": query},
                                headers={"Authorization": f"Token {token}"})
        response.raise_for_status()
        result = response.json()["results"][0]
        assert "error" not in result, result
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def count(self, measurement: str, field: str) -> int:
        """`SELECT count(field) FROM measurement`, 0 when there are no points."""
        series = self.influxql(f'SELECT count("{field}") FROM "{measurement}"')
        return int(series[0]["values"][0][1]) if series else 0


@pytest.fixture
def influx_bucket(influx_service: Settings) -> Iterator[Bucket]:
    """A unique bucket with a DBRP mapping (so InfluxQL works), deleted afterwards."""
    with scoped_bucket(influx_service) as scoped:
        yield Bucket(scoped)
