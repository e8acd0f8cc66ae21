"""The journal plugin in a broker of its own (no auth, a free port, a temporary state dir):
what it writes, what it replays after a SIGKILL (and what not: a torn tail, records the
store holds) and which segments it deletes."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import struct
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from ioc.devstack.mosquitto_journal import journal_plugin, read_segment
from ioc.testing.processes import free_port

pytestmark = pytest.mark.timeout(120)


@dataclass
class Broker:
    """A Mosquitto with only the journal plugin, restartable on the same files."""

    state: Path
    port: int
    plugin: str
    segment_seconds: int = 10
    proc: subprocess.Popen[bytes] | None = None

    @property
    def journal(self) -> Path:
        return self.state / "journal"

    @property
    def db(self) -> Path:
        return self.state / "data" / "mosquitto.db"

    @property
    def log(self) -> Path:
        return self.state / "mosquitto.log"

    def start(self, wait: Callable[..., None]) -> None:
        (self.state / "data").mkdir(parents=True, exist_ok=True)
        conf = self.state / "mosquitto.conf"
        conf.write_text("\n".join([
            "per_listener_settings false", f"listener {self.port} 127.0.0.1",
            "allow_anonymous true", f"plugin {self.plugin}",
            f"plugin_opt_journal_dir {self.journal}", f"plugin_opt_db_file {self.db}",
            f"plugin_opt_segment_seconds {self.segment_seconds}", "plugin_opt_margin_ms 0",
            "persistence true", f"persistence_location {self.state / 'data'}/",
            "autosave_interval 3600", f"log_dest file {self.log}", "log_type all",
            f"user {getpass.getuser()}", ""]))
        starts = self._log().count(" running")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)])
        wait(lambda: self._log().count(" running") > starts, timeout=20,
             what="mosquitto running")

    def _log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def replay_lines(self) -> list[str]:
        return [line for line in self._log().splitlines() if "journal: replayed" in line]

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def save(self, wait: Callable[..., None]) -> None:
        assert self.proc is not None
        before = self.db.stat().st_mtime_ns if self.db.exists() else 0
        self.proc.send_signal(signal.SIGUSR1)
        wait(lambda: self.db.exists() and self.db.stat().st_mtime_ns != before, timeout=20,
             what="the store saved")


@dataclass
class Subscriber:
    """A persistent-session QoS 1 subscriber that records payloads it receives."""

    port: int
    got: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self, wait: Callable[..., None]) -> mqtt.Client:
        ready = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="journal-sub",
                             clean_session=False, protocol=mqtt.MQTTv311)

        def on_connect(c: mqtt.Client, *_: object) -> None:
            c.subscribe("j/#", qos=1)
            ready.set()

        client.on_connect = on_connect
        client.on_message = lambda c, u, m: self._add(bytes(m.payload))  # paho: bytes | bytearray
        client.connect("127.0.0.1", self.port)
        client.loop_start()
        wait(ready.is_set, timeout=20, what="subscriber connected")
        return client

    def _add(self, payload: bytes) -> None:
        with self.lock:
            self.got.append(payload)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if shutil.which("mosquitto") is None and os.environ.get("CI") != "true":
        pytest.skip("mosquitto is not installed")
    b = Broker(tmp_path, free_port(), journal_plugin(tmp_path))
    yield b
    if b.proc is not None and b.proc.poll() is None:
        b.proc.terminate()
        b.proc.wait(30)


def _publish(port: int, messages: list[tuple[str, bytes, int]]) -> None:
    """Publish and wait for every PUBACK."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(t, p, qos=q) for t, p, q in messages]
    for info in infos:
        info.wait_for_publish(20)
    client.disconnect()
    client.loop_stop()


def _record(received_us: int, topic: str, payload: bytes) -> bytes:
    """One record in the plugin's format (for a hand-made segment)."""
    t = topic.encode()
    body = struct.pack("<IIIQBBH", 0x314C4E4A, len(t), len(payload), received_us, 1, 0, 0)
    body += t + payload
    return body + struct.pack("<I", zlib.crc32(body))


def test_writes_qos1_before_the_puback_and_replays_it_after_a_kill(
        broker: Broker, eventually: Callable[..., None]) -> None:
    broker.start(eventually)
    sub = Subscriber(broker.port)
    sub.connect(eventually).disconnect()  # a persistent session ...
    broker.save(eventually)  # ... in the store; then messages only the broker's memory holds
    _publish(broker.port, [("j/a", b"one", 1), ("j/b", b"two", 1), ("j/c", b"zero", 0)])
    records = [r for seg in sorted(broker.journal.glob("*.jnl")) for r in read_segment(seg)[0]]
    assert [(r.topic, r.payload, r.qos) for r in records] == [("j/a", b"one", 1),
                                                               ("j/b", b"two", 1)]
    broker.kill()
    broker.start(eventually)
    sub.connect(eventually)
    eventually(lambda: sorted(sub.got) == [b"one", b"two"], timeout=20,
               what="both QoS 1 messages delivered after the restart")
    assert "replayed 2 message(s)" in broker.replay_lines()[-1]


def test_torn_tail_and_records_older_than_the_store_are_not_replayed(
        broker: Broker, eventually: Callable[..., None]) -> None:
    broker.start(eventually)
    sub = Subscriber(broker.port)
    sub.connect(eventually).disconnect()
    broker.save(eventually)
    broker.kill()
    saved_us = broker.db.stat().st_mtime_ns // 1000
    old = broker.journal / "00000000000000000001.jnl"  # wholly older than the store
    old.write_bytes(_record(saved_us - 5_000_000, "j/old", b"old"))
    torn = broker.journal / "00000000000000000002.jnl"
    good = [_record(saved_us + 1000 + i, "j/new", b"new%d" % i) for i in range(3)]
    torn.write_bytes(b"".join(good) + _record(saved_us + 2000, "j/new", b"torn")[:-7])
    corrupt = broker.journal / "00000000000000000003.jnl"  # one payload bit flipped
    record = bytearray(_record(saved_us + 3000, "j/new", b"flipped"))
    record[-6] ^= 1
    corrupt.write_bytes(bytes(record))
    assert len(read_segment(torn)[0]) == 3 and read_segment(torn)[1] > 0
    assert read_segment(corrupt) == ([], len(record))
    broker.start(eventually)
    sub.connect(eventually)
    eventually(lambda: len(sub.got) >= 3, timeout=20, what="the valid records replayed")
    assert sorted(sub.got) == [b"new0", b"new1", b"new2"]
    line = broker.replay_lines()[-1]
    assert "replayed 3 message(s)" in line and "2 with a torn tail" in line, line
    assert not old.exists() and torn.exists()  # the store covers the old one: removed


def test_a_closed_segment_goes_once_the_store_is_saved_after_its_newest_record(
        broker: Broker, eventually: Callable[..., None]) -> None:
    broker.segment_seconds = 1
    broker.start(eventually)
    _publish(broker.port, [("j/a", b"x", 1)])
    first = sorted(broker.journal.glob("*.jnl"))[0]
    # rotated on a tick after a second (segment_seconds 1): the segment with "x" is closed
    eventually(lambda: len(list(broker.journal.glob("*.jnl"))) >= 2, timeout=20,
               what="the segment rotated")
    assert first.exists()  # closed, but the store does not hold its record yet
    broker.save(eventually)
    eventually(lambda: not first.exists(), timeout=20, what="the covered segment unlinked")
    assert list(broker.journal.glob("*.jnl"))  # the open segment stays
