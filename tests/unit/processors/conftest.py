"""Unit tests run Faust agents without a broker: topic sends are captured, not produced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import faust.topics
import pytest

from ioc.testing.factories import ScenarioFeed, scenario_feed


@pytest.fixture(autouse=True)
def captured_sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every `Topic.send` in a unit test lands in this list (topic name, keyword arguments)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self: faust.topics.Topic, *args: Any, **kwargs: Any) -> asyncio.Future[None]:
        sent.append((self.get_topic_name(), kwargs))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    monkeypatch.setattr(faust.topics.Topic, "send", send)
    yield sent


@pytest.fixture(scope="session")
def flood_feed() -> ScenarioFeed:
    """The flash-flood scenario's readings (3 h, 400 devices), built once per session."""
    return scenario_feed("flash-flood")
