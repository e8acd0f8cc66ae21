"""The map library is vendored only when its tarball matches the pinned sha512 integrity."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from ioc.core.errors import ConfigError
from ioc.devstack import console_assets
from ioc.devstack.console_assets import LEAFLET, NpmAsset, ensure_assets, verify_integrity


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


FILES = {"dist/lib.js": b"window.L = {};", "LICENSE": b"BSD-2-Clause"}
GOOD = _tarball(FILES)
ASSET = NpmAsset("lib", "1.0.0", _integrity(GOOD), ("dist/lib.js", "LICENSE"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IOC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "npm"


def test_the_pin_is_a_registry_tarball_with_sha512() -> None:
    assert LEAFLET.url == "https://registry.npmjs.org/leaflet/-/leaflet-1.9.4.tgz"
    assert LEAFLET.integrity.startswith("sha512-")


def test_a_download_is_verified_cached_and_unpacked(cache: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def download(asset: NpmAsset, timeout_s: float) -> bytes:
        fetched.append(asset.url)
        return GOOD

    monkeypatch.setattr(console_assets, "_download", download)
    target = ensure_assets(lambda _: None, tmp_path / "vendor", ASSET)
    assert (target / "lib.js").read_bytes() == FILES["dist/lib.js"]
    assert (cache / "lib-1.0.0.tgz").read_bytes() == GOOD
    ensure_assets(lambda _: None, tmp_path / "vendor", ASSET)
    assert fetched == [ASSET.url]  # the second run needed nothing


def test_a_tampered_download_is_refused_and_nothing_is_written(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evil = _tarball({**FILES, "dist/lib.js": b"steal(document.cookie)"})
    monkeypatch.setattr(console_assets, "_download", lambda asset, timeout: evil)
    with pytest.raises(ConfigError, match="integrity check failed"):
        ensure_assets(lambda _: None, tmp_path / "vendor", ASSET)
    assert not (tmp_path / "vendor").exists() and not cache.exists()


def test_a_corrupt_cache_is_fetched_again(cache: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache.mkdir(parents=True)
    (cache / "lib-1.0.0.tgz").write_bytes(b"garbage")
    monkeypatch.setattr(console_assets, "_download", lambda asset, timeout: GOOD)
    ensure_assets(lambda _: None, tmp_path / "vendor", ASSET)
    assert (cache / "lib-1.0.0.tgz").read_bytes() == GOOD


def test_only_sha512_integrity_is_accepted() -> None:
    with pytest.raises(ConfigError, match="unsupported"):
        verify_integrity(GOOD, "sha1-" + base64.b64encode(hashlib.sha1(GOOD).digest()).decode())
