"""The lean drain loop's delivery: a callback that finishes at once costs no task; one that
has to wait is still interrupted by a flow suspension, as in Faust's own loop."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.transport import consumer as faust_consumer
from mode import Service

from ioc.processors.worker.faust_drain import (
    DRAIN_FAUST_VERSION,
    FAUST_DRAIN,
    deliver,
    install_drain,
)


class Consumer(Service):
    """What `deliver` uses of a Faust consumer: wait_first (mode's) and suspend_flow."""

    def __init__(self) -> None:
        super().__init__()
        self.suspend_flow = asyncio.Event()
        self.waits = 0

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        self.waits += 1
        return await super().wait_first(*coros, timeout=timeout)


def test_a_callback_that_finishes_at_once_needs_no_wait() -> None:
    async def run() -> tuple[list[int], int]:
        consumer, got = Consumer(), []

        async def callback(message: int) -> None:
            got.append(message)

        for i in range(3):
            await deliver(consumer, callback, i)
        return got, consumer.waits

    assert asyncio.run(run()) == ([0, 1, 2], 0)


def test_a_callback_that_waits_is_resumed_with_what_it_awaited() -> None:
    async def run() -> tuple[list[Any], int]:
        consumer, got = Consumer(), list[Any]()
        ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def callback(message: int) -> None:
            got.append(await ready)
            await asyncio.sleep(0)  # a second suspension, after the resume
            got.append(message)

        asyncio.get_running_loop().call_later(0.01, ready.set_result, "queued")
        await deliver(consumer, callback, 7)
        return got, consumer.waits

    assert asyncio.run(run()) == (["queued", 7], 1)


def test_a_flow_suspension_cancels_a_waiting_callback() -> None:
    async def run() -> list[str]:
        consumer, seen = Consumer(), []

        async def callback(message: int) -> None:
            try:
                await asyncio.Event().wait()  # a full queue that never drains
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise

        asyncio.get_running_loop().call_later(0.01, consumer.suspend_flow.set)
        await asyncio.wait_for(deliver(consumer, callback, 1), 5)
        await asyncio.sleep(0)  # the cancelled task runs its handler
        return seen

    assert asyncio.run(run()) == ["cancelled"]


@pytest.mark.parametrize("wait_first", [False, True], ids=["at-once", "after-a-wait"])
def test_a_failing_callback_raises_out_of_the_loop(wait_first: bool) -> None:
    async def run() -> None:
        consumer = Consumer()

        async def callback(message: int) -> None:
            if wait_first:
                await asyncio.sleep(0.001)
            raise ValueError(f"bad {message}")

        await deliver(consumer, callback, 3)

    with pytest.raises(ValueError, match="bad 3"):
        asyncio.run(run())


def test_installed_only_on_the_faust_version_it_was_copied_from(
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = FAUST_DRAIN
    monkeypatch.setattr(faust_consumer.Consumer, "_drain_messages", original)
    monkeypatch.setattr(faust, "__version__", "0.99.0")
    assert install_drain() is False
    assert faust_consumer.Consumer._drain_messages is original
    monkeypatch.setattr(faust, "__version__", DRAIN_FAUST_VERSION)
    assert install_drain() is True
    assert faust_consumer.Consumer._drain_messages is not original
    assert install_drain() is True  # once is enough
