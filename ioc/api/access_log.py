"""Query strings out of the server's logs: a token put in a URL must not be written down."""

from __future__ import annotations

import logging

__all__ = ["REDACTED", "RedactQueryStrings", "redact_query_strings"]

REDACTED = "[redacted]"
# uvicorn writes request lines to `uvicorn.access` and WebSocket handshakes to `uvicorn.error`
_LOGGERS = ("uvicorn.access", "uvicorn.error")


def _redact(value: object) -> object:
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return f"{value.partition('?')[0]}?{REDACTED}"
    return value


class RedactQueryStrings(logging.Filter):
    """Replaces the query of any path argument of a log record (`/x?token=…` → `/x?[redacted]`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drops it."""
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        return True


def redact_query_strings() -> None:
    """Attach the filter to uvicorn's loggers (once; idempotent)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
            logger.addFilter(RedactQueryStrings())
