"""Fixtures of the API integration tests (defined in api_helpers and api_process)."""

from tests.integration.api.api_helpers import influx_bucket, serve_api, served_api
from tests.integration.api.api_process import api_process

__all__ = ["api_process", "influx_bucket", "serve_api", "served_api"]
