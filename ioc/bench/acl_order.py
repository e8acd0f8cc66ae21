"""Mosquitto's CPU per QoS 1 publish of a 250-device gateway, its ACLs in scan order
(telemetry first, `mqtt_identities.scan_order`) beside plain sorted order (each device's
status and telemetry entries side by side, as before): Mosquitto 2.0's dynamic-security
plugin tries a client's ACLs one by one, in the order it was given them.

Each run provisions two throwaway gateways of their own devices, one per order, and sends
the same messages through each in turn (which goes first alternates between runs), reading
the broker's CPU time from /proc around each. No subscriber takes the messages: the figure
is the broker's work per publish it receives (parse, ACL check, journal, PUBACK).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from ioc.bench.publishers import PublisherPool
from ioc.bench.rss import read_cpu_s
from ioc.bench.trials import PROBLEMS
from ioc.core.errors import ServiceError
from ioc.core.mqtt_identities import AclOrder, scan_order
from ioc.core.settings import Settings, state_dir
from ioc.core.topics import telemetry_topic
from ioc.testing.mqtt_logins import GATEWAY_DEVICES, run_gateways

__all__ = ["run_acl_order_bench"]

_ORDERS: dict[str, AclOrder] = {"scan_order": scan_order, "sorted": sorted}
_PAYLOAD = b'{"id":"x","type":"WaterLevel","waterLevel":0.3}'
_IN_FLIGHT = 20_000  # unacknowledged messages at most, so the broker never queues a backlog
_runs = 0  # runs so far in this process: which order goes first alternates


def _broker_pid() -> int:
    try:
        return int((state_dir() / "run" / "mosquitto.pid").read_text().strip())
    except (OSError, ValueError) as exc:
        raise ServiceError("Mosquitto is not running here (`ioc services up`)") from exc


def _send(pool: PublisherPool, devices: list[str], n: int) -> None:
    topics = [telemetry_topic("drainage", d) for d in devices]
    for i in range(n):
        pool.publish(devices[i % len(devices)], topics[i % len(devices)], _PAYLOAD)
        if pool.queued >= 500:
            pool.flush()
            while pool.sent - pool.acked > _IN_FLIGHT:
                time.sleep(0.002)  # pacing the load on the broker's acknowledgements


def _one(settings: Settings, order: str, n: int, pid: int) -> tuple[float, list[str]]:
    """Broker CPU-µs per publish through a fresh gateway whose ACLs are in `order`."""
    tag = uuid.uuid4().hex[:6]
    devices = [f"acl{tag}-{i:03d}" for i in range(GATEWAY_DEVICES)]
    with run_gateways(settings, f"gw-acl-{tag}-", "drainage", devices,
                      acl_order=_ORDERS[order]) as gateways:
        pool = PublisherPool(settings, gateways, "wire")
        try:
            before = read_cpu_s(pid)
            _send(pool, devices, n)
            done = pool.wait_acked(120)
            after = read_cpu_s(pid)
            problems = [] if done else [f"{order}: {pool.sent - pool.acked} never acknowledged"]
            if pool.refused:
                problems.append(f"{order}: {pool.refused} publishes refused by the ACLs")
        finally:
            pool.close()
    if before is None or after is None:
        raise ServiceError("Mosquitto stopped during the run")
    return (after - before) / n * 1e6, problems


def run_acl_order_bench(settings: Settings, n: int = 100_000,
                        progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """One run: `n` publishes through a gateway of each ACL order."""
    global _runs
    pid = _broker_pid()
    orders = list(_ORDERS) if _runs % 2 == 0 else list(reversed(_ORDERS))
    _runs += 1
    out: dict[str, Any] = {"messages": n, "devices_per_gateway": GATEWAY_DEVICES}
    problems: list[str] = []
    for order in orders:
        progress(f"{n} publishes through a gateway with its ACLs in {order.replace('_', ' ')}…")
        us, found = _one(settings, order, n, pid)
        out[f"broker_cpu_us_per_publish_{order}"] = round(us, 2)
        problems += found
    out["ratio_broker_cpu"] = round(out["broker_cpu_us_per_publish_scan_order"]
                                    / out["broker_cpu_us_per_publish_sorted"], 3)
    if problems:
        out[PROBLEMS] = problems
    return out
