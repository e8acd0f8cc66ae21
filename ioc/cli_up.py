"""`ioc up`: services, bridge, worker and a running city simulation on this machine."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from ioc.errors import ConfigError
from ioc.local_services import services_status, services_up
from ioc.settings import load_settings, state_dir
from ioc.supervisor import ProcessSpec, Supervisor

__all__ = ["up"]


def _specs(logs: Path, scenario: str, speed: str, rate: int) -> list[ProcessSpec]:
    ioc = (sys.executable, "-m", "ioc")
    sim = (*ioc, "sim", "run", "--scenario", scenario, "--speed", speed, "--duration", "365d",
           "--rate", str(rate))
    return [
        ProcessSpec("bridge", (*ioc, "bridge"), logs / "bridge.log"),
        ProcessSpec("worker", (*ioc, "worker"), logs / "worker.log"),
        ProcessSpec("simulator", sim, logs / "simulator.log"),
    ]


def _banner(specs: list[ProcessSpec]) -> str:
    settings = load_settings()
    rows = [f"  {s.name:<10} {'ok' if s.healthy else 'DOWN':<5} {s.version:<8} {s.address}"
            for s in services_status()]
    logs = "\n".join(f"  {p.name:<10} {p.log_file}" for p in specs)
    bucket = settings.influx_bucket
    return "\n".join([
        "Đồng Xoài IOC pipeline is running.", "", "Services:", *rows, "",
        "Pipeline processes (logs):", logs, "",
        "  bridge metrics   http://127.0.0.1:9108/metrics   readiness http://127.0.0.1:9108/ready",
        f"  InfluxDB         {settings.influx_url}  (org {settings.influx_org}, bucket {bucket})",
        "", "Watch it:",
        "  .venv/bin/ioc alerts --follow          every alert change as it happens",
        f"  curl -s -G {settings.influx_url}/query --data-urlencode db={bucket} \\",
        "       -H \"Authorization: Token $IOC_INFLUX_TOKEN\" \\",
        "       --data-urlencode 'q=SELECT last(water_level_m) FROM drainage GROUP BY device'",
        "  (the token is in .ioc/credentials.env)", "",
        "Ctrl-C stops the pipeline processes; `ioc services down` stops the services."])


@click.command()
@click.option("--scenario", default="normal-day", show_default=True,
              help="Simulation scenario (see `ioc sim scenarios`).")
@click.option("--speed", default="10", show_default=True,
              help="Simulated seconds per real second.")
@click.option("--rate", type=int, default=2000, show_default=True,
              help="Cap on simulator messages per second.")
@click.option("--no-sim", is_flag=True, help="Run services, bridge and worker only.")
def up(scenario: str, speed: str, rate: int, no_sim: bool) -> None:
    """Start everything on this machine and keep it running until Ctrl-C.

    Brings up Mosquitto, Kafka and InfluxDB (`ioc services up`), then the MQTT→Kafka
    bridge, a stream-processing worker and a simulation of the city publishing over MQTT.
    Processes that die are restarted; their logs are under .ioc/logs/.
    """
    for result in services_up(progress=lambda name, msg: click.echo(f"{name}: {msg}")):
        click.echo(f"{result.name}: {result.action} ({result.seconds:.1f}s)")
    if not load_settings().registry.exists():
        raise ConfigError(f"device registry {load_settings().registry} is missing; "
                          "generate one with `ioc sim catalog --write`")
    specs = _specs(state_dir() / "logs", scenario, speed, rate)
    if no_sim:
        specs = specs[:2]
    supervisor = Supervisor(specs)
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    supervisor.start()
    click.echo("\n" + _banner(specs))
    while not stopping:
        for name in supervisor.check():
            click.secho(f"{name} exited; restarted (see its log)", fg="yellow", err=True)
        time.sleep(1.0)  # supervision tick, not synchronization
    click.echo("stopping pipeline processes…")
    supervisor.stop()
