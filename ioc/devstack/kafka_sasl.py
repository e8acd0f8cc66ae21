"""The local broker's logins: SASL/SCRAM for clients, SASL/PLAIN on its controller listener.

Clients (bridge, worker, API, storage, tools) log in with SCRAM on the only client listener.
SCRAM credentials live in the KRaft metadata log, which the controller needs before it can
read them, so the controller listener uses PLAIN with a static admin login (Kafka's
documented setup). Nothing listens without authentication: a process without credentials
can neither produce nor consume, nor reach the controller.

New data directories get their SCRAM users at format time. A data directory formatted
before SASL (or whose logins changed since) is migrated once: the broker runs briefly with
PLAIN also open to the admin on the client listener, the admin writes the SCRAM users, and
the broker restarts SCRAM-only. A fingerprint file records which logins the data holds, so
a changed IOC_KAFKA_PASSWORD (or admin password) is applied the same way.

`kafka_answers` is the health probe: the broker answers *and* accepts the given login.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ioc.core.errors import ConfigError, ServiceError
from ioc.core.kafka_auth import KafkaAccess, SaslMechanism
from ioc.core.private_files import write_private
from ioc.core.settings import DEV_PLACEHOLDER, Settings

__all__ = [
    "ADMIN_PASSWORD_KEY",
    "ADMIN_USER",
    "BrokerLogins",
    "broker_logins",
    "kafka_answers",
    "logins_recorded",
    "quiet",
    "record_logins",
    "redact",
    "sasl_properties",
    "scram_format_args",
    "upsert_scram_users",
]

ADMIN_USER = "admin"
ADMIN_PASSWORD_KEY = "IOC_KAFKA_ADMIN_PASSWORD"
_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
# written into JAAS strings and `SCRAM-SHA-512=[name=..,password=..]`: nothing that quotes
# or separates there
_SAFE = re.compile(r"[A-Za-z0-9._~+/@:-]{1,200}")


@dataclass(frozen=True)
class BrokerLogins:
    """The broker's own admin login and the one SCRAM user the project's clients share."""

    admin_password: SecretStr
    username: str
    password: SecretStr
    mechanism: SaslMechanism = "SCRAM-SHA-512"

    def users(self) -> dict[str, str]:
        """SCRAM user -> password: the admin (inter-broker) and the clients' user."""
        return {ADMIN_USER: self.admin_password.get_secret_value(),
                self.username: self.password.get_secret_value()}


def broker_logins(settings: Settings, creds: dict[str, str]) -> BrokerLogins:
    """The logins from settings and credentials.env; ConfigError if one cannot be used."""
    if settings.kafka_security_protocol != "SASL_PLAINTEXT":
        raise ConfigError("the local Kafka only accepts SASL/SCRAM logins; unset "
                          "IOC_KAFKA_SECURITY_PROTOCOL (or set it to SASL_PLAINTEXT)")
    if settings.kafka_username == ADMIN_USER:
        raise ConfigError(f"IOC_KAFKA_USERNAME must not be {ADMIN_USER!r} (the broker's own)")
    admin = creds.get(ADMIN_PASSWORD_KEY, "")
    logins = BrokerLogins(SecretStr(admin), settings.kafka_username, settings.kafka_password,
                          settings.kafka_sasl_mechanism)
    for key, value in (("IOC_KAFKA_USERNAME", logins.username), (ADMIN_PASSWORD_KEY, admin),
                       ("IOC_KAFKA_PASSWORD", logins.password.get_secret_value())):
        if not _SAFE.fullmatch(value):
            raise ConfigError(f"{key} must be 1-200 characters from A-Z a-z 0-9 . _ ~ + / @ : -")
        if key != "IOC_KAFKA_USERNAME" and value == DEV_PLACEHOLDER:
            # e.g. exported by hand: the broker would otherwise create a login anyone knows
            raise ConfigError(f"{key} is the placeholder {DEV_PLACEHOLDER!r}; unset it so "
                              "`ioc services up` uses the generated one, or set a real one")
    return logins


