"""A login flood from its own process: `concurrency` clients send bogus logins back to back."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import httpx

__all__ = ["FloodReport", "run_flood"]


@dataclass
class FloodReport:
    """What the flood saw: statuses, the 429s' Retry-After and messages, its time span."""

    statuses: Counter[int] = field(default_factory=Counter)
    retry_after: set[str] = field(default_factory=set)
    details: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)  # requests with no answer, by kind
    crashed: str = ""  # why the flood stopped early, if it did
    first: float = 0.0
    last: float = 0.0


async def _flood(url: str, concurrency: int, duration_s: float, running: Event) -> FloodReport:
    report = FloodReport(first=time.time())
    until = time.monotonic() + duration_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def attacker(i: int) -> None:
            n = 0
            while time.monotonic() < until:
                # half guess the password of a real user, half try made-up names
                name = "oper" if i % 2 else f"bogus-{i}-{n}"
                n += 1
                try:
                    resp = await client.post("/api/v1/auth/token",
                                             data={"username": name, "password": "guess-123456"})
                except httpx.HTTPError as exc:  # counted: the test decides what is too many
                    report.errors[type(exc).__name__] += 1
                    continue
                report.statuses[resp.status_code] += 1
                if resp.status_code == 429:
                    report.retry_after.add(resp.headers.get("retry-after", ""))
                    report.details.add(resp.json()["detail"].split(";")[0])
                running.set()

        await asyncio.gather(*(attacker(i) for i in range(concurrency)))
    report.last = time.time()
    return report


def run_flood(url: str, concurrency: int, duration_s: float, running: Event,
              out: Queue[FloodReport]) -> None:
    """Process target: flood for `duration_s`, then put the report on `out` (also when the
    flood itself fails, saying why, so the test reports that instead of an empty queue)."""
    try:
        report = asyncio.run(_flood(url, concurrency, duration_s, running))
    except Exception as exc:
        report = FloodReport(crashed=f"{type(exc).__name__}: {exc}")
    out.put(report)
