"""`ioc sim run|scenarios|catalog` and `ioc replay`: simulate, record, publish, replay."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from ioc.core.feed import FeedWriter, read_feed
from ioc.core.registry import Device, dump_registry, load_registry
from ioc.core.settings import load_settings
from ioc.sensors_sim.catalog import DEFAULT_DEVICES, DEFAULT_SEED, generate_catalog
from ioc.sensors_sim.generator import generate
from ioc.sensors_sim.options import default_start, parse_duration, parse_speed, parse_start
from ioc.sensors_sim.pacing import PaceStats, pump
from ioc.sensors_sim.replay import feed_span, shift_delta, shift_feed
from ioc.sensors_sim.scenarios import SCENARIOS, get_scenario

__all__ = ["replay", "sim"]


def _catalog(devices: int | None, seed: int) -> list[Device]:
    """Generated when --devices is given; else the registry file; else the default catalog."""
    if devices is not None:
        return generate_catalog(devices, seed)
    path = load_settings().registry
    if path.exists():
        return list(load_registry(path))
    return generate_catalog(DEFAULT_DEVICES, seed)


def _progress(label: str, stats: Callable[[], str]) -> Callable[[int, float], None]:
    def show(count: int, elapsed: float) -> None:
        rate = count / elapsed if elapsed > 0 else 0.0
        click.echo(f"\r{label}: {count:,} messages, {rate:,.0f}/s{stats()}   ", err=True, nl=False)
    return show


@click.group()
def sim() -> None:
    """Simulate Đồng Xoài's sensors: publish over MQTT or record a feed."""


@sim.command("scenarios")
def scenarios() -> None:
    """List the scenarios with a one-line description."""
    for scenario in SCENARIOS.values():
        click.echo(f"{scenario.name:<16} {scenario.description}")


@sim.command("catalog")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as a JSON list.")
@click.option("--devices", type=int, default=None, help="Generate this many devices.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--write", is_flag=True, help="Write a generated catalog to the registry path.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a generated catalog to this YAML file.")
def catalog(as_json: bool, devices: int | None, seed: int, write: bool, out: Path | None) -> None:
    """Show the device catalog (the registry file, else a generated one), or write it."""
    if write or out:
        target = out or load_settings().registry
        started = time.perf_counter()
        generated = generate_catalog(devices or DEFAULT_DEVICES, seed)
        dump_registry(generated, target)
        click.echo(f"wrote {len(generated):,} devices to {target} "
                   f"({time.perf_counter() - started:.2f}s)", err=True)
        return
    found = _catalog(devices, seed)
    if as_json:
        click.echo(orjson.dumps([d.to_record() for d in found]).decode())
        return
    for device in found:
        click.echo(f"{device.id:<28} {device.domain:<12} {device.ward:<11} {device.name}")
    click.echo(f"{len(found):,} devices", err=True)


@sim.command("run")
@click.option("--scenario", default="normal-day", show_default=True,
              help="Scenario name (see `ioc sim scenarios`).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--devices", type=int, default=None,
              help="Generate N devices (default: the registry file).")
@click.option("--start", "start_text", default=None,
              help="Simulated start, ISO 8601 (default: now; earlier for --speed > 1 so no "
                   "reading is stamped ahead of the wall clock).")
@click.option("--duration", "duration_text", default=None,
              help="Simulated duration, e.g. 90m, 6h (default: the scenario's).")
@click.option("--speed", "speed_text", default="1", show_default=True,
              help="Simulated seconds per real second, or 'max'.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Record a JSON Lines feed (.gz compresses) instead of publishing.")
