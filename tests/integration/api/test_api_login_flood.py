"""Login flood against a real `ioc api serve`: other requests stay fast, floods get 429."""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable

import httpx
import requests

from tests.integration.api.api_helpers import login
from tests.integration.api.api_process import ApiProcess
from tests.integration.api.login_flood import FloodReport, run_flood

CONCURRENCY = 80
FLOOD_S = 12.0
MEASURE_S = 6.0
P99_LIMIT_S = 0.100  # on a quiet machine; scaled by the baselines of the same run (below)
BASELINE_FACTOR = 20.0  # hashes on the event loop made it seconds (6,877 ms against 3.1 ms)


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def _timed_me(session: requests.Session, url: str, headers: dict[str, str]) -> float:
    """Seconds one GET /auth/me took; it must answer 200."""
    t0 = time.perf_counter()
    resp = session.get(f"{url}/api/v1/auth/me", headers=headers, timeout=30)
    elapsed = time.perf_counter() - t0
    assert resp.status_code == 200, resp.text
    return elapsed


def test_login_flood_leaves_auth_me_fast_and_is_throttled(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    me_headers = {"Authorization": f"Bearer {login(served.url, 'view')}"}
    session = requests.Session()
    # the same calls without a flood, in the same run: on a loaded machine both are slower
    baseline = [_timed_me(session, served.url, me_headers) for _ in range(100)]
    ctx = multiprocessing.get_context("spawn")
    running, out = ctx.Event(), ctx.Queue()
    flood = ctx.Process(target=run_flood, daemon=True,
                        args=(served.url, CONCURRENCY, FLOOD_S, running, out))
    flood.start()
    try:
        assert running.wait(60), "the flood process never got an answer"
        samples: list[float] = []
        start = time.time()
        while time.time() - start < MEASURE_S or len(samples) < 50:
            assert flood.is_alive(), "the flood ended before 50 /auth/me samples"
            samples.append(_timed_me(session, served.url, me_headers))
        measured_until = time.time()
        report: FloodReport = out.get(timeout=FLOOD_S + 60)
    finally:
        flood.join(30)
        if flood.is_alive():
            flood.kill()
    assert not report.crashed, f"the flood process failed: {report.crashed}"
    # and after it: the other processes' load changes within a minute; the worse side counts
    after = [_timed_me(session, served.url, me_headers) for _ in range(100)]
    base_p99 = max(_p99(baseline), _p99(after))
    limit = max(P99_LIMIT_S, BASELINE_FACTOR * base_p99)
    p99 = _p99(samples)
    assert p99 < limit, (f"/auth/me p99 {p99 * 1000:.0f} ms over {len(samples)} calls "
                         f"(median {statistics.median(samples) * 1000:.1f} ms) during "
                         f"{dict(report.statuses)}; limit {limit * 1000:.0f} ms (baseline "
                         f"p99 before {_p99(baseline) * 1000:.1f} ms, after "
                         f"{_p99(after) * 1000:.1f} ms)")
    # the flood covered the whole measurement, and it was a flood
    answered = sum(report.statuses.values())
    # a refused or reset connection now and then on a loaded machine is not the claim; an API
    # that stops answering is
    assert sum(report.errors.values()) <= 0.05 * answered, (report.errors, report.statuses)
    assert report.first <= start and report.last >= measured_until
    assert sum(report.statuses.values()) >= 5 * CONCURRENCY, report.statuses
    # almost every bogus login was throttled, with a reason and when to retry
    assert set(report.statuses) <= {401, 429}, report.statuses
    assert report.statuses[401] <= 20  # the address limit: every failure counts against it
    assert report.details >= {"too many failed logins for this client address"}
    assert report.retry_after and all(1 <= int(v) <= 300 for v in report.retry_after)


def _login(served: ApiProcess, source: str, name: str, password: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(f"{served.url}/api/v1/auth/token",
                           data={"username": name, "password": password})


def test_failures_for_admin_from_one_address_do_not_lock_admin_out_of_another(
        api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    # the attack: wrong passwords for the admin `boss` from one address, to lock the admin out
    for _ in range(5):
        assert _login(served, "127.0.0.10", "boss", "wrong-guess").status_code == 401
    locked = _login(served, "127.0.0.10", "boss", "password-boss")  # the right one, same address
    assert locked.status_code == 429
    assert "for this user name from this client address" in locked.json()["detail"]
    assert 1 <= int(locked.headers["retry-after"]) <= 300
    # the real admin, from another address, still gets in; the attacker's address is not
    # locked for other users either
    assert _login(served, "127.0.0.11", "boss", "password-boss").status_code == 200
    assert _login(served, "127.0.0.10", "view", "password-view").status_code == 200


def test_throttling_per_client_address(api_process: Callable[..., ApiProcess]) -> None:
    served = api_process()
    # one address trying many names is stopped, without locking anyone else out
    for i in range(20):
        assert _login(served, "127.0.0.30", f"guess-{i}", "x-password").status_code == 401
    blocked = _login(served, "127.0.0.30", "view", "password-view")
    assert blocked.status_code == 429 and "client address" in blocked.json()["detail"]
    assert _login(served, "127.0.0.31", "view", "password-view").status_code == 200
