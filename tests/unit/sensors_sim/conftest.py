"""Shared fixtures: the default catalog and its registry."""

from __future__ import annotations

import pytest

from ioc.core.registry import Device, Registry
from ioc.sensors_sim.catalog import generate_catalog


@pytest.fixture(scope="package")
def catalog() -> list[Device]:
    """The default catalog (400 devices, default seed)."""
    return generate_catalog()


@pytest.fixture(scope="package")
def registry(catalog: list[Device]) -> Registry:
    """A Registry of the default catalog."""
    return Registry(catalog)
