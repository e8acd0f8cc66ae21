"""Fixtures of the console's browser tests: Debian's Chromium under pytest-playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from ioc.core.settings import Settings
from tests.integration.console.console_pipeline import Pipeline, running_pipeline

CHROMIUM = os.environ.get("IOC_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = Path(__file__).resolve().parents[3] / "test-artefacts" / "console"


def _ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium: Playwright's own browsers are never
    downloaded. Missing, it fails the test under CI=true and skips it elsewhere."""
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        message = (f"Chromium not found at {CHROMIUM}: `apt-get install chromium` "
                   "(deploy/local/install_deps.sh does it)")
        if _ci():
            pytest.fail(message)
        pytest.skip(message)
    return {"executable_path": CHROMIUM, "headless": True,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage"]}


@pytest.fixture
def browser(browser_type_launch_args: dict[str, Any]) -> Iterator[Browser]:
    """Chromium for one test. pytest-playwright's own `browser` hangs off a session-wide
    Playwright whose event loop stays current in the main thread until the session ends,
    and every later test calling asyncio.run() (Faust, the worker tests) then fails."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**browser_type_launch_args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where the browser tests leave their screenshots (gitignored)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


@pytest.fixture
def pipeline(mqtt_service: Settings, kafka_service: Settings, influx_service: Settings,
             tmp_path: Path) -> Iterator[Pipeline]:
    """Bridge, worker and API over this test's own topics, bucket and 400-device registry."""
    with running_pipeline(influx_service, tmp_path) as running:
        yield running
