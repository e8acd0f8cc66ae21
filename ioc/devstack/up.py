"""`ioc up`: services, bridge, worker, API and a running city simulation on this machine."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from ioc.core.errors import ConfigError, IocError
from ioc.core.settings import Settings, credentials_file, load_settings, state_dir
from ioc.devstack import services_status, services_up
from ioc.devstack.supervisor import ProcessSpec, Supervisor

__all__ = ["up"]


def _specs(logs: Path, scenario: str, speed: str, rate: int, sim: bool) -> list[ProcessSpec]:
    ioc = (sys.executable, "-m", "ioc")
    specs = [
        ProcessSpec("bridge", (*ioc, "bridge"), logs / "bridge.log"),
        ProcessSpec("worker", (*ioc, "worker"), logs / "worker.log"),
        ProcessSpec("api", (*ioc, "api", "serve"), logs / "api.log"),
    ]
    if sim:
        run = (*ioc, "sim", "run", "--scenario", scenario, "--speed", speed,
               "--duration", "365d", "--rate", str(rate))
        specs.append(ProcessSpec("simulator", run, logs / "simulator.log"))
    return specs


def _prepare(settings: Settings) -> None:
    """What the processes need before they start: registry, dashboards, the console admin."""
    if not settings.registry.exists():
        raise ConfigError(f"device registry {settings.registry} is missing; "
                          "generate one with `ioc sim catalog --write`")
    from ioc.api.main import users_file
    from ioc.api.users import UserStore, ensure_dev_admin
    from ioc.dashboards.cli import build

    if settings.profile == "dev":
        ensure_dev_admin(UserStore(users_file()), credentials_file())
    click.get_current_context().invoke(build)
    _console_assets()


def _console_assets() -> None:
    from ioc.devstack.console_assets import ensure_assets

    try:
        ensure_assets(lambda line: click.echo(f"console: {line}"))
    except IocError as exc:  # offline and nothing cached: the console runs without its map
        click.echo(f"console: the map library is unavailable ({exc}); the console will show "
                   "its panels and alerts without the map", err=True)


def _banner(specs: list[ProcessSpec]) -> str:
    s = load_settings()
    rows = [f"  {st.name:<10} {'ok' if st.healthy else 'DOWN':<5} {st.version:<8} {st.address}"
            for st in services_status()]
    logs = [f"  {p.name:<10} {p.log_file}" for p in specs]
    api = f"http://{s.api_host}:{s.api_port}"
    return "\n".join([
        "Đồng Xoài IOC pipeline is running.", "", "Services:", *rows, "",
        "Pipeline processes (logs):", *logs, "",
        "URLs:",
        f"  Operator console  {api}/   (user admin, password IOC_API_ADMIN_PASSWORD "
        f"in {credentials_file()})",
        f"  API docs          {api}/docs      readiness {api}/readyz",
        "  Bridge metrics    http://127.0.0.1:9108/metrics   readiness http://127.0.0.1:9108/ready",
        f"  InfluxDB          {s.influx_url}  (org {s.influx_org}, bucket {s.influx_bucket})",
        "  Grafana dashboards (JSON) dashboards/build/ — `ioc dashboards publish` pushes them",
        "", "Watch it:",
        "  .venv/bin/ioc alerts --follow     every alert change as it happens",
        "  .venv/bin/ioc dashboards check    run every dashboard query against InfluxDB",
        "", "Ctrl-C stops the pipeline processes; `make down` stops the services."])


@click.command()
@click.option("--scenario", default="normal-day", show_default=True,
              help="Simulation scenario (see `ioc sim scenarios`).")
@click.option("--speed", default="1", show_default=True,
              help="Simulated seconds per real second (1 keeps readings stamped now).")
@click.option("--rate", type=int, default=2000, show_default=True,
              help="Cap on simulator messages per second.")
@click.option("--no-sim", is_flag=True, help="Run services, bridge, worker and API only.")
def up(scenario: str, speed: str, rate: int, no_sim: bool) -> None:
    """Start everything on this machine and keep it running until Ctrl-C.

    Brings up Mosquitto, Kafka and InfluxDB (`ioc services up`), then the MQTT→Kafka
    bridge, the stream-processing worker, the operator API and a simulation of the city
    publishing over MQTT. Processes that die are restarted; logs are under .ioc/logs/.
    """
    for result in services_up(progress=lambda name, msg: click.echo(f"{name}: {msg}")):
        click.echo(f"{result.name}: {result.action} ({result.seconds:.1f}s)")
    _prepare(load_settings())
    specs = _specs(state_dir() / "logs", scenario, speed, rate, sim=not no_sim)
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
