"""Private local state: `.ioc` and everything in it belong to this user alone.

The state dir holds generated secrets (credentials.env, Mosquitto's password file, InfluxDB's
bolt file with its tokens) and logs that may quote them. What `ioc services up` writes, and
what the services it starts write, is created under one umask (0o077: files 0600,
directories 0700); `secure_tree` takes group and other bits off whatever an older version
(or another tool) left behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["PRIVATE_UMASK", "open_private", "private_umask", "secure_tree"]

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Inside the block, new files are 0600 and new directories 0700 (process-wide umask)."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def _tree(root: Path) -> Iterator[Path]:
    yield root
    for folder, dirs, files in os.walk(root):  # does not descend into symlinked dirs
        for name in (*dirs, *files):
            yield Path(folder) / name


def _make_private(path: Path, uid: int) -> bool:
    try:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode) or info.st_uid != uid or not mode & 0o077:
            return False
        os.chmod(path, mode & 0o700)
    except FileNotFoundError:  # a service removed it meanwhile (rotated log, temp file)
        return False
    return True


def secure_tree(root: Path) -> list[Path]:
    """Take group/other permission bits off `root` and everything under it; what changed.

    Symlinks are neither followed nor changed; entries owned by someone else are left alone.
    """
    if not root.is_dir():
        return []
    uid = os.getuid()
    changed = [path for path in _tree(root) if _make_private(path, uid)]
    if changed:
        log.info("made %d path(s) under %s private to this user", len(changed), root)
    return changed


def open_private(path: Path) -> BinaryIO:
    """Open a log for appending: created 0600, an existing one loses group/other bits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & 0o700)
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "ab")
