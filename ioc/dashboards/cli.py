"""`ioc dashboards build|publish|check`: Grafana dashboards as code."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ioc.core.errors import IocError

__all__ = ["dashboards"]

# relative to the working directory like the registry's default: run from the repository,
# docker-compose mounts ./dashboards/build at /var/lib/grafana/dashboards
_OUTPUT = Path("dashboards")
DEFAULT_OUT = _OUTPUT / "build"
DEFAULT_GAZETTEER = _OUTPUT / "gazetteer" / "ioc-devices.json"


def _built(registry_path: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from ioc.core.registry import load_registry
    from ioc.core.settings import load_settings
    from ioc.dashboards.catalog import all_dashboards, gazetteer

    registry = load_registry(registry_path or load_settings().registry)
    return [d.to_json() for d in all_dashboards(registry)], gazetteer(registry)


def _write_json(path: Path, body: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@click.group()
def dashboards() -> None:
    """Grafana dashboards as code: build the JSON, publish it, check its queries."""


@dashboards.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_OUT, show_default=True, help="Directory for <uid>.json files.")
@click.option("--gazetteer", "gazetteer_file", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_GAZETTEER, show_default=True,
              help="Device locations for the geomap panels (serve at public/gazetteer/ioc/).")
@click.option("--registry", type=click.Path(dir_okay=False), default=None,
              help="Device registry (default: IOC_REGISTRY).")
def build(out_dir: Path, gazetteer_file: Path, registry: str | None) -> None:
    """Write every dashboard as Grafana JSON, plus the device gazetteer."""
    try:
        boards, places = _built(registry)
    except IocError as exc:
        raise click.ClickException(str(exc)) from exc
    for board in boards:
        path = out_dir / f"{board['uid']}.json"
        _write_json(path, board)
        click.echo(f"{path}  {board['title']}  ({len(board['panels'])} panels)")
    _write_json(gazetteer_file, places)
    click.echo(f"{gazetteer_file}  {len(places)} devices")


@dashboards.command()
@click.option("--url", default=None, help="Grafana URL (default: IOC_GRAFANA_URL).")
@click.option("--token-env", default="IOC_GRAFANA_TOKEN", show_default=True,
              help="Environment variable holding a Grafana service-account token.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds per request.")
@click.option("--registry", type=click.Path(dir_okay=False), default=None,
              help="Device registry (default: IOC_REGISTRY).")
def publish(url: str | None, token_env: str, timeout: float, registry: str | None) -> None:
    """Create or update the dashboards in a running Grafana through its HTTP API."""
    from ioc.core.settings import load_settings
    from ioc.dashboards.publish import publish as publish_to

    try:
        settings = load_settings()
        token = os.environ.get(token_env) or (
            settings.grafana_token.get_secret_value() if settings.grafana_token else None)
        target = url or settings.grafana_url
        boards, _ = _built(registry)
        # without a token, from_url takes user:password from the URL (http://admin:pw@host)
        urls = publish_to(boards, target, token, timeout_s=timeout)
    except IocError as exc:
        raise click.ClickException(str(exc)) from exc
    for published in urls:
        click.echo(f"published {published}")


@dashboards.command()
@click.option("--range", "time_range", default="6h", show_default=True,
              help="Render $timeFilter as time >= now() - RANGE.")
@click.option("--interval", default="1m", show_default=True, help="Value of $__interval.")
@click.option("--bucket", default=None,
              help="InfluxQL database (default: IOC_INFLUX_BUCKET); queried with "
                   "IOC_INFLUX_READ_TOKEN, which must be allowed to read it.")
@click.option("--registry", type=click.Path(dir_okay=False), default=None,
              help="Device registry (default: IOC_REGISTRY).")
def check(time_range: str, interval: str, bucket: str | None, registry: str | None) -> None:
    """Run every panel and variable query against InfluxDB; fail if any is rejected."""
    from ioc.core.settings import load_settings
    from ioc.dashboards.influxql import InfluxQLClient
    from ioc.dashboards.query_check import check_dashboards

    try:
        settings = load_settings()
        boards, _ = _built(registry)
        client = InfluxQLClient(settings.influx_url, settings.influx_token_for("read"),
                                bucket or settings.influx_bucket)
        results = check_dashboards(boards, client, time_filter=f"time >= now() - {time_range}",
                                   interval=interval)
    except IocError as exc:
        raise click.ClickException(str(exc)) from exc
    for r in results:
        status = "FAIL" if r.error else "ok"
        click.echo(f"{status:4} {r.rows:6d}  {r.query.dashboard} / {r.query.source}"
                   + (f"\n      {r.error}" if r.error else ""))
    failed = sum(1 for r in results if r.error)
    if failed:
        raise click.ClickException(f"{failed} of {len(results)} queries failed")
    click.echo(f"all {len(results)} queries ran")
