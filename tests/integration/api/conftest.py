"""Fixtures of the API integration tests (defined in api_helpers)."""

from tests.integration.api.api_helpers import influx_bucket, serve_api, served_api

__all__ = ["influx_bucket", "serve_api", "served_api"]
