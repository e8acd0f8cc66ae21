"""`take_queued`: a batch is what queued while the last one ran, never a wait for more."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from ioc.processors.worker.faust_app import take_queued


def test_a_batch_is_everything_queued_up_to_the_most() -> None:
    async def run() -> list[list[int]]:
        channel = SimpleNamespace(queue=asyncio.Queue())
        for i in range(5):
            channel.queue.put_nowait(i)
        return [await take_queued(channel, 3), await take_queued(channel, 3)]

    assert asyncio.run(run()) == [[0, 1, 2], [3, 4]]


def test_an_empty_queue_waits_for_one_event_and_returns_it_alone() -> None:
    async def run() -> tuple[bool, list[int]]:
        channel = SimpleNamespace(queue=asyncio.Queue())
        taking = asyncio.ensure_future(take_queued(channel, 100))
        await asyncio.sleep(0)
        waited = not taking.done()
        channel.queue.put_nowait(7)
        return waited, await asyncio.wait_for(taking, 5)

    assert asyncio.run(run()) == (True, [7])
