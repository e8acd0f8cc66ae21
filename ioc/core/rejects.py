"""Why a device message is refused: the reasons of the dead-letter topic and their exception."""

from __future__ import annotations

from enum import StrEnum

from ioc.core.errors import IocError

__all__ = ["RejectReason", "TelemetryRejected"]


class RejectReason(StrEnum):
    """Machine-readable reasons a message goes to the dead-letter topic."""

    BAD_TOPIC = "bad_topic"
    UNKNOWN_DOMAIN = "unknown_domain"
    BAD_DEVICE_ID = "bad_device_id"
    OVERSIZE = "oversize"
    INVALID_UTF8 = "invalid_utf8"
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_DEVICE = "unknown_device"
    DOMAIN_MISMATCH = "domain_mismatch"


class TelemetryRejected(IocError):
    """A message broke the device contract; `reason` says how, `detail` says where."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
