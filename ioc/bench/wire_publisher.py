"""A QoS 1 gateway publisher that writes pre-built MQTT 5 packets to its socket (see
bench.mqtt_wire for why): the soak's load generator."""

from __future__ import annotations

import logging
import select
import socket
import threading
import time

from ioc.bench.loadgen import DEFAULT_PUBLISH_WINDOW, MAX_PUBLISH_WINDOW
from ioc.bench.mqtt_wire import (
    PINGREQ,
    MqttWireError,
    PubackReader,
    connect_packet,
    packet_size,
    parse_connack,
    publish_packet,
)
from ioc.core.errors import ServiceError
from ioc.core.mqtt_identities import MqttLogin
from ioc.core.settings import Settings

__all__ = ["WirePublisher"]

log = logging.getLogger(__name__)


def _read_packet(sock: socket.socket) -> bytes:
    """One whole packet from a blocking socket (for the CONNACK, before the reader runs)."""
    data = b""
    while (size := packet_size(data)) is None or len(data) < size:
        chunk = sock.recv(1 if size is None else size - len(data))  # never past the packet
        if not chunk:
            raise ServiceError("the MQTT broker closed the connection during login")
        data += chunk
    return data


class WirePublisher:
    """Logs in as a gateway and publishes at QoS 1, at most `window` messages (and the
    broker's receive maximum) unacknowledged; a thread reads the PUBACKs and pings."""

    def __init__(self, settings: Settings, login: MqttLogin, *,
                 window: int = DEFAULT_PUBLISH_WINDOW, stall_s: float = 120.0,
                 keepalive_s: int = 30) -> None:
        if not 0 < window <= MAX_PUBLISH_WINDOW:
            raise ValueError(f"window must be 1..{MAX_PUBLISH_WINDOW} (MQTT packet ids are "
                             f"16 bits), not {window}")
        self._sock = socket.create_connection((settings.mqtt_host, settings.mqtt_port), 10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._sock.sendall(connect_packet(login.cid, login.username, login.password,
                                              keepalive_s))
            connack = parse_connack(_read_packet(self._sock))
        except (OSError, MqttWireError) as exc:
            self._sock.close()
            raise ServiceError(f"MQTT login as {login.username} failed: {exc}") from exc
        if connack.reason:
            self._sock.close()
            raise ServiceError(f"MQTT login as {login.username} refused "
                               f"(reason 0x{connack.reason:02x})")
        self._sock.settimeout(None)
        self._window, self._stall_s = min(window, connack.receive_maximum), stall_s
        self._ping_s = keepalive_s / 2
        self._next_id, self._acked, self.refused, self.sent = 0, 0, 0, 0
        self._queued: list[bytes] = []  # packets for the next flush (one write, not one each)
        self._error: BaseException | None = None
        self._last_send = time.monotonic()
        self._cond, self._send_lock = threading.Condition(), threading.Lock()
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, name="wire-pubacks", daemon=True)
        self._reader.start()

    @property
    def acked(self) -> int:
        """Messages the broker acknowledged."""
        return self._acked

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 message for the next `flush`, first sending what is queued and
        waiting for acks if `window` are outstanding."""
        if self._error is not None:  # the reader saw the connection fail
            raise ServiceError(f"publisher: {self._error}") from self._error
        if self.sent - self._acked >= self._window:
            self.flush()
            self._make_room()
        self._next_id = self._next_id % 65_535 + 1
        self._queued.append(publish_packet(topic.encode(), payload, self._next_id))
        self.sent += 1

    def flush(self) -> None:
        """Send the queued messages in one write."""
        if not self._queued:
            return
        data = b"".join(self._queued)
        self._queued.clear()
        with self._send_lock:
            self._sock.sendall(data)
            self._last_send = time.monotonic()

    def _make_room(self) -> None:
        with self._cond:
            room = self._cond.wait_for(
                lambda: self._error is not None or self.sent - self._acked < self._window,
                self._stall_s)
        if self._error is not None:
            raise ServiceError(f"publisher: {self._error}") from self._error
        if not room:
            raise ServiceError(f"publisher: {self.sent - self._acked} messages "
                               f"unacknowledged for {self._stall_s:.0f}s (is the broker up?)")

    def wait_acked(self, timeout: float) -> bool:
        """Send what is queued and wait until the broker acknowledged everything (False: not
        in time, or the connection failed)."""
        self.flush()
        with self._cond:
            return self._cond.wait_for(
                lambda: self._error is not None or self._acked >= self.sent,
                timeout) and self._error is None

    def _read(self) -> None:
        acks = PubackReader()
        try:
            while not self._closing.is_set():
                ready, _, _ = select.select([self._sock], [], [], self._ping_s / 2)
                if not ready:
                    self._ping_if_idle()
                    continue
                data = self._sock.recv(65_536)
                if not data:
                    raise MqttWireError("the broker closed the connection")
                acked, refused = acks.feed(data)
                if acked:
                    with self._cond:
                        self._acked += acked
                        self.refused += refused
                        self._cond.notify_all()
        except (OSError, MqttWireError) as exc:
            if not self._closing.is_set():
                log.error("MQTT publisher connection failed: %s", exc)
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()

    def _ping_if_idle(self) -> None:
        with self._send_lock:
            if time.monotonic() - self._last_send >= self._ping_s:
                self._sock.sendall(PINGREQ)
                self._last_send = time.monotonic()

    def close(self) -> None:
        """Disconnect (normal disconnection: the broker sends no will)."""
        self._closing.set()
        try:
            with self._send_lock:  # what is queued goes first: closing loses nothing sent
                self._sock.sendall(b"".join(self._queued) + b"\xe0\x00")
        except OSError:
            pass  # already gone: closing is all that is left
        self._reader.join(5)
        self._sock.close()
