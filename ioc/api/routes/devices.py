"""Devices and wards from the device registry."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import StringConstraints

from ioc.api.deps import Ctx, CurrentUser, errors, found_or_404
from ioc.api.models import DevicePage, WardOut
from ioc.core.registry import WARDS, Device

__all__ = ["DeviceId", "WardSlug", "router", "wards_router"]

router = APIRouter(prefix="/devices", tags=["devices"], responses=errors(401, 422))
wards_router = APIRouter(prefix="/wards", tags=["devices"], responses=errors(401))
DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                               description="Device id ([A-Za-z0-9_-]{1,64})")]
# in the schema as a pattern, so what the OpenAPI document allows is what the API accepts
WardSlug = Annotated[str, StringConstraints(pattern=f"^({'|'.join(WARDS)})$")]


@router.get("", response_model=DevicePage, summary="Registered devices")
def list_devices(ctx: Ctx, _: CurrentUser,
                 domain: Literal["traffic", "streetlight", "drainage"] | None = None,
                 ward: Annotated[WardSlug | None, Query()] = None) -> DevicePage:
    """Devices of the registry, optionally of one domain and/or ward (a ward slug)."""
    data = [d for d in ctx.registry
            if (domain is None or d.domain == domain) and (ward is None or d.ward == ward)]
    return DevicePage(data=data, count=len(data))


def device_or_404(ctx: Ctx, device_id: str) -> Device:
    """The registered device, or 404."""
    return found_or_404(ctx.registry.get(device_id), "device", device_id)


@router.get("/{device_id}", response_model=Device, summary="One device",
            responses=errors(404))
def get_device(ctx: Ctx, _: CurrentUser, device_id: DeviceId) -> Device:
    """A device's registry entry; 404 if unknown."""
    return device_or_404(ctx, device_id)


@wards_router.get("", response_model=list[WardOut], summary="Đồng Xoài's eight wards")
def list_wards(ctx: Ctx, _: CurrentUser) -> list[WardOut]:
    """The wards with their Vietnamese names, centres and device counts."""
    counts = Counter(d.ward for d in ctx.registry)
    return [WardOut(slug=w.slug, name=w.name, lat=w.lat, lon=w.lon, devices=counts[w.slug])
            for w in WARDS.values()]
