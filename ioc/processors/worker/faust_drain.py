"""Faust's consumer drain loop without four asyncio tasks per message.

faust-streaming's `Consumer._drain_messages` hands every fetched message to the conductor
with `await self.wait_first(callback(message), self.suspend_flow.wait())`: mode's
`wait_first` wraps the callback, the flow-suspension wait and the consumer's stopped and
crashed events in four tasks, waits for the first, and cancels the rest - for each message,
though the callback nearly always finishes at once (it puts the event on its stream's
queue). That bookkeeping was the largest single item of the worker's per-reading cost.

`deliver` runs the callback's first step directly; only when the callback really has to
wait (flow control during a rebalance, a full stream queue) does it fall back to
`wait_first` with the rest of the callback, so a rebalance still interrupts a callback
blocked on a full queue exactly as before. `install_drain` swaps in the loop below: Faust's
own, with only that line changed, for the Faust version it was copied from; with any other
version Faust's loop is left alone (and a warning says so).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, cast

import faust
from faust.transport import consumer as faust_consumer

__all__ = ["DRAIN_FAUST_VERSION", "FAUST_DRAIN", "Resume", "deliver", "install_drain"]

log = logging.getLogger(__name__)

DRAIN_FAUST_VERSION = "0.15.3"  # the faust-streaming version `_drain_messages` matches
_INSTALLED = "_ioc_lean_drain"
FAUST_DRAIN = faust_consumer.Consumer._drain_messages  # Faust's own loop


class Resume:
    """An awaitable that continues a coroutine already run up to its first suspension
    (`pending`: what it yielded to the event loop), forwarding sends and throws."""

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro, self._pending = coro, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation included: the coroutine gets it
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def deliver(service: Any, callback: Callable[[Any], Coroutine[Any, Any, Any]],
                  message: Any) -> None:
    """`await service.wait_first(callback(message), service.suspend_flow.wait())`, as
    Faust's drain loop does, but without tasks when the callback completes at once."""
    coro = callback(message)
    try:
        pending = coro.send(None)
    except StopIteration:
        return
    await service.wait_first(cast(Awaitable[Any], Resume(coro, pending)),
                             service.suspend_flow.wait())


async def _drain_messages(self: Any, fetcher: Any) -> None:  # pragma: no cover
    # faust-streaming 0.15.3 `Consumer._drain_messages`, only the delivery line changed
    # (see the module docstring); kept as close to the original as possible
    callback = self.callback
    getmany = self.getmany
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set

    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    flag_consumer_fetching = faust_consumer.CONSUMER_FETCHING
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for

    yield_every = 100
    num_since_yield = 0
    sleep = asyncio.sleep

    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(flag_consumer_fetching)
            ait = getmany(timeout=1.0)

            # Sleeping because sometimes getmany is called in a loop
            # never releasing to the event loop
            await self.sleep(0)
            if not self.should_stop:
                async for tp, message in ait:
                    num_since_yield += 1
                    if num_since_yield > yield_every:
                        await sleep(0)
                        num_since_yield = 0

                    offset = message.offset
                    r_offset = get_read_offset(tp)
                    if r_offset is None or offset >= r_offset:
                        gap = offset - (r_offset or 0)
                        # We have a gap in income messages
                        if gap > 1 and r_offset:
                            acks_enabled = acks_enabled_for(message.topic)
                            if acks_enabled:
                                await self._add_gap(tp, r_offset + 1, offset)
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await deliver(self, callback, message)
                        set_read_offset(tp, offset)
                    else:
                        self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset,
                                     message.key, message.value)
                unset_flag(flag_consumer_fetching)

    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(flag_consumer_fetching)


def install_drain() -> bool:
    """Use the lean drain loop in Faust's consumers; False (Faust's own kept) on a Faust
    version other than DRAIN_FAUST_VERSION."""
    base = faust_consumer.Consumer
    if getattr(base._drain_messages, _INSTALLED, False):
        return True
    if faust.__version__ != DRAIN_FAUST_VERSION:
        log.warning("faust-streaming %s, not %s: keeping its drain loop (a few tasks per "
                    "message more)", faust.__version__, DRAIN_FAUST_VERSION)
        return False
    setattr(_drain_messages, _INSTALLED, True)
    base._drain_messages = _drain_messages  # type: ignore[method-assign]
    return True
