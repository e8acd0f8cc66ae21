"""Mosquitto's CPU per QoS 1 message with and without the journal plugin, in the same run.

    .venv/bin/python deploy/local/mosquitto_journal/cost.py [--messages 20000] [--runs 3]

Each run starts a broker of its own (a free port, a temporary dir, no auth) once with the
plugin and once without, in alternating order, has one QoS 1 subscriber take every message
and one publisher send `--messages` QoS 1 traffic readings, and reads the broker's user+system
CPU time from /proc before and after. Prints µs of broker CPU per message: min/median/max.
"""

from __future__ import annotations

import argparse
import getpass
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from ioc.bench.loadgen import traffic_payload
from ioc.devstack.mosquitto_journal import journal_plugin
from ioc.testing.processes import free_port

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _broker(state: Path, port: int, plugin: str | None,
            fsync: bool = False) -> subprocess.Popen[bytes]:
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence true",
             f"persistence_location {state}/", "autosave_interval 3600",
             "max_inflight_messages 1000", "max_queued_messages 0", f"user {getpass.getuser()}"]
    if plugin:
        lines += [f"plugin {plugin}", f"plugin_opt_journal_dir {state / 'journal'}",
                  f"plugin_opt_db_file {state / 'mosquitto.db'}",
                  f"plugin_opt_fsync {'true' if fsync else 'false'}"]
    (state / "m.conf").write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(["mosquitto", "-c", str(state / "m.conf")],
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:  # polling the port with a deadline
        probe = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        try:
            probe.connect("127.0.0.1", port)
            probe.disconnect()
            return proc
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _client(port: int, client_id: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def one_run(messages: int, plugin: str | None, fsync: bool = False) -> float:
    """µs of broker CPU per message for one broker, one subscriber, one publisher."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = _broker(Path(tmp), port, plugin, fsync)
        got, done = [0], threading.Event()

        def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
            got[0] += 1
            if got[0] >= messages:
                done.set()

        subscribed = threading.Event()
        sub = _client(port, "cost-sub")
        sub.on_message = on_message
        sub.on_subscribe = lambda *_: subscribed.set()
        sub.subscribe("ioc/#", qos=1)
        if not subscribed.wait(20):
            raise RuntimeError("no SUBACK")
        pub = _client(port, "cost-pub")
        payloads = [traffic_payload(i) for i in range(100)]
        before = _cpu_s(proc.pid)
        infos = [pub.publish(f"ioc/v1/traffic/d{i % 50}/telemetry", payloads[i % 100], qos=1)
                 for i in range(messages)]
        for info in infos:
            info.wait_for_publish(60)
        if not done.wait(30):
            raise RuntimeError(f"subscriber got {got[0]} of {messages}")
        cost = (_cpu_s(proc.pid) - before) / messages * 1e6
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()
        proc.terminate()
        proc.wait(30)
        return cost


def main() -> None:
    """Alternate runs with and without the plugin; print min/median/max µs per message."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fsync", action="store_true",
                        help="the plugin with plugin_opt_fsync true (one fdatasync a message)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plugin = journal_plugin(Path(tmp))
    load = os.getloadavg()[0]
    results: dict[str, list[float]] = {"without": [], "with": []}
    for run in range(args.runs):
        order = ("without", "with") if run % 2 == 0 else ("with", "without")
        for name in order:
            results[name].append(one_run(args.messages, plugin if name == "with" else None,
                                         args.fsync))
    print(f"load average before: {load:.2f}; {args.runs} runs of {args.messages} QoS 1"
          + (" (fsync on)" if args.fsync else ""))
    for name, values in results.items():
        print(f"{name:8} journal: broker CPU µs/message min {min(values):.1f} "
              f"median {statistics.median(values):.1f} max {max(values):.1f}")


if __name__ == "__main__":
    main()
