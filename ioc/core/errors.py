"""The project's one root exception and its families."""

from __future__ import annotations

__all__ = ["ConfigError", "IocError", "ServiceError"]


class IocError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigError(IocError):
    """Settings or a data file are missing or invalid."""


class ServiceError(IocError):
    """A backing service (Mosquitto, Kafka, InfluxDB) is unreachable or failed to start."""
