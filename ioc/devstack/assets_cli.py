"""`ioc assets`: fetch the console's map library from the npm registry (pinned, verified)."""

from __future__ import annotations

import click

from ioc.devstack.console_assets import LEAFLET, ensure_assets

__all__ = ["assets"]


@click.command()
def assets() -> None:
    """Vendor Leaflet for the API's console (once; later runs reuse ~/.cache/ioc/npm).

    Downloads leaflet-VERSION.tgz from registry.npmjs.org, checks the pinned sha512
    integrity and unpacks leaflet.js, leaflet.css and LICENSE into ioc/api/static/vendor/.
    """
    target = ensure_assets(lambda line: click.echo(line, err=True))
    click.echo(f"{LEAFLET.name} {LEAFLET.version}: {target}")
