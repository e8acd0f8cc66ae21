"""Feed files: write/read round trip, gzip, non-UTF-8 payloads, broken lines."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ioc.core.feed import FeedError, FeedMessage, FeedWriter, read_feed

MESSAGES = [
    FeedMessage(0.0, "ioc/v1/traffic/tr-ql14-001/telemetry", b'{"intensity":3}'),
    FeedMessage(1.5, "ioc/v1/drainage/dr-tan-phu-b1-01/telemetry", b"\xff\xfe not utf-8"),
    FeedMessage(2.25, "ioc/v1/streetlight/sl-tan-phu-c01-01/status", "Tân Phú".encode()),
]


@pytest.mark.parametrize("name", ["feed.jsonl", "feed.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with FeedWriter(path) as writer:
        for m in MESSAGES:
            writer.write(m.at, m.topic, m.payload)
    assert list(read_feed(path)) == MESSAGES
    raw = path.read_bytes()
    assert raw.startswith(b"\x1f\x8b") == name.endswith(".gz")


def test_line_format_matches_the_design(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    with FeedWriter(path, origin=100.0) as writer:
        for m in MESSAGES:
            writer.write_at(100.0 + m.at, m.topic, m.payload)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines[0] == {"at": 0.0, "topic": MESSAGES[0].topic, "payload": '{"intensity":3}'}
    assert "payload_b64" in lines[1] and "payload" not in lines[1]
    assert lines[2]["payload"] == "Tân Phú"


def test_broken_line_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"at": 0, "topic": "t", "payload": "x"}\n{"at": 1}\n')
    with pytest.raises(FeedError, match=r"bad.jsonl:2"):
        list(read_feed(path))


def test_missing_file_is_a_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError):
        list(read_feed(tmp_path / "nope.jsonl"))
