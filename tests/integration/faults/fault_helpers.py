"""Helpers of the fault tests: what InfluxDB holds point by point, and what it should hold."""

from __future__ import annotations

import calendar
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import requests

from ioc.bench.loadgen import Publisher, traffic_payload
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.schemas import Reading
from ioc.core.settings import Settings

MEASUREMENTS = ("traffic", "streetlight", "drainage")

Point = tuple[str, str, int]  # (measurement, device, time in ns)

def reading_point(r: Reading) -> Point:
    """The point a reading must become: its domain, device and own observed time."""
    t = r.observed_at
    ns = (calendar.timegm(t.utctimetuple()) * 1_000_000 + t.microsecond) * 1000
    return r.domain, r.device_id, ns

def expected_points(readings: Iterable[Reading]) -> set[Point]:
    """Every distinct point the readings must leave in InfluxDB."""
    return {reading_point(r) for r in readings}

def stored_points(settings: Settings, database: str,
                  measurements: Iterable[str] = MEASUREMENTS) -> Counter[Point]:
    """Every point in the bucket by (measurement, device, time), counted.

    Grouping by device only merges the series that share a device but differ in another
    tag, so a reading stored twice under two tag sets shows up as a count of 2.
    """
    token = settings.influx_token_for("read")
    out: Counter[Point] = Counter()
    for m in measurements:
        response = requests.get(f"{settings.influx_url}/query", timeout=60, params={
            "db": database, "epoch": "ns", "q": f'SELECT "seq" FROM "{m}" GROUP BY "device"'},
            headers={"Authorization": f"Token {token}"})
        response.raise_for_status()
        result = response.json()["results"][0]
        assert "error" not in result, result
        for series in result.get("series", []):
            device = series["tags"]["device"]
            out.update((m, device, int(row[0])) for row in series["values"])
    return out

def exactly_once(stored: Counter[Point], expected: set[Point]) -> str:
    """'' when InfluxDB holds every expected point once and nothing else, else what differs."""
    missing = expected - stored.keys()
    extra = stored.keys() - expected
    twice = [p for p, n in stored.items() if n > 1]
    if not (missing or extra or twice):
        return ""
    return (f"{len(missing)} missing (e.g. {sorted(missing)[:3]}), {len(extra)} unexpected, "
            f"{len(twice)} stored more than once (e.g. {twice[:3]})")

class TrackingPublisher(Publisher):
    """A QoS 1 gateway publisher that remembers which messages the broker acknowledged.

    paho keeps unacknowledged messages (also those published while disconnected) and sends
    them again after a reconnect; a message counts as acknowledged once its PUBACK arrived,
    from whichever attempt. At most 65,535 messages (one packet id each).
    """

    def __init__(self, settings: Settings, login: MqttLogin) -> None:
        self._keys: dict[int, tuple[str, int]] = {}
        self._acked_mids: list[int] = []  # appended by paho's thread (atomic in CPython)
        self._reasons: dict[int, str] = {}
        self._acked_at: dict[int, float] = {}  # mid -> time.monotonic() of its first PUBACK
        super().__init__(settings, login)

    def _on_publish(self, client: Any, userdata: Any, mid: int, *args: Any) -> None:
        self._acked_mids.append(mid)
        self._acked_at.setdefault(mid, time.monotonic())
        self._reasons[mid] = str(args[0]) if args else ""

    def send(self, topic: str, seq: int, device: str) -> None:
        """Publish one traffic reading `seq` of `device` with QoS 1."""
        info = self._client.publish(topic, traffic_payload(seq), qos=1)
        assert info.mid not in self._keys, "packet ids wrapped: publish fewer messages"
        self._keys[info.mid] = (device, seq)
        self.sent += 1

    def acked_keys(self) -> set[tuple[str, int]]:
        """(device, seq) of every message the broker has acknowledged so far."""
        return {self._keys[mid] for mid in list(self._acked_mids) if mid in self._keys}

    def acked_at(self, keys: Iterable[tuple[str, int]]) -> list[float]:
        """When the broker acknowledged these messages (time.monotonic()), sorted."""
        mids = {key: mid for mid, key in self._keys.items()}
        return sorted(self._acked_at[mids[k]] for k in keys if mids.get(k) in self._acked_at)

    def reasons(self, keys: Iterable[tuple[str, int]]) -> Counter[str]:
        """The PUBACK reason codes of these messages, counted ('No matching subscribers':
        the broker acknowledged a message it delivered to nobody)."""
        mids = {key: mid for mid, key in self._keys.items()}
        return Counter(self._reasons.get(mids[k], "?") for k in keys)
