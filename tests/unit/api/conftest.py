"""Fixtures of the API unit tests (defined in api_fakes)."""

from api_fakes import api

__all__ = ["api"]
