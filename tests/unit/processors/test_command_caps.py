"""The worker refuses commands past the alert caps, so every alert stays publishable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ioc.core.alert_limits import (
    MAX_ALERT_BYTES,
    MAX_COMMENT_CHARS,
    MAX_COMMENTS,
    MAX_NAME_CHARS,
    command_refusal,
)
from ioc.core.schemas import Alert, AlertCommand
from ioc.processors.rules.lifecycle import apply_command

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
KAFKA_MESSAGE_LIMIT = 1024 * 1024


def _alert() -> Alert:
    return Alert(id="flood.level:dr-1:20260601T030000Z", rule="flood.level", subject="dr-1",
                 category="environment", sub_category="flood", severity="high",
                 alert_source="dr-1", description="water over warning level",
                 date_issued=T0, date_modified=T0)


def _cmd(action: str = "comment", text: str | None = "ok", by: str = "oper",
         assignee: str | None = None, n: int = 0) -> AlertCommand:
    return AlertCommand(alert_id=_alert().id, action=action, by=by,  # type: ignore[arg-type]
                        at=T0 + timedelta(seconds=n + 1), text=text, assignee=assignee,
                        command_id=uuid.uuid4().hex)


def _comment_until_refused(text: str, tries: int) -> tuple[Alert, int]:
    alert, refused = _alert(), 0
    for n in range(tries):
        new = apply_command(alert, _cmd(text=text, n=n))
        if new is None:
            refused += 1
        else:
            alert = new
    return alert, refused


def test_comment_count_is_capped() -> None:
    alert, refused = _comment_until_refused("short note", MAX_COMMENTS + 5)
    assert (len(alert.comments), refused) == (MAX_COMMENTS, 5)
    acked = apply_command(alert, _cmd("acknowledge", text=None, n=999))
    assert acked is not None and acked.status == "acknowledged"  # other commands still work


def test_worst_case_comments_stay_under_the_byte_cap() -> None:
    # control characters are escaped as \\u00XX: six bytes of JSON per character, so the
    # count cap alone would let 100 maximum-length comments reach ~1.2 MB
    alert, refused = _comment_until_refused("\x01" * MAX_COMMENT_CHARS, MAX_COMMENTS)
    assert refused > 0
    assert len(alert.to_json()) <= MAX_ALERT_BYTES
    resolved = apply_command(alert, _cmd("resolve", text=None, by="x" * MAX_NAME_CHARS, n=999))
    assert resolved is not None
    assert len(resolved.to_json()) < KAFKA_MESSAGE_LIMIT // 2 + 4096


@pytest.mark.parametrize(("cmd", "why"), [
    (_cmd(text="x" * (MAX_COMMENT_CHARS + 1)), "comment is longer"),
    (_cmd("acknowledge", text=None, by="b" * (MAX_NAME_CHARS + 1)), "'by' is longer"),
    (_cmd("assign", text=None, assignee="a" * 900_000), "assignee is longer"),
])
def test_oversized_fields_are_refused(cmd: AlertCommand, why: str) -> None:
    assert why in (command_refusal(_alert(), cmd) or "")
    assert apply_command(_alert(), cmd) is None


def test_commands_within_the_caps_pass() -> None:
    assert command_refusal(_alert(), _cmd(text="x" * MAX_COMMENT_CHARS)) is None
    assert command_refusal(_alert(), _cmd("assign", text=None, assignee="a" * 64)) is None
