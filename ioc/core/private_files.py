"""Files only this user may read: one writer for every secret the project keeps on disk.

`write_private` creates the file with mode 0600 from the start (never briefly wider), its
new parent folders 0700, and by default replaces it atomically: the data goes to a fresh
temporary file in the same folder (`tempfile.mkstemp`: a unique name, 0600) that is then
renamed over the target, so a reader sees the old or the new content, never a torn one,
and two writers never share a temporary file. `locked` serialises load-modify-save cycles
of several processes on one file with an flock on a lock file beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ioc.core.errors import ServiceError

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "locked", "locked_or_busy",
           "write_private"]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def _make_parent(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp made it 0600
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the rename must not publish an empty file after a crash
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_in_place(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                 PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE_MODE)  # an older file keeps its mode otherwise
        out.write(data)


def write_private(path: Path, data: str | bytes, *, atomic: bool = True) -> None:
    """Write `data` (str as UTF-8) to `path` with mode 0600; atomically unless told not to.

    `atomic=False` rewrites the file in place (keeping its inode), for files a running
    service holds open; it still refuses to follow a symlink at `path`.
    """
    raw = data.encode() if isinstance(data, str) else data
    _make_parent(path)
    if atomic:
        _write_atomic(path, raw)
    else:
        _write_in_place(path, raw)


def _open_lock(path: Path) -> int:
    _make_parent(path)
    lock = path.with_name(path.name + ".lock")
    return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE_MODE)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `<path>.lock` (0600) for the block: one writer at a time."""
    fd = _open_lock(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes, even if the process dies
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked_or_busy(path: Path, busy: str) -> Iterator[None]:
    """Like `locked`, but raise ServiceError(busy) at once when another process holds it."""
    fd = _open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServiceError(busy) from None
        yield
    finally:
        os.close(fd)
