"""Login throttling per (user name, address), per address and per name; the hashing pool."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ioc.api.login_guard import FailureWindow, LoginGuard, LoginThrottled, address_key
from tests.unit.api.api_fakes import Api

TOKEN = "/api/v1/auth/token"


def _login(api: Api, name: str, password: str) -> tuple[int, dict[str, str], str]:
    resp = api.client.post(TOKEN, data={"username": name, "password": password})
    detail = resp.json().get("detail", "")
    return resp.status_code, dict(resp.headers), detail


def test_failures_per_user_and_address_are_limited_then_429_with_retry_after(api: Api) -> None:
    codes = [_login(api, "oper", "wrong-password")[0] for _ in range(5)]
    assert codes == [401] * 5
    status, headers, detail = _login(api, "oper", "password-oper")  # even the right one
    assert status == 429
    assert "too many failed logins for this user name from this client address" in detail
    assert 1 <= int(headers["retry-after"]) <= 300
    # the same address is not locked out for other users
    assert _login(api, "view", "password-view")[0] == 200


def _verify(name: str, password: str) -> str | None:
    return name if password == f"password-{name}" else None


def _attempts(guard: LoginGuard, *attempts: tuple[str, str, str]) -> list[object]:
    """(name, password, address) tried one after the other: the user, or the refusal."""
    async def scenario() -> list[object]:
        results: list[object] = []
        try:
            for name, password, address in attempts:
                try:
                    results.append(await guard.check(_verify, name, password, address))
                except LoginThrottled as exc:
                    results.append(str(exc).split(";")[0])
        finally:
            guard.close()
        return results

    return asyncio.run(scenario())


def test_failures_for_admin_from_one_address_do_not_lock_admin_out_of_another() -> None:
    # the attack: anyone sends a few bogus logins as `admin` to keep the real admin out
    guard = LoginGuard(per_user_address=5, per_address=20, per_user=100, window_s=300,
                       workers=1)
    attack = [("admin", "guess", "10.0.0.66")] * 5
    results = _attempts(guard, *attack, ("admin", "password-admin", "10.0.0.66"),
                        ("admin", "password-admin", "10.0.0.1"))
    assert results[:5] == [None] * 5
    assert results[5] == "too many failed logins for this user name from this client address"
    assert results[6] == "admin"  # the real admin, from its own address, gets in


def test_failures_per_user_name_from_all_addresses_are_capped() -> None:
    # guessing spread over many addresses still meets a (higher) cap per user name
    guard = LoginGuard(per_user_address=5, per_address=20, per_user=6, window_s=300,
                       workers=1)
    spread = [("admin", "guess", f"10.0.0.{i // 2}") for i in range(6)]  # 2 per address
    results = _attempts(guard, *spread, ("admin", "password-admin", "10.0.0.9"),
                        ("view", "password-view", "10.0.0.9"))
    assert results == [None] * 6 + ["too many failed logins for this user name", "view"]


def test_failures_per_client_address_are_limited(api: Api) -> None:
    codes = [_login(api, f"nobody-{i}", "wrong-password")[0] for i in range(20)]
    assert codes == [401] * 20
    status, headers, detail = _login(api, "view", "password-view")
    assert status == 429 and "client address" in detail and int(headers["retry-after"]) >= 1


@pytest.mark.parametrize(("address", "key"), [
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client on a dual-stack socket
    ("192.0.2.7", "192.0.2.7"),
    ("unknown", "unknown"),
])
def test_ipv6_addresses_are_keyed_by_their_64(address: str, key: str) -> None:
    assert address_key(address) == key


def test_one_ipv6_64_counts_as_one_address() -> None:
    # an IPv6 client owns a whole /64: a new address per attempt must not reset its count
    guard = LoginGuard(per_user_address=5, per_address=20, per_user=100, window_s=300,
                       workers=1)
    rotating = [(f"guess-{i}", "x", f"2001:db8:0:1::{i + 1:x}") for i in range(20)]
    admin = [("admin", "x", f"2001:db8:0:2::{i + 1:x}") for i in range(5)]
    results = _attempts(guard, *rotating, ("view", "password-view", "2001:db8:0:1::ff"),
                        *admin, ("admin", "password-admin", "2001:db8:0:2::ff"),
                        ("admin", "password-admin", "2001:db8:0:3::1"))
    assert results[:20] == [None] * 20
    assert results[20] == "too many failed logins for this client address"
    assert guard.refusal("2001:db8:0:1::abc") is not None  # the gate before the form, too
    assert results[21:26] == [None] * 5
    assert results[26] == "too many failed logins for this user name from this client address"
    assert results[27] == "admin"  # another /64 is another client


def test_successful_logins_do_not_count(api: Api) -> None:
    for _ in range(30):
        assert _login(api, "view", "password-view")[0] == 200


def test_window_slides() -> None:
    now = [0.0]
    window = FailureWindow(limit=2, window_s=60, clock=lambda: now[0])
    window.charge("a")
    now[0] = 10
    window.charge("a")
    assert window.retry_after("a") == 50 and window.retry_after("b") == 0
    now[0] = 60  # the first failure left the window
    assert window.retry_after("a") == 0
    window.charge("a")
    window.refund("a")
    assert window.retry_after("a") == 0


def test_remembered_keys_are_bounded() -> None:
    window = FailureWindow(limit=1, window_s=60, max_keys=3)
    for key in "abcd":
        window.charge(key)
    assert window.retry_after("a") == 0  # the oldest was forgotten
    assert all(window.retry_after(k) > 0 for k in "bcd")


def test_full_hashing_queue_answers_429_and_runs_nothing_more() -> None:
    release, started = threading.Event(), []

    def slow(name: str, password: str) -> str | None:
        started.append(name)
        release.wait(10)
        return None

    async def scenario() -> list[object]:
        guard = LoginGuard(per_user_address=100, per_address=100, per_user=100, window_s=60,
                           workers=1, max_pending=2)
        try:
            attempts = [asyncio.ensure_future(guard.check(slow, f"u{i}", "pw", "1.2.3.4"))
                        for i in range(4)]
            done = await asyncio.gather(*attempts[2:], return_exceptions=True)
            release.set()
            return [*done, *await asyncio.gather(*attempts[:2], return_exceptions=True)]
        finally:
            guard.close()

    results = asyncio.run(scenario())
    assert [type(r) for r in results] == [LoginThrottled, LoginThrottled, type(None),
                                          type(None)]
    assert isinstance(results[0], LoginThrottled) and results[0].retry_after_s == 1
    assert sorted(started) == ["u0", "u1"]  # the refused attempts hashed nothing


def test_hashing_runs_off_the_event_loop_thread() -> None:
    threads: list[str] = []

    def verify(name: str, password: str) -> str:
        threads.append(threading.current_thread().name)
        return name

    async def scenario() -> str | None:
        guard = LoginGuard(5, 5, 100, 60, workers=1)
        try:
            return await guard.check(verify, "u", "pw", "addr")
        finally:
            guard.close()

    assert asyncio.run(scenario()) == "u"
    assert threads[0].startswith("ioc-login-hash")


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrent_attempts_count_before_they_finish(limit: int) -> None:
    # charged up front: a burst cannot slip past the limit while its hashes are queued
    release = threading.Event()

    def slow(name: str, password: str) -> None:
        release.wait(10)

    async def scenario() -> int:
        guard = LoginGuard(per_user_address=limit, per_address=100, per_user=100,
                           window_s=60, workers=1, max_pending=50)
        try:
            tasks = [asyncio.ensure_future(guard.check(slow, "same", "pw", "a"))
                     for _ in range(10)]
            release.set()  # the tasks have not run yet: each is admitted or not on its own
            results = await asyncio.gather(*tasks, return_exceptions=True)
            return sum(isinstance(r, LoginThrottled) for r in results)
        finally:
            guard.close()

    assert asyncio.run(scenario()) == 10 - limit
