"""PROTOTYPE for measurement only: checkpoints through a Faust table (changelog topic)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import faust

__all__ = ["FaustTableLog"]


class _OwnerTable(faust.Table):  # type: ignore[misc]
    """A table whose changelog partition is the one the checkpoint names (the owner's)."""

    target: int = 0

    def partition_for_key(self, key: Any) -> int | None:
        return self.target


class FaustTableLog:
    """StateLog over a Faust table: one changelog record per key set (send_soon, flushed by
    Faust's commit), recovered by Faust on assignment."""

    def __init__(self, app: faust.App, name: str, partitions: int) -> None:
        self.table = app.tables.add(_OwnerTable(app, name=name, default=None,
                                                partitions=partitions, key_type=bytes,
                                                value_type=bytes, beacon=app.tables.beacon))

    async def write(self, partition: int, records: Sequence[tuple[bytes, bytes]]) -> None:
        self.table.target = partition
        for key, value in records:
            self.table[key if key != b"~" else b"~%d" % partition] = value

    def read(self, partitions: Collection[int]) -> dict[int, dict[bytes, bytes]]:
        return {}
