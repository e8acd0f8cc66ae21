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
