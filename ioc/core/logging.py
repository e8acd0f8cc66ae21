"""Log setup for every `ioc` process: one root handler, text or one JSON object per line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

__all__ = ["JsonFormatter", "cli_level", "make_handler", "setup_logging"]

_TEXT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
# client libraries log every reconnect at INFO; the pipeline's own loggers say what matters
_CHATTY = ("kafka", "aiokafka", "paho", "urllib3", "faust.transport", "mode")
# kafka-python warns "credentials in the clear" on every SCRAM connection without TLS, yet
# SCRAM sends only salted proofs, never the password: the warning would flood every log
_MISLEADING = ("kafka.net.sasl.scram",)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
               "level": record.levelname, "logger": record.name,
               "msg": record.getMessage(), "thread": record.threadName}
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def make_handler(fmt: str = "text") -> logging.Handler:
    """A stderr handler in the chosen format ("text" or "json")."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(_TEXT))
    return handler


def setup_logging(level: str | int, fmt: str = "text") -> None:
    """Route every logger through one root handler at `level`; client libraries at WARNING."""
    numeric = level if isinstance(level, int) else logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root = logging.getLogger()
    root.handlers[:] = [make_handler(fmt)]
    root.setLevel(numeric)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    for name in _MISLEADING:
        logging.getLogger(name).setLevel(max(numeric, logging.ERROR))


def cli_level(verbose: int) -> int:
    """One-shot commands log warnings; each -v shows one level more."""
    return max(logging.WARNING - 10 * verbose, logging.DEBUG)
