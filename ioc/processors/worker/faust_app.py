"""The faust-streaming App as the worker configures it, and small Faust adapters."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import faust
from faust.sensors.monitor import Monitor
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

from ioc.core.kafka_auth import kafka_access
from ioc.core.settings import Settings
from ioc.processors.worker.faust_auth import faust_broker, faust_credentials
from ioc.processors.worker.faust_drain import install_drain

__all__ = ["RAW", "LeanMonitor", "RawSchema", "faust_app", "header", "queued_batches",
           "take_queued"]

_FETCH_ATTR = "_ioc_fetch"


def _install_fetch_wait() -> None:
    """Let an app override Faust's fixed consumer fetch wait and minimum (see Tuning)."""
    create = AIOKafkaConsumerThread._create_worker_consumer
    if getattr(create, "_ioc_wrapped", False):
        return

    def wrapped(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        fetch = getattr(self.app, _FETCH_ATTR, None)
        if fetch is not None:  # read by AIOKafkaConsumer.start() when it builds its Fetcher
            consumer._fetch_max_wait_ms, consumer._fetch_min_bytes = fetch
        return consumer

    wrapped._ioc_wrapped = True  # type: ignore[attr-defined]
    AIOKafkaConsumerThread._create_worker_consumer = wrapped  # type: ignore[method-assign]


def faust_app(settings: Settings, app_id: str, web_port: int | None, session_timeout_s: float,
              producer_linger_s: float, fetch: tuple[int, int], member: int = 0, *,
              commit_interval_s: float) -> faust.App:
    """The worker's Faust app: raw keys and values, memory store, SASL from the settings;
    `fetch`: the consumer's (fetch_max_wait_ms, fetch_min_bytes); `member` > 0 (of `ioc
    worker --processes`) gets a data dir of its own."""
    # the data dir holds nothing we need (memory store); keep it out of the working tree
    datadir = Path(tempfile.gettempdir()) / "ioc-faust" / (f"{app_id}-m{member}" if member
                                                           else app_id)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    _install_fetch_wait()
    install_drain()
    kafka = kafka_access(settings)
    app = faust.App(app_id, broker=faust_broker(kafka), store="memory://",
                    broker_credentials=faust_credentials(kafka),
                    datadir=datadir, stream_recovery_delay=0.0,
                    # a killed worker's partitions move (or its restart resumes) after this
                    # long instead of the 60 s default
                    broker_session_timeout=session_timeout_s,
                    key_serializer="raw", value_serializer="raw",
                    producer_linger=producer_linger_s,
                    broker_commit_interval=commit_interval_s,
                    Monitor=LeanMonitor if web_port is None else Monitor,
                    web_enabled=web_port is not None, web_port=web_port or 6066,
                    topic_partitions=settings.kafka_partitions, topic_replication_factor=1,
                    consumer_auto_offset_reset="earliest")
    setattr(app, _FETCH_ATTR, fetch)
    return app


class RawSchema(faust.Schema):
    """Keys and values as the broker's bytes. Faust's own decode runs even the raw codec
    through its serializer registry, codec and settings lookups, several calls per message;
    this one makes the event directly. Sending is Faust's as before (raw serializers)."""

    def compile(self, app: Any, *, on_key_decode_error: Any = None,
                on_value_decode_error: Any = None, default_propagate: bool = False) -> Any:
        """The decode function of the topics that use this schema."""
        make = app.conf.Event

        async def decode(message: Any, *, propagate: bool = default_propagate) -> Any:
            return make(app, message.key, message.value, message.headers, message)

        return decode


RAW = RawSchema()  # the schema of every topic a worker agent reads


def header(headers: Any, name: str) -> bytes | None:
    """One header's value from Faust's headers (a mapping or a list of pairs)."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        if key == name:
            return bytes(value)
    return None


async def take_queued(channel: Any, most: int, wait_s: float | None = None) -> list[Any]:
    """The channel's next event and every event already queued behind it, up to `most`;
    with `wait_s`, an empty list if nothing came within that many seconds.

    Instead of `Stream.take_events`, which after each batch waits out its `within` window
    and moves events one by one through the stream's processor chain: at 2,000 readings/s
    that put the oldest reading of a batch 23 ms (median) to 142 ms (p99) behind its arrival
    from Kafka. Here a batch is whatever queued while the last one ran: one reading when
    idle, larger under load. The caller acks the events (`event.ack()`) once handled.
    """
    queue = channel.queue
    if wait_s is None:
        events = [await queue.get()]
    else:
        try:  # the timer only when the queue is empty: under load it rarely is
            events = [queue.get_nowait()]
        except asyncio.QueueEmpty:
            try:
                events = [await asyncio.wait_for(queue.get(), wait_s)]
            except TimeoutError:
                return []
    while len(events) < most:
        try:
            events.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return events


async def queued_batches(stream: Any, most: int,
                         wait_s: Callable[[], float | None] | None = None,
                         ) -> AsyncIterator[list[Any]]:
    """An agent's input in batches (`take_queued`), ending when Faust stops the agent;
    `wait_s()` (if given) bounds each wait, after which an empty batch comes.

    Faust stops an agent by throwing StopAsyncIteration into its channel's queue: that ends
    an `async for` over a stream, but crashes an agent that awaits the queue itself, and
    its supervisor may then restart the agent in the middle of the worker's shutdown.
    """
    channel = aiter(stream.channel)  # subscribes the agent's topic, as its stream would
    while True:
        try:
            events = await take_queued(channel, most, None if wait_s is None else wait_s())
        except StopAsyncIteration:
            return
        yield events


class LeanMonitor(Monitor):
    """Faust's monitor without its per-message bookkeeping (nobody reads those figures here:
    the web server is off by default), which costs several calls per reading."""

    def on_message_in(self, *args: Any, **kwargs: Any) -> None:
        """Skip per-message stats."""

    def on_stream_event_in(self, *args: Any, **kwargs: Any) -> None:
        """Skip per-event stats."""
        return None

    def on_stream_event_out(self, *args: Any, **kwargs: Any) -> None:
        """Skip per-event stats."""

    def on_message_out(self, *args: Any, **kwargs: Any) -> None:
        """Skip per-message stats."""
