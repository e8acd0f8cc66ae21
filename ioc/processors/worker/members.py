"""`ioc worker --processes N`: N members of the worker's consumer groups on one machine.

Each member is a whole `ioc worker` (Faust app and InfluxDB writer) with the same group
ids, so Kafka splits the partitions between them: Faust's assignor gives partition p of
the telemetry and the internal topic (one ward set's state) to one member, the storage
group splits the telemetry and alerts partitions. A member that dies has its partitions
moved to the others (restored from their checkpoints) and is restarted by the parent.
More members than partitions leave the extra ones idle.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from ioc.core.errors import ConfigError
from ioc.core.process_group import Member

__all__ = ["WorkerMember", "member_argvs"]

_SPEC = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class WorkerMember:
    """Member `index` of `count` worker processes."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ConfigError(f"worker member {self.index}/{self.count}: the index must be "
                              f"0..{self.count - 1}")

    @classmethod
    def parse(cls, spec: str) -> WorkerMember:
        """`i/N`, e.g. `1/2`."""
        match = _SPEC.fullmatch(spec.strip())
        if match is None:
            raise ConfigError(f"worker member {spec!r}: expected INDEX/COUNT, e.g. 0/2")
        return cls(int(match[1]), int(match[2]))

    def web_port(self, base: int | None) -> int | None:
        """This member's Faust web port: `base` + index (None: disabled)."""
        return None if base is None else base + self.index


def member_argvs(count: int, args: Sequence[str]) -> list[Member]:
    """The command lines of `count` members: `ioc worker ARGS --member i/count`."""
    return [Member(i, (sys.executable, "-m", "ioc", "worker", *args, "--member",
                       f"{i}/{count}")) for i in range(count)]
