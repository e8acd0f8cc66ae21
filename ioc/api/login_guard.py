"""Login throttling per (user name, client address), per address and per name; hashing threads.

A login costs one PBKDF2 hash (~0.3 s of CPU). Hashing on the server's shared thread pool let
a flood of bogus logins starve every other request, so hashes run on a small executor of their
own with a bounded queue, and attempts beyond the failure limits are answered 429 without
hashing at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ioc.core.errors import IocError

__all__ = ["FailureWindow", "HashingPool", "LoginBusy", "LoginGuard", "LoginThrottled",
           "address_key"]

Result = TypeVar("Result")
MAX_KEYS = 10_000  # names/addresses remembered; the least recently used are forgotten first
IPV6_PREFIX = 64  # one IPv6 host usually holds a whole /64: counting per address is useless


def address_key(address: str) -> str:
    """The throttling key of a client address: IPv6 by its /64, IPv4 (also v4-mapped) as is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", a socket path, or already a key
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        host_bits = 128 - IPV6_PREFIX
        return f"{ipaddress.IPv6Address(int(ip) >> host_bits << host_bits)}/{IPV6_PREFIX}"
    return str(ip)


class LoginThrottled(IocError):
    """Too many failed logins (see LoginGuard); retry after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class LoginBusy(IocError):
    """Every hashing slot is taken."""


class FailureWindow:
    """Failed attempts per key within a sliding window; at most `limit` per key are allowed."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self.limit, self.window_s, self._clock, self._max_keys = limit, window_s, clock, max_keys
        self._times: dict[str, deque[float]] = {}  # insertion order = least recently charged

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again (0: now)."""
        times = self._times.get(key)
        if not times:
            return 0.0
        now = self._clock()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[0] + self.window_s - now

    def charge(self, key: str) -> None:
        """Count one attempt against `key` (charged up front, so concurrent ones count too)."""
        times = self._times.pop(key, None) or deque()
        self._times[key] = times
        times.append(self._clock())
        while len(times) > self.limit:
            times.popleft()
        if len(self._times) > self._max_keys:
            del self._times[next(iter(self._times))]

    def refund(self, key: str) -> None:
        """Take back one charge (the attempt succeeded)."""
        times = self._times.get(key)
        if times:
            times.pop()


class HashingPool:
    """A fixed number of hashing threads and at most `max_pending` hashes queued or running."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="ioc-login-hash")
        self._free = max_pending

    async def run(self, fn: Callable[..., Result], *args: object) -> Result:
        """`fn(*args)` on a hashing thread; LoginBusy when the queue is full."""
        if self._free <= 0:
            raise LoginBusy("too many logins in progress")
        self._free -= 1
        loop = asyncio.get_running_loop()
        future = self._executor.submit(fn, *args)
        # the slot is freed when the hash is done, even if the client went away before that
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        return await asyncio.wrap_future(future)

    def _release(self) -> None:
        self._free += 1

    def close(self) -> None:
        """Stop the threads; queued hashes are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class LoginGuard:
    """Admits a login attempt or raises LoginThrottled; runs the password check on the pool.

    The strict failure limit is per (user name, client address): counting failures per name
    alone let anyone lock any user (admin included) out with a few bogus logins. Per name
    there is only a much higher cap, which slows guessing spread over many addresses.
    """

    def __init__(self, per_user_address: int, per_address: int, per_user: int,
                 window_s: float, workers: int, max_pending: int = 8,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pairs = FailureWindow(per_user_address, window_s, clock)
        self.addresses = FailureWindow(per_address, window_s, clock)
        self.users = FailureWindow(per_user, window_s, clock)
        self.pool = HashingPool(workers, max_pending)

    def refusal(self, address: str, name: str | None = None) -> LoginThrottled | None:
        """Why an attempt from `address` (as `name`) is refused now, or None to admit it.

        Without a name only the address is checked: the server does that before it even
        reads a login form, so a flood from one address costs next to nothing.
        """
        address = address_key(address)
        checks = [(self.addresses, address, "client address")]
        if name is not None:
            checks += [(self.pairs, _pair(name, address), "user name from this client address"),
                       (self.users, name, "user name")]
        for window, key, what in checks:
            wait = window.retry_after(key)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                return LoginThrottled(f"too many failed logins for this {what}; "
                                      f"try again in {seconds} s", seconds)
        return None

    async def check(self, verify: Callable[[str, str], Result | None], name: str,
                    password: str, address: str) -> Result | None:
        """`verify(name, password)` on the hashing pool if the attempt is admitted."""
        key, address = name[:128], address_key(address)  # names are at most 64 characters
        refused = self.refusal(address, key)
        if refused is not None:
            raise refused
        charged = [(self.pairs, _pair(key, address)), (self.addresses, address),
                   (self.users, key)]
        for window, charged_key in charged:
            window.charge(charged_key)
        try:
            result = await self.pool.run(verify, name, password)
        except LoginBusy as exc:
            _refund(charged)
            raise LoginThrottled("too many logins in progress; try again in 1 s", 1) from exc
        if result is not None:
            _refund(charged)
        return result

    def close(self) -> None:
        """Stop the hashing threads."""
        self.pool.close()


def _pair(name: str, address: str) -> str:
    # addresses hold no spaces, so the first space splits the key unambiguously
    return f"{address} {name}"


def _refund(charged: list[tuple[FailureWindow, str]]) -> None:
    for window, key in charged:
        window.refund(key)
