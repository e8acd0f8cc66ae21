"""Fixtures of the API unit tests (defined in api_fakes)."""

from tests.unit.api.api_fakes import api

__all__ = ["api"]