@click.option("--rate", type=float, default=None, help="At most R messages per second.")
def run(scenario: str, seed: int, devices: int | None, start_text: str | None,
        duration_text: str | None, speed_text: str, out: Path | None, rate: float | None) -> None:
    """Run a scenario: publish to MQTT as the gateway users, or record with --out."""
    chosen = get_scenario(scenario)
    duration = parse_duration(duration_text) if duration_text else chosen.default_duration_s
    speed = parse_speed(speed_text)
    start = parse_start(start_text) if start_text else default_start(
        datetime.now(UTC), duration, speed if out is None else 1.0)
    found = _catalog(devices, seed)
    start_s = start.timestamp()
    messages = ((m.sim_time.timestamp() - start_s, m.topic, m.payload)
                for m in generate(found, chosen, seed, start, duration))
    click.echo(f"{chosen.name}: {len(found):,} devices from {start.isoformat()} "
               f"for {duration:,.0f}s", err=True)
    if out is not None:
        _record(messages, out, start_s, rate)
    else:
        _publish(messages, [(d.domain, d.id) for d in found], speed, rate, "sim")


def _record(messages: Iterator[tuple[float, str, bytes]], out: Path, start_s: float,
            rate: float | None) -> None:
    with FeedWriter(out, origin=start_s) as writer:
        stats = _write_all(messages, writer, rate)
    click.echo(f"\nrecorded {stats.messages:,} messages to {out} in {stats.elapsed_s:.1f}s "
               f"({stats.rate:,.0f}/s)", err=True)


def _write_all(messages: Iterator[tuple[float, str, bytes]], writer: FeedWriter,
               rate: float | None) -> PaceStats:
    def record() -> Iterator[tuple[float, str, bytes]]:
        for at, topic, payload in messages:
            writer.write(at, topic, payload)
            yield at, topic, payload
    return pump(record(), lambda topic, payload: None, rate=rate,
                progress=_progress("recording", lambda: ""))


def _publish(messages: Iterator[tuple[float, str, bytes]], devices: Sequence[tuple[str, str]],
             speed: float | None, rate: float | None, label: str) -> None:
    from ioc.sensors_sim.mqtt_publisher import MqttPublisher

    publisher = MqttPublisher(load_settings())
    publisher.start()

    def extra() -> str:
        s = publisher.stats()
        return f", acked {s.acked:,}, pending {s.pending:,}, errors {s.errors}, " \
               f"refused {s.refused}, reconnects {s.reconnects}"

    try:
        publisher.announce(devices)
        stats = pump(messages, publisher.publish, speed=speed, rate=rate,
                     progress=_progress(label, extra))
    finally:
        flushed = publisher.close()
    final = publisher.stats()
    click.echo(f"\n{label}: sent {stats.messages:,} messages in {stats.elapsed_s:.1f}s "
               f"({stats.rate:,.0f}/s); broker acknowledged {final.acked:,} of "
               f"{final.published:,} (incl. status), errors {final.errors}, "
               f"refused {final.refused}, reconnects {final.reconnects}"
               + ("" if flushed else ", UNACKED LEFT"), err=True)
    if not flushed:
        raise click.ClickException(f"{final.pending} messages were not acknowledged")
    if final.refused:
        raise click.ClickException(
            f"the broker refused {final.refused} messages: their devices are not in the "
            "registry its gateways were set up from (`ioc services up` applies it)")


@click.command("replay")
@click.argument("feed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--speed", "speed_text", default="1", show_default=True,
              help="Divide the recorded inter-arrival times by X, or 'max'.")
@click.option("--shift-to-now", is_flag=True,
              help="Move every dateObserved so the feed looks live (never ahead of the clock).")
@click.option("--rate", type=float, default=None, help="At most R messages per second.")
def replay(feed: Path, speed_text: str, shift_to_now: bool, rate: float | None) -> None:
    """Publish a recorded feed over MQTT with its original timing divided by --speed."""
    speed = parse_speed(speed_text)
    messages = read_feed(feed)
    if shift_to_now:
        origin, span = feed_span(feed)
        if origin is not None:
            delta = shift_delta(origin, span, time.time(), speed)
            messages = shift_feed(messages, delta)
            click.echo(f"shifting dateObserved by {delta:+,.0f}s", err=True)
    _publish(((m.at, m.topic, m.payload) for m in messages), [], speed, rate, "replay")