def sasl_properties(logins: BrokerLogins, client: str, controller: str, *,
                    admin_plain: bool = False) -> list[str]:
    """server.properties lines: SCRAM on the CLIENT listener, PLAIN on CONTROLLER.

    `admin_plain` also lets the admin log in with PLAIN on the client listener (migration
    only: SCRAM users cannot be created before one SCRAM login exists).
    """
    admin = logins.admin_password.get_secret_value()
    mech = logins.mechanism
    plain_jaas = (f'{_PLAIN} required username="{ADMIN_USER}" password="{admin}" '
                  f'user_{ADMIN_USER}="{admin}";')
    lines = [
        f"listeners=CLIENT://{client},CONTROLLER://{controller}",
        f"advertised.listeners=CLIENT://{client}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=CLIENT",
        "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        f"sasl.enabled.mechanisms={mech}",
        f"listener.name.client.sasl.enabled.mechanisms={mech}{',PLAIN' if admin_plain else ''}",
        f"sasl.mechanism.inter.broker.protocol={mech}",
        f"listener.name.client.{mech.lower()}.sasl.jaas.config={_SCRAM} required "
        f'username="{ADMIN_USER}" password="{admin}";',
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        "sasl.mechanism.controller.protocol=PLAIN",
        f"listener.name.controller.plain.sasl.jaas.config={plain_jaas}",
    ]
    if admin_plain:
        lines.append(f"listener.name.client.plain.sasl.jaas.config={plain_jaas}")
    return lines


def scram_format_args(logins: BrokerLogins) -> list[str]:
    """`StorageTool format` arguments that create every SCRAM user with the new log."""
    args = []
    for name, password in logins.users().items():
        args += ["--add-scram", f"{logins.mechanism}=[name={name},password={password}]"]
    return args


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by *** (Kafka tools echo their arguments)."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _fingerprint(logins: BrokerLogins, salt: bytes) -> str:
    users = "\n".join(f"{name}={pw}" for name, pw in sorted(logins.users().items()))
    digest = hashlib.pbkdf2_hmac("sha256", f"{logins.mechanism}\n{users}".encode(), salt,
                                 100_000)
    return f"{salt.hex()}:{digest.hex()}"


def record_logins(path: Path, logins: BrokerLogins) -> None:
    """Remember (salted hash, mode 0600) which logins the broker's data now holds."""
    write_private(path, _fingerprint(logins, os.urandom(16)) + "\n")


def logins_recorded(path: Path, logins: BrokerLogins) -> bool:
    """True if `record_logins` wrote exactly these logins to `path`."""
    try:
        salt_hex, _, _ = path.read_text().strip().partition(":")
        salt = bytes.fromhex(salt_hex)
    except (OSError, ValueError):
        return False
    return hmac.compare_digest(path.read_text().strip(), _fingerprint(logins, salt))


def _admin_plain_options(bootstrap: str, admin_password: str) -> dict[str, Any]:
    servers = KafkaAccess(bootstrap, "PLAINTEXT").servers
    return {"bootstrap_servers": servers, "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN", "sasl_plain_username": ADMIN_USER,
            "sasl_plain_password": admin_password}


def upsert_scram_users(bootstrap: str, logins: BrokerLogins, timeout_s: float = 30.0) -> None:
    """Create or reset every SCRAM user, logged in as the admin with PLAIN (migration)."""
    from kafka import KafkaAdminClient
    from kafka.admin import UserScramCredentialUpsertion
    from kafka.errors import KafkaError

    options = _admin_plain_options(bootstrap, logins.admin_password.get_secret_value())
    try:
        admin = KafkaAdminClient(**options, client_id="ioc-devstack",
                                 request_timeout_ms=int(timeout_s * 1000),
                                 bootstrap_timeout_ms=int(timeout_s * 1000))
    except KafkaError as exc:
        raise ServiceError(f"kafka: admin login for the SCRAM migration failed: {exc}") from exc
    try:
        errors = admin.alter_user_scram_credentials([
            UserScramCredentialUpsertion(name, logins.mechanism, password)
            for name, password in logins.users().items()])
    except KafkaError as exc:
        raise ServiceError(f"kafka: creating the SCRAM users failed: {exc}") from exc
    finally:
        admin.close()
    failed = {user: error for user, error in errors.items() if error}
    if failed:
        raise ServiceError(f"kafka: creating the SCRAM users failed: {failed}")


def kafka_answers(access: KafkaAccess, timeout: float = 3.0) -> bool:
    """True if a broker at `access.bootstrap` accepts its login and answers metadata."""
    with quiet("kafka"):
        return _describe_cluster(access, timeout)


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Hide a library's connection-refused noise while probing."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _describe_cluster(access: KafkaAccess, timeout: float) -> bool:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(**access.client_options(), client_id="ioc-health",
                                 request_timeout_ms=int(timeout * 1000),
                                 bootstrap_timeout_ms=int(timeout * 1000))
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()
