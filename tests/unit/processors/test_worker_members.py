"""`ioc worker --processes N`: member specs, their command lines, and the supervisor that
restarts a member which exits and stops them all on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ioc.core.errors import ConfigError
from ioc.core.process_group import backoff_s
from ioc.processors.cli import worker
from ioc.processors.worker.members import WorkerMember, member_argvs


def test_a_member_spec_is_index_of_count() -> None:
    assert WorkerMember.parse(" 1/3 ") == WorkerMember(1, 3)
    for bad in ("3/3", "1", "a/2", "-1/2", "0/0"):
        with pytest.raises(ConfigError):
            WorkerMember.parse(bad)


def test_each_member_gets_its_own_web_port_and_the_same_options() -> None:
    assert WorkerMember(2, 3).web_port(6066) == 6068
    assert WorkerMember(2, 3).web_port(None) is None
    members = member_argvs(2, ["--topic-prefix", "p-", "--no-influx"])
    assert [m.index for m in members] == [0, 1]
    for m in members:
        assert m.argv[:4] == (sys.executable, "-m", "ioc", "worker")
        assert m.argv[4:7] == ("--topic-prefix", "p-", "--no-influx")
        assert m.argv[-2:] == ("--member", f"{m.index}/2")


def test_a_bad_member_option_is_a_clear_error() -> None:
    result = CliRunner().invoke(worker, ["--member", "2/2"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError) and "0..1" in str(result.exception)


def test_restarts_back_off_up_to_half_a_minute() -> None:
    assert [backoff_s(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


# member 0 exits at once (and is restarted); member 1 runs until it is stopped
_MEMBER = ("import pathlib, sys, time\n"
           "pathlib.Path(sys.argv[1]).open('a').write(sys.argv[2] + chr(10))\n"
           "time.sleep(0 if sys.argv[2] == '0' else 60)\n")
_GROUP = ("import sys\n"
          "from ioc.core.process_group import Member, run_group\n"
          f"code = {_MEMBER!r}\n"
          "members = [Member(i, (sys.executable, '-c', code, sys.argv[1], str(i)))\n"
          "           for i in range(2)]\n"
          "sys.exit(run_group('test', members, 10))\n")


def test_the_group_restarts_an_exited_member_and_stops_all_on_sigterm(tmp_path: Path) -> None:
    marks = tmp_path / "starts"
    proc = subprocess.Popen([sys.executable, "-c", _GROUP, str(marks)])
    try:
        deadline = time.monotonic() + 30
        while _starts(marks).count("0") < 2:  # started, exited, started again after 1 s
            assert time.monotonic() < deadline and proc.poll() is None, _starts(marks)
            time.sleep(0.05)  # polling the marks file with a deadline
        assert _starts(marks).count("1") == 1  # the running member was left alone
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) != 0  # member 1 was ended by the SIGTERM passed on
    finally:
        if proc.poll() is None:
            proc.kill()


def _starts(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []
