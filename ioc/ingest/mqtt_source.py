"""The paho-mqtt adapter: a persistent MQTT v5 session with manual, deferred acknowledgements."""

from __future__ import annotations

import contextlib
import logging
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK, time_func
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ioc.core.topics import MQTT_STATUS_FILTER, MQTT_TELEMETRY_FILTER
from ioc.ingest.mqtt_packets import ReadAhead, split_publish

__all__ = ["MessageHandler", "MqttConfig", "MqttSource"]

log = logging.getLogger(__name__)

_PUBACK = struct.Struct("!BBH")

# (topic, payload, mid, qos, received_at epoch seconds)
MessageHandler = Callable[[str, bytes, int, int, float], None]


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Where and how the bridge subscribes."""

    host: str
    port: int
    username: str | None
    password: str | None
    client_id: str
    share_group: str | None
    session_expiry_s: int = 7 * 24 * 3600
    # Caps unacked deliveries, so memory stays bounded while Kafka is away.
    receive_maximum: int = 4000
    keepalive_s: int = 30
    telemetry_filter: str = MQTT_TELEMETRY_FILTER
    status_filter: str | None = MQTT_STATUS_FILTER
    # exact telemetry topics instead of the filter (a bridge member's devices, ioc.members)
    telemetry_topics: tuple[str, ...] | None = None

    def subscriptions(self) -> list[tuple[str, SubscribeOptions]]:
        """Telemetry through the shared group; status non-shared so retained values arrive."""
        if self.telemetry_topics is not None:
            subs = [(t, SubscribeOptions(qos=1)) for t in self.telemetry_topics]
        else:
            telemetry = self.telemetry_filter
            if self.share_group:
                telemetry = f"$share/{self.share_group}/{telemetry}"
            subs = [(telemetry, SubscribeOptions(qos=1))]
        if self.status_filter:
            # retainHandling=1: retained status only when the subscription is new.
            subs.append((self.status_filter, SubscribeOptions(qos=1, retainHandling=1)))
        return subs

    def subscribe_packets(self, limit: int = 12 * 1024) -> list[list[tuple[str, SubscribeOptions]]]:
        """The subscriptions in SUBSCRIBE packets of about `limit` bytes at most: a member's
        exact topics of 2,500 devices in one packet went over the broker's max_packet_size,
        which disconnected it on every attempt."""
        out: list[list[tuple[str, SubscribeOptions]]] = []
        size = limit
        for sub in self.subscriptions():
            length = len(sub[0].encode()) + 3  # length prefix + options byte
            if size + length > limit:
                out.append([])
                size = 0
            out[-1].append(sub)
            size += length
        return out


class _Client(mqtt.Client):
    """paho's client reading through ReadAhead (all buffered packets per wake-up) and
    sending the PUBACKs released together as one write (one wake-up of paho's thread)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acks: list[int] = []
        self._acks_lock = threading.Lock()
        # (topic bytes, payload, packet id, qos) of each QoS 0/1 PUBLISH, without building
        # an MQTTMessage and its Properties (most of paho's cost per message)
        self.on_publish_raw: Callable[[bytes, bytes, int, int], None] | None = None

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        command, packet = self._in_packet["command"], self._in_packet["packet"]
        qos = (command & 0x06) >> 1
        handler = self.on_publish_raw
        if handler is None or qos == 2 or self._protocol != mqtt.MQTTv5:
            return super()._handle_publish()
        try:
            topic, payload, mid = split_publish(packet, qos)
        except (struct.error, IndexError, ValueError):
            return super()._handle_publish()  # malformed: paho reports it as it always did
        handler(topic, payload, mid, qos)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        """Every whole PUBLISH already read ahead in one go; anything else is paho's."""
        sock, handler = self._sock, self.on_publish_raw
        if (handler is not None and self._in_packet["command"] == 0
                and isinstance(sock, ReadAhead) and self._protocol == mqtt.MQTTv5):
            found = sock.take_publishes()
            if found:
                for topic, payload, mid, qos in found:
                    handler(topic, payload, mid, qos)
                with self._msgtime_mutex:  # paho's keepalive reads it
                    self._last_bytes_received = time_func()
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def queue_puback(self, mid: int) -> None:
        """Queue the PUBACK of one QoS 1 message; paho's thread sends the queue in order."""
        with self._acks_lock:
            self._acks.append(mid)
            first = len(self._acks) == 1
        wake = self._sockpairW
        if first and wake is not None:
            # break paho's select(): the queue is sent on its next turn (a full pipe means
            # the thread is awake already)
            with contextlib.suppress(BlockingIOError):
                wake.send(b"0")

    def drop_pubacks(self) -> int:
        """Forget queued PUBACKs (their connection is gone); return how many."""
        with self._acks_lock:
            dropped, self._acks = len(self._acks), []
        return dropped

    def send_pubacks(self) -> None:
        """Hand the queued PUBACKs to paho as one packet write (any thread)."""
        with self._acks_lock:
            mids, self._acks = self._acks, []
        if mids and self._sock is not None:
            # an MQTT v5 PUBACK with reason 0 and no properties is 4 bytes: type, length 2,
            # packet id; many of them back to back are many packets on the wire
            packet = b"".join([_PUBACK.pack(PUBACK, 2, mid) for mid in mids])
            self._packet_queue(PUBACK, packet, 0, 0)

    def _loop(self, timeout: float = 1.0) -> mqtt.MQTTErrorCode:
        if self._acks:
            self.send_pubacks()
        return super()._loop(timeout)

    def _create_socket(self) -> Any:
        return ReadAhead(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho reads one packet per select() here; go on while whole bytes are buffered."""
        rc = super().loop_read(max_packets)
        sock = self._sock
        while (rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and isinstance(sock, ReadAhead)
               and sock.buffered and self._sock is sock):
            rc = super().loop_read(max_packets)
        return rc


class MqttSource:
    """Owns the paho client; hands every message to `on_message` and acks when told to."""

    def __init__(self, config: MqttConfig, on_message: MessageHandler,
                 on_connection_lost: Callable[[], None]) -> None:
        self._config = config
        self._deliver = on_message
        self._lost = on_connection_lost
        self._subscribed = threading.Event()
        self._awaiting: set[int | None] = set()  # SUBSCRIBE packet ids not acknowledged yet
        self._client = self._make_client()

    @property
    def ready(self) -> bool:
        """Connected and subscribed."""
        return self._subscribed.is_set() and self._client.is_connected()

    def _make_client(self) -> _Client:
        cfg = self._config
        client = _Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                         protocol=mqtt.MQTTv5, manual_ack=True)
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_publish_raw = self._on_publish_raw
        return client

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start the network thread."""
        cfg = self._config
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = cfg.session_expiry_s
        props.ReceiveMaximum = cfg.receive_maximum
        self._client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s,
                                   clean_start=False, properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect normally (the session and its unacked messages stay on the broker)."""
        self._subscribed.clear()
        self._client.send_pubacks()  # before the DISCONNECT: paho writes in queue order
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge one message (thread-safe; PUBACKs go out in order, batched)."""
        if qos == 1:
            self._client.queue_puback(mid)
        elif qos:
            self._client.ack(mid, qos)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until subscribed; True if it happened in time."""
        return self._subscribed.wait(timeout)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason: mqtt.ReasonCode, properties: Properties | None) -> None:
        if reason.is_failure:
            log.error("mqtt: connect refused: %s", reason)
            return
        log.info("mqtt: connected as %s (session present: %s)", self._config.client_id,
                 flags.session_present)
        packets = self._config.subscribe_packets()
        self._awaiting = {client.subscribe(p)[1] for p in packets}
        if not packets:
            self._subscribed.set()  # a member that owns no device: nothing to receive

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int,
                      reasons: list[mqtt.ReasonCode], properties: Properties | None) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            log.error("mqtt: subscription refused: %s (check the ACL)", ", ".join(failed))
            return
        self._awaiting.discard(mid)
        if self._awaiting:
            return  # more SUBACKs to come
        subs = [t for t, _ in self._config.subscriptions()]
        log.info("mqtt: subscribed to %s", subs if len(subs) < 5 else f"{len(subs)} topics")
        self._subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags,
                       reason: mqtt.ReasonCode, properties: Properties | None) -> None:
        self._subscribed.clear()
        # PUBACKs not yet written belong to the lost connection; the broker redelivers
        dropped = client.drop_pubacks() if isinstance(client, _Client) else 0
        log.warning("mqtt: disconnected: %s (%d PUBACKs unsent)", reason, dropped)
        self._lost()

    def _on_publish_raw(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        # Runs on paho's network thread: hand over and return, never block here.
        try:
            text = topic.decode("utf-8")
        except UnicodeDecodeError:
            text = repr(topic)  # the router dead-letters it as a bad topic
        self._deliver(text, payload, mid, qos, time.time())

    def _on_message(self, client: mqtt.Client, userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        # Runs on paho's network thread: hand over and return, never block here.
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)  # the router dead-letters it as a bad topic
        self._deliver(topic, bytes(message.payload), message.mid, message.qos, time.time())
