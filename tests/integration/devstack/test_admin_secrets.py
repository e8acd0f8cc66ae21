"""The pipeline's processes never hold the operator secrets (.ioc/admin.env).

The attack: read the memory of a running `ioc api serve` and `ioc worker` (as anyone who can
dump or debug them could) and look for the all-access InfluxDB token and the brokers'
administrator passwords. Each scan also looks for a secret the process does load, so a scan
that cannot read the process's data fails instead of passing.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from ioc.core.admin_settings import ADMIN_KEYS, admin_credentials_file
from ioc.core.registry import dump_registry
from ioc.core.settings import Settings, credentials_file, read_env_file
from ioc.testing.factories import drainage_device
from ioc.testing.processes import ChildProcess, WorkerProcess
from tests.integration.api.api_process import start_api_process

_REGION = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (r)\S* \S+ \S+ \S+\s*(.*)$")


def _found_in_memory(pid: int, needles: Iterable[str]) -> set[str]:
    """Which of `needles` occur in the readable memory of process `pid`."""
    wanted = {n.encode(): n for n in needles}
    found: set[str] = set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            match = _REGION.match(line)
            if not match or match.group(4) in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            start, end = int(match.group(1), 16), int(match.group(2), 16)
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue  # a region unmapped meanwhile or not readable after all
            found |= {text for raw, text in wanted.items() if raw in chunk}
    return found


def _admin_secrets() -> dict[str, str]:
    admin = read_env_file(admin_credentials_file())
    assert set(admin) >= set(ADMIN_KEYS), "run `ioc services up` first"
    return {key: admin[key] for key in ADMIN_KEYS}


def _assert_holds_no_admin_secret(child: ChildProcess, loaded: str) -> None:
    admin = _admin_secrets()
    found = _found_in_memory(child.pid, [*admin.values(), loaded])
    assert loaded in found, "the scan did not see a secret the process loads"
    assert [key for key, value in admin.items() if value in found] == []


def test_services_up_keeps_operator_secrets_out_of_credentials_env(
        mqtt_service: Settings, kafka_service: Settings, influx_service: Settings) -> None:
    shared = read_env_file(credentials_file())
    assert not set(ADMIN_KEYS) & set(shared)
    assert not set(_admin_secrets().values()) & set(shared.values())
    # the tooling's settings still carry them: the fixtures just used them
    assert influx_service.influx_token_for("admin") == _admin_secrets()["IOC_INFLUX_TOKEN"]


def test_api_process_holds_no_operator_secret(kafka_service: Settings,
                                              influx_service: Settings,
                                              tmp_path: Path) -> None:
    state = tmp_path / "api"
    state.mkdir()
    shutil.copy(admin_credentials_file(), state / "admin.env")  # as `services up` lays it out
    served = start_api_process(state)
    try:
        _assert_holds_no_admin_secret(served.child,
                                      read_env_file(credentials_file())["IOC_API_SECRET"])
    finally:
        served.child.stop(20)


def test_worker_process_holds_no_operator_secret(kafka_service: Settings,
                                                 tmp_path: Path) -> None:
    prefix = f"test-admin-{uuid.uuid4().hex[:8]}."
    registry = tmp_path / "devices.yaml"
    dump_registry([drainage_device(f"drn-{uuid.uuid4().hex[:8]}")], registry)
    worker = WorkerProcess(prefix, registry, tmp_path / "worker.log")
    worker.start()
    loaded = read_env_file(credentials_file())["IOC_KAFKA_PASSWORD"]
    try:  # its Kafka login in memory: the worker has loaded its settings
        worker.wait_until(lambda: loaded in _found_in_memory(worker.pid, [loaded]),
                          timeout=90, what="its settings loaded", interval=1.0)
        _assert_holds_no_admin_secret(worker, loaded)
    finally:
        worker.stop(20)
