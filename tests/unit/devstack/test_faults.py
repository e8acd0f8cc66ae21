"""The fault helpers find each service's pid file like `ioc services up`, and kill for real."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from ioc.core.errors import ServiceError
from ioc.devstack import faults, influxdb, kafka, mosquitto
from ioc.devstack.process import pid_alive


@pytest.mark.parametrize("name,module", [("mosquitto", mosquitto), ("kafka", kafka),
                                         ("influxdb", influxdb)])
def test_pid_files_are_the_ones_the_services_write(name: str, module: object,
                                                   tmp_path: Path) -> None:
    assert faults._pid_file(name, tmp_path)[0] == module._paths(tmp_path)["pid"]  # type: ignore[attr-defined]


def test_kill_service_sigkills_the_process_group(tmp_path: Path) -> None:
    # a stand-in "mosquitto": its command line carries the marker the pid check wants
    proc = subprocess.Popen(["bash", "-c", "exec -a mosquitto sleep 60"],
                            start_new_session=True)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "mosquitto.pid").write_text(f"{proc.pid}\n")
    try:
        # Popen returns before bash has exec'd: wait for the marker, under load too
        cmdline, deadline = Path(f"/proc/{proc.pid}/cmdline"), time.monotonic() + 10
        while b"mosquitto" not in cmdline.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert faults.service_pid("mosquitto", tmp_path) == proc.pid
        assert faults.kill_service("mosquitto", tmp_path, timeout=10) == proc.pid
        assert not pid_alive(proc.pid)  # gone within 10 s: `sleep 60` did not end by itself
        # kill_service reaps its own children (services it restarted), so Popen may find no
        # status left (0); a status it did get must be SIGKILL's
        assert proc.wait(5) in (-9, 0)
    finally:
        proc.kill()


def test_killing_a_service_that_is_not_running_says_so(tmp_path: Path) -> None:
    with pytest.raises(ServiceError, match="not running"):
        faults.kill_service("kafka", tmp_path)
    with pytest.raises(ServiceError, match="unknown service"):
        faults.kill_service("grafana", tmp_path)
