"""The console's map library, vendored from the npm registry at build time.

Leaflet (BSD-2-Clause) draws the map with SVG vector layers only: no tile server, no CDN and
no WebGL (MapLibre GL needs WebGL, which headless Chromium without a GPU may not offer).
The tarball is fetched once from registry.npmjs.org at a pinned version, checked against the
registry's sha512 integrity, cached in `IOC_CACHE_DIR` (~/.cache/ioc) and unpacked into the
API's static files (`ioc/api/static/vendor/leaflet/`, not committed), whence the API serves it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from ioc.api.static_files import VENDOR_DIR
from ioc.core.errors import ConfigError, ServiceError

__all__ = ["LEAFLET", "NpmAsset", "cached_tarball", "ensure_assets", "verify_integrity"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NpmAsset:
    """One npm package version and the files of its tarball the console needs."""

    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` (sha512, base64)
    files: tuple[str, ...]  # paths inside the tarball, below `package/`

    @property
    def url(self) -> str:
        """The tarball on the public npm registry."""
        return f"https://registry.npmjs.org/{self.name}/-/{self.name}-{self.version}.tgz"


LEAFLET = NpmAsset(
    "leaflet", "1.9.4",
    "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
    ("dist/leaflet.js", "dist/leaflet.css", "LICENSE"))


def _cache() -> Path:
    return Path(os.environ.get("IOC_CACHE_DIR", Path.home() / ".cache" / "ioc")) / "npm"


def verify_integrity(data: bytes, integrity: str) -> None:
    """ConfigError unless `data` matches a `sha512-<base64>` integrity string."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise ConfigError(f"unsupported integrity algorithm {algo!r}; expected sha512")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if actual != expected:
        raise ConfigError(f"integrity check failed: got sha512-{actual}, expected {integrity}")


def _download(asset: NpmAsset, timeout_s: float) -> bytes:
    try:
        resp = requests.get(asset.url, timeout=timeout_s)
        resp.raise_for_status()
    except requests.RequestException as exc:
        raise ServiceError(f"cannot download {asset.url}: {exc}") from exc
    return resp.content


def cached_tarball(asset: NpmAsset, progress: Callable[[str], None] = log.info,
                   timeout_s: float = 60.0) -> bytes:
    """The verified tarball: from the cache, else downloaded, verified, then cached."""
    path = _cache() / f"{asset.name}-{asset.version}.tgz"
    if path.exists():
        data = path.read_bytes()
        try:
            verify_integrity(data, asset.integrity)
            return data
        except ConfigError:
            progress(f"cached {path} fails its integrity check: downloading it again")
    progress(f"downloading {asset.url}")
    data = _download(asset, timeout_s)
    verify_integrity(data, asset.integrity)  # before anything is written
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
    return data


def _unpack(asset: NpmAsset, data: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in asset.files:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise ConfigError(f"{asset.name} {asset.version} has no {name}")
            (target / Path(name).name).write_bytes(member.read())
    (target / "VERSION").write_text(f"{asset.version} {asset.integrity}\n", encoding="utf-8")


def ensure_assets(progress: Callable[[str], None] = log.info, vendor: Path = VENDOR_DIR,
                  asset: NpmAsset = LEAFLET) -> Path:
    """Unpack the map library into the API's static files unless that version is there."""
    target = vendor / asset.name
    stamp = target / "VERSION"
    wanted = f"{asset.version} {asset.integrity}\n"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == wanted and all(
            (target / Path(n).name).exists() for n in asset.files):
        return target
    _unpack(asset, cached_tarball(asset, progress), target)
    progress(f"{asset.name} {asset.version} unpacked into {target}")
    return target
