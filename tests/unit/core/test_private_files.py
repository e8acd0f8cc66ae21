"""write_private and locked: secrets on disk readable by this user alone, one writer at a time."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ioc.core.errors import ServiceError
from ioc.core.private_files import locked, locked_or_busy, write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("atomic", [True, False])
def test_new_file_is_0600_in_a_new_0700_folder(tmp_path: Path, atomic: bool) -> None:
    path = tmp_path / "state" / "secret.env"
    write_private(path, "K=v\n", atomic=atomic)
    assert path.read_text() == "K=v\n"
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.env"]  # no tmp left


@pytest.mark.parametrize("atomic", [True, False])
def test_world_readable_file_becomes_private(tmp_path: Path, atomic: bool) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"old")
    path.chmod(0o644)
    write_private(path, b"new", atomic=atomic)
    assert path.read_bytes() == b"new" and _mode(path) == 0o600


def test_in_place_keeps_the_inode_and_atomic_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    write_private(path, "a")
    inode = path.stat().st_ino
    write_private(path, "b", atomic=False)
    assert path.stat().st_ino == inode
    write_private(path, "c")
    assert path.stat().st_ino != inode and path.read_text() == "c"


def test_in_place_refuses_to_write_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "secret").symlink_to(target)
    with pytest.raises(OSError):
        write_private(tmp_path / "secret", "x", atomic=False)
    assert target.read_text() == "keep"


def test_a_failed_write_leaves_the_old_file_and_no_tmp(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret"
    write_private(path, "old")

    def broken(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="disk full"):
        write_private(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret"]


def test_lock_file_is_private_and_reusable(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with locked(path):
        write_private(path, "x")
    with locked(path):  # released at the end of the block
        pass
    assert _mode(tmp_path / "s.json.lock") == 0o600


def test_locked_or_busy_refuses_a_second_holder_at_once_and_frees_on_exit(
        tmp_path: Path) -> None:
    path = tmp_path / "run" / "soak"
    # a second open of the lock file, as another process would: refused at once
    with locked_or_busy(path, "soak running"), \
            pytest.raises(ServiceError, match="soak running"), \
            locked_or_busy(path, "soak running"):
        pass
    with locked_or_busy(path, "soak running"):  # released with the first block
        assert (tmp_path / "run" / "soak.lock").exists()
