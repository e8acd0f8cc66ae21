"""One log setup for every process: root handler, level, format, quiet client libraries."""

from __future__ import annotations

import logging

import orjson
import pytest

from ioc.core.logging import cli_level, setup_logging


@pytest.fixture(autouse=True)
def _restore_root() -> object:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("kafka").level)
    yield None
    root.handlers[:], level, kafka_level = saved
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(kafka_level)


def test_json_format_prints_one_object_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("info", "json")
    logging.getLogger("ioc.ingest.bridge").info("forwarded %d", 3)
    doc = orjson.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (doc["level"], doc["logger"], doc["msg"]) == ("INFO", "ioc.ingest.bridge", "forwarded 3")


def test_level_applies_to_project_loggers_and_client_libraries_stay_quiet() -> None:
    setup_logging("DEBUG")
    assert logging.getLogger("ioc.processors").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("kafka").getEffectiveLevel() == logging.WARNING


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        setup_logging("LOUD")


def test_cli_verbosity() -> None:
    assert [cli_level(v) for v in (0, 1, 2, 5)] == [
        logging.WARNING, logging.INFO, logging.DEBUG, logging.DEBUG]
