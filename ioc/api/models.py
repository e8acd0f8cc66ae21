"""Request and response bodies of the HTTP API (alerts are `ioc.schemas.Alert` as they are)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ioc.api.auth import Role
from ioc.api.users import User
from ioc.core.alert_limits import MAX_COMMENT_CHARS, MAX_NAME_CHARS
from ioc.core.registry import Device
from ioc.core.schemas import Alert

__all__ = [
    "AlertPage",
    "AssignBody",
    "CommentBody",
    "DevicePage",
    "ErrorOut",
    "Health",
    "InvalidOut",
    "Readiness",
    "ReadingsPage",
    "TokenOut",
    "UserCreate",
    "UserOut",
    "WardOut",
]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorOut(_Body):
    """What every error answer carries: a message for people."""

    detail: str


class InvalidOut(_Body):
    """422: a message, or the list of fields that failed validation (FastAPI's format)."""

    detail: str | list[dict[str, Any]]


class AlertPage(_Body):
    """Matching alerts, newest first, and how many matched in all."""

    data: list[Alert]
    count: int


class AssignBody(_Body):
    """POST /alerts/{id}/assign."""

    assignee: str = Field(min_length=1, max_length=MAX_NAME_CHARS)


class CommentBody(_Body):
    """POST /alerts/{id}/comment."""

    text: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)


class DevicePage(_Body):
    """Devices from the registry."""

    data: list[Device]
    count: int


class WardOut(_Body):
    """One of the eight wards, with its Vietnamese name and device count."""

    slug: str
    name: str
    lat: float
    lon: float
    devices: int


class ReadingsPage(_Body):
    """A device's readings from InfluxDB, newest first (field names as stored)."""

    device: str
    measurement: str
    since: AwareDatetime
    until: AwareDatetime
    count: int
    data: list[dict[str, Any]]


class TokenOut(_Body):
    """OAuth2 bearer token response."""

    access_token: str
    token_type: str = "bearer"
    expires_at: AwareDatetime
    role: str


class UserCreate(_Body):
    """POST /users (admin)."""

    name: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    role: Role
    password: str = Field(min_length=8, max_length=256)


class UserOut(_Body):
    """A user without the password hash."""

    name: str
    role: str
    created_at: AwareDatetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The public view of a user."""
        return cls(name=user.name, role=user.role,
                   created_at=datetime.fromtimestamp(user.created_at, UTC))


class Health(_Body):
    """Liveness."""

    status: str


class Readiness(_Body):
    """Readiness: the alert view has caught up and InfluxDB answers."""

    status: str
    alerts_loaded: bool
    alerts: int
    influxdb: bool
