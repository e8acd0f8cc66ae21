"""`take_queued`: a batch is what queued while the last one ran, never a wait for more;
`queued_batches` ends when Faust stops the agent."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from mode.utils.queues import FlowControlEvent, ThrowableQueue

from ioc.processors.worker.faust_app import queued_batches, take_queued


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



class _Channel:
    """A Faust channel as an agent sees it: iterable, with a throwable queue."""

    def __init__(self) -> None:
        flow = FlowControlEvent(initially_suspended=False)
        self.queue: ThrowableQueue[int] = ThrowableQueue(flow_control=flow)

    def __aiter__(self) -> _Channel:
        return self

    async def __anext__(self) -> int:
        return await self.queue.get()


def test_batches_end_when_faust_stops_the_agent() -> None:
    async def run() -> list[list[int]]:
        channel = _Channel()
        for i in range(2):
            channel.queue.put_nowait(i)
        taken = []
        async for batch in queued_batches(SimpleNamespace(channel=channel), 10):
            taken.append(batch)
            # how Faust stops an agent; awaiting the queue itself would raise it
            channel.queue._throw(StopAsyncIteration())
        return taken

    assert asyncio.run(asyncio.wait_for(run(), 5)) == [[0, 1]]


def test_with_a_wait_an_empty_queue_gives_an_empty_batch_in_time() -> None:
    async def run() -> tuple[list[int], list[int], float]:
        channel = SimpleNamespace(queue=asyncio.Queue())
        loop = asyncio.get_running_loop()
        started = loop.time()
        empty = await take_queued(channel, 10, wait_s=0.05)
        waited = loop.time() - started
        channel.queue.put_nowait(1)
        return empty, await take_queued(channel, 10, wait_s=30), waited

    empty, queued, waited = asyncio.run(asyncio.wait_for(run(), 5))
    assert empty == [] and queued == [1]
    assert waited >= 0.05


def test_batches_with_a_wait_yield_empty_ones_and_still_end_on_stop() -> None:
    async def run() -> list[list[int]]:
        channel = _Channel()
        channel.queue.put_nowait(0)
        taken: list[list[int]] = []
        async for batch in queued_batches(SimpleNamespace(channel=channel), 10, lambda: 0.01):
            taken.append(batch)
            if len(taken) == 2:  # stopped while the next take waits with a timeout
                asyncio.get_running_loop().call_later(
                    0.001, channel.queue._throw, StopAsyncIteration())
        return taken

    taken = asyncio.run(asyncio.wait_for(run(), 5))
    assert taken[:2] == [[0], []] and all(b == [] for b in taken[2:])
