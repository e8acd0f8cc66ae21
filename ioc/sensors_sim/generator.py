"""The simulator core: a pure, deterministic iterator of (sim_time, topic, payload) messages."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import orjson

from ioc.core.registry import Device
from ioc.core.topics import status_topic, telemetry_topic
from ioc.sensors_sim.faults import Injection, fault_message
from ioc.sensors_sim.readings import DeviceModels
from ioc.sensors_sim.scenarios import Plan, Scenario
from ioc.sensors_sim.world import Environment, unit_hash

__all__ = ["Annotated", "SimMessage", "generate", "generate_annotated", "run_plan"]


class SimMessage(NamedTuple):
    """One MQTT message of the simulation: when (UTC), where, what bytes."""

    sim_time: datetime
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Annotated:
    """A message with the injected fault it carries, if any (for tests and backtests)."""

    message: SimMessage
    injection: Injection | None = None


def generate(catalog: Sequence[Device], scenario: Scenario, seed: int, start: datetime,
             duration_s: float) -> Iterator[SimMessage]:
    """Messages of `scenario` over `catalog` from `start` for `duration_s`, in time order."""
    for item in generate_annotated(catalog, scenario, seed, start, duration_s):
        yield item.message


def generate_annotated(catalog: Sequence[Device], scenario: Scenario, seed: int,
                       start: datetime, duration_s: float) -> Iterator[Annotated]:
    """Like generate(), each message paired with its injected fault (None when normal)."""
    start_s = start.timestamp()
    plan = scenario.plan(catalog, start_s, duration_s, seed)
    return run_plan(catalog, plan, seed, start_s, duration_s)


def run_plan(catalog: Sequence[Device], plan: Plan, seed: int, start_s: float,
             duration_s: float) -> Iterator[Annotated]:
    """Run a prepared plan; the loop behind generate_annotated()."""
    env = Environment(plan.storms, start_s)
    models = DeviceModels(catalog, plan, env, seed)
    index = {d.id: i for i, d in enumerate(catalog)}
    topics = [telemetry_topic(d.domain, d.id) for d in catalog]
    silent = {index[dev]: at for dev, at in plan.silent if dev in index}
    # Devices start at a per-device phase in their interval so reports spread evenly.
    heap = [(start_s + d.interval_s * unit_hash(seed, d.id + ":p"), i)
            for i, d in enumerate(catalog)]
    heapq.heapify(heap)
    injections = sorted(plan.injections, key=lambda j: j.at_s)
    next_fault = 0
    last: dict[int, bytes] = {}
    end_s = start_s + duration_s
    utc = UTC
    from_ts = datetime.fromtimestamp
    dumps = orjson.dumps
    while heap and heap[0][0] < end_s:
        t, i = heap[0]
        while next_fault < len(injections) and injections[next_fault].at_s <= t:
            yield _inject(injections[next_fault], models, index, last)
            next_fault += 1
        if i in silent and t >= silent[i]:
            heapq.heappop(heap)
            if catalog[i].id in plan.offline_status:
                topic = status_topic(catalog[i].domain, catalog[i].id)
                yield Annotated(SimMessage(from_ts(t, utc), topic, b"offline"))
            continue
        env.advance(t)
        payload = dumps(models.reading(i, t))
        last[i] = payload
        heapq.heapreplace(heap, (t + catalog[i].interval_s, i))
        yield Annotated(SimMessage(from_ts(t, utc), topics[i], payload))


def _inject(injection: Injection, models: DeviceModels, index: dict[str, int],
            last: dict[int, bytes]) -> Annotated:
    i = index[injection.device_id]
    device = models.devices[i]
    t = injection.at_s
    doc = models.reading(i, t)
    past = models.past_reading(i, t, 10 * device.interval_s)
    topic, payload = fault_message(injection.kind, device, doc, last.get(i), past)
    return Annotated(SimMessage(datetime.fromtimestamp(t, UTC), topic, payload), injection)
