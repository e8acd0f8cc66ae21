"""Prometheus metrics of one bridge and the small HTTP server for /metrics and /ready."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

__all__ = ["BridgeMetrics", "StatusServer"]

log = logging.getLogger(__name__)


class BridgeMetrics:
    """Counters, gauges and the send-latency histogram, in a registry of their own."""

    def __init__(self, inflight: Callable[[], float]) -> None:
        # A registry per bridge lets several bridges run in one process (tests, benchmarks).
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter("ioc_bridge_received", "MQTT messages received", registry=r)
        self.forwarded = Counter("ioc_bridge_forwarded", "Records Kafka confirmed, by kind",
                                 ["kind"], registry=r)
        self.deadlettered = Counter("ioc_bridge_deadlettered", "Messages sent to dead letters",
                                    ["reason"], registry=r)
        self.send_failed = Counter("ioc_bridge_send_failed",
                                   "Records Kafka finally refused (left unacked)", registry=r)
        self.stale = Counter("ioc_bridge_stale", "Messages of a lost connection, forwarded "
                             "but never acked", registry=r)
        self.skipped = Counter("ioc_bridge_skipped", "Readings acked without forwarding: "
                               "another bridge member forwards that device", registry=r)
        self.reconnects = Counter("ioc_bridge_reconnects", "MQTT session restarts", registry=r)
        self.dropped = Counter("ioc_bridge_dropped", "Messages dropped before Kafka (QoS 0 "
                               "only: a full queue; QoS 1 is never dropped)", ["reason"],
                               registry=r)
        self.queued = Gauge("ioc_bridge_queued", "Received messages waiting for the worker",
                            registry=r)
        self.queued_bytes = Gauge("ioc_bridge_queued_bytes", "Bytes waiting for the worker",
                                  registry=r)
        self.acked = Gauge("ioc_bridge_acked", "MQTT messages acknowledged", registry=r)
        self.send_latency = Histogram(
            "ioc_bridge_kafka_send_seconds", "From send() to Kafka's confirmation",
            buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30),
            registry=r)
        self.inflight = Gauge("ioc_bridge_inflight", "Received messages not yet acked",
                              registry=r)
        self.inflight.set_function(inflight)
        self.forwarded_by_kind = {k: self.forwarded.labels(k)
                                  for k in ("telemetry", "status", "deadletter")}

    def value(self, name: str, **labels: str) -> float:
        """One sample's current value (0 when absent), for tests and the benchmark."""
        got = self.registry.get_sample_value(name, labels or None)
        return float(got) if got is not None else 0.0


class StatusServer:
    """Serves /metrics (Prometheus text), /ready (200 or 503) and /live on one port."""

    def __init__(self, host: str, port: int, metrics: BridgeMetrics,
                 ready: Callable[[], bool]) -> None:
        handler = _make_handler(metrics.registry, ready)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="bridge-http", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when 0 asked for any free one)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()
        log.info("bridge: /metrics and /ready on port %d", self.port)

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


def _make_handler(registry: CollectorRegistry,
                  ready: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/ready":
                ok = ready()
                self._reply(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
            elif path == "/live":
                self._reply(200, b"ok\n")
            else:
                self._reply(404, b"not found\n")

        def _reply(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http: " + format, *args)

    return Handler
