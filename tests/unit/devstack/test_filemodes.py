"""Private state: secure_tree, the devstack umask, private logs and the children's umask."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

from ioc.devstack.filemodes import open_private, private_umask, secure_tree
from ioc.devstack.process import start_detached
from ioc.devstack.supervisor import ProcessSpec, Supervisor


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_secure_tree_strips_group_and_other_bits_and_keeps_owner_bits(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "mosquitto" / "data").mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours to change")
    files = {state / "credentials.env": 0o644, state / "mosquitto" / "passwd.sha256": 0o644,
             state / "mosquitto" / "passwd": 0o600, state / "mosquitto" / "data" / "db": 0o640,
             state / "tool.sh": 0o755}
    for path, mode in files.items():
        path.write_text("x")
        path.chmod(mode)
    for folder in (state, state / "mosquitto", state / "mosquitto" / "data"):
        folder.chmod(0o755)
    outside.chmod(0o644)
    (state / "link").symlink_to(outside)

    changed = secure_tree(state)

    assert set(changed) == {state, state / "mosquitto", state / "mosquitto" / "data",
                            *(p for p, m in files.items() if m & 0o077)}
    assert [_mode(p) for p in (state, state / "mosquitto", state / "mosquitto" / "data")] \
        == [0o700] * 3
    assert {p.name: _mode(p) for p in files} == {
        "credentials.env": 0o600, "passwd.sha256": 0o600, "passwd": 0o600, "db": 0o600,
        "tool.sh": 0o700}
    assert _mode(outside) == 0o644  # the symlink was not followed
    assert secure_tree(state) == [] and secure_tree(tmp_path / "missing") == []


def test_private_umask_makes_new_files_and_dirs_private_then_restores(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        with private_umask():
            (tmp_path / "d").mkdir()
            (tmp_path / "d" / "f").write_text("secret")
        (tmp_path / "after").write_text("public")
        assert (_mode(tmp_path / "d"), _mode(tmp_path / "d" / "f")) == (0o700, 0o600)
        assert _mode(tmp_path / "after") == 0o644
    finally:
        os.umask(before)


def test_open_private_creates_0600_and_tightens_an_old_log(tmp_path: Path) -> None:
    new, old = tmp_path / "logs" / "new.log", tmp_path / "old.log"
    old.write_text("first\n")
    old.chmod(0o644)
    for path in (new, old):
        with open_private(path) as out:
            out.write(b"line\n")
        assert _mode(path) == 0o600
    assert old.read_text() == "first\nline\n"


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text() == "x"):
        assert time.monotonic() < deadline, f"{path} was not written"
        time.sleep(0.02)  # polling a condition with a deadline


def _writer(target: Path) -> list[str]:
    code = f"import pathlib; pathlib.Path({str(target)!r}).write_text('x')"
    return [sys.executable, "-c", code]


def test_services_and_pipeline_processes_create_private_files(tmp_path: Path) -> None:
    old = os.umask(0o022)  # as in a user's shell
    try:
        service_file, piped_file = tmp_path / "service.out", tmp_path / "pipeline.out"
        proc = start_detached(_writer(service_file), log_file=tmp_path / "logs" / "svc.log",
                              pid_file=tmp_path / "run" / "svc.pid")
        proc.wait(20)
        supervisor = Supervisor([ProcessSpec("w", tuple(_writer(piped_file)),
                                             tmp_path / "logs" / "w.log")])
        supervisor.start()
        _wait_for(piped_file)
        supervisor.stop()
    finally:
        os.umask(old)
    assert _mode(service_file) == 0o600 and _mode(piped_file) == 0o600
    assert _mode(tmp_path / "logs" / "svc.log") == 0o600
    assert _mode(tmp_path / "logs" / "w.log") == 0o600
