"""Mosquitto's write-ahead journal plugin: build it, configure it, read its segments.

Mosquitto 2.0 saves its store every `autosave_interval` only, so a broker killed between
two saves forgot every QoS 1 message it had acknowledged but not yet handed on. The plugin
(deploy/local/mosquitto_journal/journal.c) appends each QoS >= 1 message to a segment file
before the broker sends the PUBACK, and at start publishes again what the store may lack
(at least once: duplicates of what was delivered after the last save, never a loss).
`IOC_MOSQUITTO_JOURNAL` selects it: `on` (default; survives the death of the process),
`fsync` (also a power cut, one fdatasync per message) or `off`;
`IOC_MOSQUITTO_JOURNAL_PLUGIN` names a prebuilt .so instead of building one.

`read_segment` parses the record format the plugin writes, for tests and inspection.
"""

from __future__ import annotations

import logging
import os
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from ioc.core.errors import ConfigError, ServiceError
from ioc.devstack.filemodes import open_private

__all__ = [
    "BUILD_SCRIPT",
    "JOURNAL_MODES",
    "Record",
    "config_lines",
    "journal_dir",
    "journal_mode",
    "journal_plugin",
    "read_segment",
    "segments",
]

log = logging.getLogger(__name__)

BUILD_SCRIPT = (Path(__file__).resolve().parents[2] / "deploy" / "local"
                / "build_mosquitto_journal.sh")
JOURNAL_MODES = ("on", "fsync", "off")
_MAGIC = 0x314C4E4A  # "JNL1" little endian
_HEADER = struct.Struct("<IIIQBBH")  # magic, topic_len, payload_len, received_us, qos, retain, 0


@dataclass(frozen=True)
class Record:
    """One journaled message."""

    received_us: int
    qos: int
    retain: bool
    topic: str
    payload: bytes


def journal_mode() -> str:
    """`IOC_MOSQUITTO_JOURNAL`: on (default), fsync or off."""
    mode = os.environ.get("IOC_MOSQUITTO_JOURNAL", "on").strip().lower() or "on"
    if mode not in JOURNAL_MODES:
        raise ConfigError(f"IOC_MOSQUITTO_JOURNAL={mode!r}: choose one of "
                          f"{', '.join(JOURNAL_MODES)}")
    return mode


def journal_dir(state: Path) -> Path:
    """Where the broker's journal segments live."""
    return state / "mosquitto" / "journal"


def journal_plugin(state: Path) -> str:
    """Path of the plugin, compiled once per source version (build_mosquitto_journal.sh)."""
    override = os.environ.get("IOC_MOSQUITTO_JOURNAL_PLUGIN")
    if override:
        if not Path(override).is_file():
            raise ServiceError(f"IOC_MOSQUITTO_JOURNAL_PLUGIN={override} is not a file")
        return override
    build_log = state / "logs" / "mosquitto-journal-build.log"
    # the script prints the cached .so at once, or compiles it (a second or two) first
    with open_private(build_log) as out:
        result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE,
                                stderr=out, text=True, check=False, timeout=300)
    path = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not Path(path).is_file():
        raise ServiceError(f"building Mosquitto's journal plugin failed (exit "
                           f"{result.returncode}); see {build_log}")
    return path


def config_lines(state: Path, plugin: str, fsync: bool = False) -> list[str]:
    """The mosquitto.conf lines that load the journal beside dynamic-security."""
    return [
        f"plugin {plugin}",
        f"plugin_opt_journal_dir {journal_dir(state)}",
        f"plugin_opt_db_file {state / 'mosquitto' / 'data' / 'mosquitto.db'}",
        f"plugin_opt_fsync {'true' if fsync else 'false'}",
    ]


def segments(state: Path) -> list[Path]:
    """The journal's segment files, oldest first."""
    return sorted(journal_dir(state).glob("*.jnl"))


def read_segment(path: Path) -> tuple[list[Record], int]:
    """The valid records of a segment and how many bytes after them were torn or corrupt."""
    data = path.read_bytes()
    records: list[Record] = []
    pos = 0
    while pos + _HEADER.size + 4 <= len(data):
        magic, tlen, plen, received, qos, retain, _ = _HEADER.unpack_from(data, pos)
        end = pos + _HEADER.size + tlen + plen
        if magic != _MAGIC or end + 4 > len(data) or qos > 2:
            break
        (crc,) = struct.unpack_from("<I", data, end)
        if crc != zlib.crc32(data[pos:end]):
            break
        topic = data[pos + _HEADER.size:pos + _HEADER.size + tlen].decode("utf-8", "replace")
        records.append(Record(received, qos, bool(retain), topic,
                              data[pos + _HEADER.size + tlen:end]))
        pos = end + 4
    return records, len(data) - pos
