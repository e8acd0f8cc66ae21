"""A drainer's MQTT session ends with its block, also when the block fails: a session left
behind would queue every later message and be rewritten by every broker autosave."""

from __future__ import annotations

import pytest

from ioc.bench import loadgen
from ioc.core.settings import Settings


class _Boom(Exception):
    pass


@pytest.fixture
def ended(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(loadgen, "forget_session",
                        lambda settings, client_id, members=1: calls.append((client_id,
                                                                              members)))
    return calls


def test_the_session_ends_after_the_block(ended: list[tuple[str, int]]) -> None:
    with loadgen.session_ended(Settings(), "bench-x-bridge", 2):
        assert ended == []  # not before: the drain needs the queued messages
    assert ended == [("bench-x-bridge", 2)]


def test_a_failing_block_still_ends_the_session_and_raises(
        ended: list[tuple[str, int]]) -> None:
    with pytest.raises(_Boom), loadgen.session_ended(Settings(), "peer-x-telegraf"):
        raise _Boom
    assert ended == [("peer-x-telegraf", 1)]
