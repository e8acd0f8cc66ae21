"""The generated catalog: deterministic, valid registry devices, readable ids, scalable."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from ioc.core.errors import ConfigError
from ioc.core.registry import WARDS, Device, dump_registry, load_registry
from ioc.sensors_sim.catalog import DEFAULT_DEVICES, generate_catalog


def test_same_seed_same_catalog_other_seed_differs() -> None:
    first = [d.to_record() for d in generate_catalog(seed=3)]
    assert first == [d.to_record() for d in generate_catalog(seed=3)]
    assert first != [d.to_record() for d in generate_catalog(seed=4)]


def test_every_device_is_a_valid_registry_device(catalog: list[Device]) -> None:
    assert len(catalog) == DEFAULT_DEVICES
    for device in catalog:
        assert Device.model_validate(device.to_record()) == device
    assert len({d.id for d in catalog}) == len(catalog)


def test_all_domains_and_wards_are_covered(catalog: list[Device]) -> None:
    domains = Counter(d.domain for d in catalog)
    assert set(domains) == {"traffic", "streetlight", "drainage"}
    for ward in WARDS:
        kinds = {d.domain for d in catalog if d.ward == ward}
        assert {"streetlight", "drainage"} <= kinds, ward
        assert any(d.id == f"rg-{ward}" for d in catalog)
    assert {d.road for d in catalog if d.domain == "traffic"} == {
        "ql14", "dt741", "phu-rieng-do", "hung-vuong", "tran-hung-dao"}


def test_ids_are_readable(catalog: list[Device]) -> None:
    patterns = [r"tr-[a-z0-9-]+-\d{3}", r"sl-[a-z-]+-c\d{2}-\d{2}", r"dr-[a-z-]+-b\d-\d{2}",
                r"rg-[a-z-]+"]
    for device in catalog:
        assert any(re.fullmatch(p, device.id) for p in patterns), device.id
    assert "tr-ql14-003" in {d.id for d in catalog}


def test_drain_thresholds_are_ordered(catalog: list[Device]) -> None:
    for d in catalog:
        if d.domain == "drainage":
            assert d.warn_m is not None and d.critical_m is not None and d.depth_m is not None
            assert 0 < d.warn_m < d.critical_m < d.depth_m


def test_registry_file_round_trip(tmp_path: Path, catalog: list[Device]) -> None:
    path = tmp_path / "devices.yaml"
    dump_registry(catalog, path)
    assert [d.to_record() for d in load_registry(path)] == [d.to_record() for d in catalog]


def test_scales_to_exact_size_with_the_same_proportions() -> None:
    started = time.perf_counter()
    big = generate_catalog(20_000)
    elapsed = time.perf_counter() - started
    assert len(big) == 20_000 and len({d.id for d in big}) == 20_000
    share = Counter(d.domain for d in big)
    assert 0.1 < share["traffic"] / 20_000 < 0.16
    assert 0.1 < share["drainage"] / 20_000 < 0.16
    assert elapsed < 5.0  # 100k devices take about a second on the dev machine


def test_too_small_a_catalog_is_refused() -> None:
    with pytest.raises(ConfigError):
        generate_catalog(10)
