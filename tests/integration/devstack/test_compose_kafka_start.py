"""deploy/compose/kafka-start.sh run natively (the apache/kafka image's jars are the same
3.9.1 jars `ioc services up` caches): it formats with the SCRAM users and refuses clients
without a login; a volume formatted before SASL is refused with a clear message."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from ioc.core.kafka_auth import KafkaAccess
from ioc.devstack import kafka
from ioc.devstack.process import start_detached, stop_process
from ioc.testing.processes import REPO_ROOT, free_port

SCRIPT = REPO_ROOT / "deploy" / "compose" / "kafka-start.sh"
HEALTH = REPO_ROOT / "deploy" / "compose" / "kafka-health.sh"


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    log4j = tmp_path / "log4j.properties"
    log4j.write_text(kafka.render_log4j(tmp_path / "kafka.log"))
    return {"PATH": os.environ["PATH"], "IOC_KAFKA_USERNAME": "ioc",
            "IOC_KAFKA_PASSWORD": "compose-client-pw",
            "IOC_KAFKA_ADMIN_PASSWORD": "compose-admin-pw",
            "KAFKA_HOME": str(kafka.ensure_libs().parent), "KAFKA_LOG4J": str(log4j),
            "KAFKA_HEAP_OPTS": "-Xmx512m", "IOC_KAFKA_DATA": str(tmp_path / "data"),
            "IOC_KAFKA_CONF_DIR": str(tmp_path / "conf"),
            "IOC_KAFKA_LISTEN": f"127.0.0.1:{port}", "IOC_KAFKA_ADVERTISED": f"127.0.0.1:{port}",
            "IOC_KAFKA_CONTROLLER": f"127.0.0.1:{free_port()}"}


def _healthcheck(env: dict[str, str], password: str) -> subprocess.CompletedProcess[str]:
    """The compose healthcheck (kafka-health.sh) with the given client secret."""
    return subprocess.run(["sh", str(HEALTH)], env={**env, "IOC_KAFKA_PASSWORD": password},
                          capture_output=True, text=True, timeout=90, check=False)


def test_compose_broker_takes_only_scram_logins(tmp_path: Path,
                                                eventually: Callable[..., None]) -> None:
    port, internal = free_port(), free_port()
    # the containers' listener as compose sets it (kafka:19092), on this machine's loopback
    env = {**_env(tmp_path, port), "IOC_KAFKA_INTERNAL": f"127.0.0.1:{internal}",
           "IOC_KAFKA_INTERNAL_LISTEN": f"127.0.0.1:{internal}"}
    access = KafkaAccess(f"127.0.0.1:{port}", username="ioc",
                         password=SecretStr("compose-client-pw"))
    pid_file = tmp_path / "kafka.pid"
    start_detached(["sh", str(SCRIPT)], log_file=tmp_path / "out.log", pid_file=pid_file,
                   env=env)
    try:
        eventually(lambda: kafka.kafka_answers(access, 2.0), timeout=90,
                   what="the compose broker to accept the SCRAM login")
        assert not kafka.kafka_answers(KafkaAccess(access.bootstrap, "PLAINTEXT"), 3.0)
        assert not kafka.kafka_answers(access.with_login("ioc", "wrong"), 3.0)
        inside = KafkaAccess(f"127.0.0.1:{internal}", username="ioc",
                             password=SecretStr("compose-client-pw"))
        assert kafka.kafka_answers(inside, 5.0)  # metadata names the internal address
        assert not kafka.kafka_answers(KafkaAccess(inside.bootstrap, "PLAINTEXT"), 3.0)
        assert not kafka.kafka_answers(inside.with_login("ioc", "wrong"), 3.0)
        healthy = _healthcheck(env, "compose-client-pw")
        assert healthy.returncode == 0, healthy.stderr
        assert _healthcheck(env, "wrong").returncode != 0
    finally:
        stop_process(pid_file, "kafka.Kafka", timeout=45)
    conf = tmp_path / "conf"
    assert not (conf / "format.args").exists()  # the SCRAM passwords do not stay on disk
    assert stat.S_IMODE((conf / "server.properties").stat().st_mode) == 0o600
    assert stat.S_IMODE((conf / "health.properties").stat().st_mode) == 0o600


def test_a_malformed_internal_listener_is_refused(tmp_path: Path) -> None:
    for value in ("kafka", "kafka:", ":19092", "kafka:x", "kafka:1:2", "a b:1"):
        env = {**_env(tmp_path, free_port()), "IOC_KAFKA_INTERNAL": value}
        result = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 2, value
        assert "IOC_KAFKA_INTERNAL must be HOST:PORT" in result.stderr


def test_pre_sasl_volume_is_refused_clearly(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("version=1\n")

    result = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=30, check=False)

    assert result.returncode == 3
    assert "formatted before SASL" in result.stderr


def test_missing_secret_is_refused(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port())
    del env["IOC_KAFKA_PASSWORD"]

    result = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=30, check=False)

    assert result.returncode != 0 and "IOC_KAFKA_PASSWORD" in result.stderr
    assert not (tmp_path / "data").exists()
