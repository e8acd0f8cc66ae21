"""The whole pipeline for the console's browser test: gateways → Mosquitto → bridge → Kafka →
worker → InfluxDB and alerts → API, over this test's own topics, bucket and registry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ioc.api.context import ApiTopics
from ioc.api.main import create_app
from ioc.bench.loadgen import BridgeProcess, Publisher
from ioc.core.kafka_admin import ensure_topics
from ioc.core.kafka_auth import kafka_access
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.registry import Device, Registry, dump_registry
from ioc.core.settings import Settings
from ioc.ingest.router import KafkaTopics
from ioc.sensors_sim.catalog import generate_catalog
from ioc.sensors_sim.generator import generate
from ioc.sensors_sim.scenarios import get_scenario
from ioc.testing.influx import scoped_bucket
from ioc.testing.kafka_topics import read_records
from ioc.testing.mqtt_logins import run_gateway
from ioc.testing.processes import WorkerProcess
from tests.integration.api.api_helpers import running, seeded_users

__all__ = ["FLOOD_S", "Pipeline", "running_pipeline"]

FLOOD_S = 70 * 60  # long enough for both wards' flood.localized to turn critical


@dataclass
class Pipeline:
    """A running pipeline: the API's URL, the registry and the gateways' logins."""

    url: str
    settings: Settings
    catalog: list[Device]
    gateways: dict[str, MqttLogin]
    topics: KafkaTopics
    worker: WorkerProcess
    bridge: BridgeProcess

    def replay_flash_flood(self, seed: int = 7) -> int:
        """Publish the flash-flood scenario, ending now, as the gateways; returns messages."""
        # the last readings are stamped a few seconds before they are published
        start = datetime.now(UTC) - timedelta(seconds=FLOOD_S + 10)
        by_domain: dict[str, list[tuple[str, bytes]]] = {d: [] for d in self.gateways}
        for m in generate(self.catalog, get_scenario("flash-flood"), seed, start, FLOOD_S):
            by_domain[m.topic.split("/")[2]].append((m.topic, m.payload))
        # one broken message of a registered device, so the dead-letter rate is not just zero
        drain = next(d for d in self.catalog if d.domain == "drainage")
        by_domain["drainage"].append((f"ioc/v1/drainage/{drain.id}/telemetry", b"{not json"))
        return sum(self._publish(self.gateways[d], msgs) for d, msgs in by_domain.items())

    def deadletters(self) -> list[tuple[bytes, bytes]]:
        """(reason, payload) of every record on this run's dead-letter topic."""
        return [(headers.get("reason", b""), value) for _, value, headers
                in read_records(self.settings, self.topics.deadletter)]

    def _publish(self, login: MqttLogin, messages: list[tuple[str, bytes]]) -> int:
        pub = Publisher(self.settings, login)
        try:
            pub.publish_all(messages)
            assert pub.wait_acked(180), f"broker acked {pub.acked} of {pub.sent}"
            assert pub.refused == 0, f"the broker refused {pub.refused} publish(es)"
        finally:
            pub.close()
        return len(messages)


@contextmanager
def running_pipeline(settings: Settings, tmp: Path) -> Iterator[Pipeline]:
    """Bridge, worker (storing into a scoped bucket) and API over unique names."""
    run = uuid.uuid4().hex[:8]
    prefix, catalog = f"test-console-{run}.", generate_catalog()
    registry = tmp / "devices.yaml"
    dump_registry(catalog, registry)
    topics = KafkaTopics.prefixed(prefix)
    ensure_topics(kafka_access(settings), [topics.telemetry, topics.deadletter,
                                           topics.device_status], settings.kafka_partitions)
    with ExitStack() as stack:
        bucket = stack.enter_context(scoped_bucket(settings, "test-console"))
        gateways = {domain: stack.enter_context(run_gateway(
            settings, f"gwc-{domain[:5]}-{run}", domain,
            [(d.domain, d.id) for d in catalog if d.domain == domain]))
            for domain in ("drainage", "traffic", "streetlight")}
        worker = WorkerProcess(prefix, registry, tmp / "worker.log", bucket=bucket.name,
                               env=bucket.env())
        worker.start()
        stack.callback(worker.stop, 30)
        bridge = BridgeProcess(["--client-id", f"console-{run}", "--share-group", f"gc{run}",
                                "--registry", str(registry), "--topic-prefix", prefix],
                               tmp / "bridge.log")
        stack.callback(bridge.stop, 30)
        bridge.wait_ready(90)
        api_topics = ApiTopics(alerts=f"{prefix}ioc.alerts",
                               commands=f"{prefix}ioc.alert-commands",
                               telemetry=topics.telemetry, deadletter=topics.deadletter)
        app = create_app(bucket.settings, registry=Registry(catalog),
                         users=seeded_users(tmp / "users.json"), topics=api_topics)
        url = stack.enter_context(running(app))
        yield Pipeline(url, settings, catalog, gateways, topics, worker, bridge)
