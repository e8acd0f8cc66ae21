"""The device registry: who each device is, where it stands and its thresholds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ioc.core.errors import ConfigError

__all__ = ["WARDS", "Device", "Registry", "Ward", "dump_registry", "load_registry"]

Domain = Literal["traffic", "streetlight", "drainage"]


@dataclass(frozen=True, slots=True)
class Ward:
    """One of Đồng Xoài's eight wards and communes (approximate centre)."""

    slug: str
    name: str
    lat: float
    lon: float


WARDS: dict[str, Ward] = {w.slug: w for w in (
    Ward("tan-phu", "Tân Phú", 11.5365, 106.8890),
    Ward("tan-dong", "Tân Đồng", 11.5290, 106.9020),
    Ward("tan-binh", "Tân Bình", 11.5450, 106.8960),
    Ward("tan-xuan", "Tân Xuân", 11.5560, 106.9120),
    Ward("tan-thien", "Tân Thiện", 11.5210, 106.8790),
    Ward("tien-thanh", "Tiến Thành", 11.4930, 106.8600),
    Ward("tien-hung", "Tiến Hưng", 11.5560, 106.8620),
    Ward("tan-thanh", "Tân Thành", 11.5720, 106.9330),
)}

_DOMAIN_FACTS: dict[str, tuple[str, ...]] = {
    "traffic": ("road", "direction", "free_flow_kmh"),
    "streetlight": ("circuit", "rated_w"),
    "drainage": ("basin", "depth_m", "warn_m", "critical_m"),
}


class Device(BaseModel):
    """A registered field device and its domain's facts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    domain: Domain
    name: str
    ward: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    interval_s: float = Field(gt=0)
    road: str | None = None
    direction: str | None = None
    free_flow_kmh: float | None = Field(default=None, gt=0)
    circuit: str | None = None
    rated_w: float | None = Field(default=None, gt=0)
    basin: str | None = None
    depth_m: float | None = Field(default=None, gt=0)
    warn_m: float | None = None
    critical_m: float | None = None

    @model_validator(mode="after")
    def _domain_facts_present(self) -> Device:
        if self.ward not in WARDS:
            raise ValueError(f"unknown ward {self.ward!r}; expected one of {sorted(WARDS)}")
        missing = [f for f in _DOMAIN_FACTS[self.domain] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.domain} device {self.id} lacks {', '.join(missing)}")
        if self.domain == "drainage":
            assert self.warn_m is not None and self.critical_m is not None
            if not self.warn_m < self.critical_m:
                raise ValueError(f"device {self.id}: warn_m must be below critical_m")
        return self

    def to_record(self) -> dict[str, Any]:
        """The registry-file form: common keys plus this domain's facts."""
        keys = ("id", "domain", "name", "ward", "lat", "lon", "interval_s",
                *_DOMAIN_FACTS[self.domain])
        return {k: getattr(self, k) for k in keys}


class Registry:
    """Devices by id, with lookups the processors and API need."""

    __slots__ = ("_by_id",)

    def __init__(self, devices: Iterable[Device]) -> None:
        self._by_id: dict[str, Device] = {}
        for device in devices:
            if device.id in self._by_id:
                raise ConfigError(f"device id {device.id!r} appears twice in the registry")
            self._by_id[device.id] = device

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Device]:
        return iter(self._by_id.values())

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._by_id

    def get(self, device_id: str) -> Device | None:
        """The device with this id, or None."""
        return self._by_id.get(device_id)

    def in_ward(self, ward: str, domain: str | None = None) -> list[Device]:
        """Devices of one ward, optionally of one domain."""
        return [d for d in self._by_id.values()
                if d.ward == ward and (domain is None or d.domain == domain)]


def load_registry(path: str | Path) -> Registry:
    """Read and validate a registry YAML file with a top-level `devices:` list."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise ConfigError(f"cannot read device registry {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"device registry {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise ConfigError(f"device registry {path} must have a top-level 'devices:' list")
    devices = []
    for index, record in enumerate(data["devices"]):
        try:
            devices.append(Device.model_validate(record))
        except ValidationError as exc:
            raise ConfigError(f"{path}: device #{index}: {exc}") from exc
    return Registry(devices)


def dump_registry(devices: Iterable[Device], path: str | Path) -> None:
    """Write devices to a registry YAML file."""
    body = {"devices": [d.to_record() for d in devices]}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(body, Dumper=dumper, allow_unicode=True, sort_keys=False)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
