"""Mosquitto's dynamic-security plugin over MQTT: command batches in, answers out.

A change takes effect at once in the running broker, without a restart or a signal: the
plugin disconnects a user whose password, client id or state changed, and saves the new
configuration to its file. Batches stay under the broker's `max_packet_size`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt

from ioc.core.admin_settings import admin_credentials_file
from ioc.core.errors import ConfigError, ServiceError
from ioc.core.mqtt_identities import ADMIN_USER, Acl, AclOrder, Identity, Role, scan_order
from ioc.core.settings import Settings

__all__ = [
    "CONTROL_TOPIC",
    "Command",
    "DynsecAdmin",
    "add_acl",
    "admin_from_settings",
    "batches",
    "create_client",
    "create_role",
    "remove_acl",
    "role_parts",
]

log = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
# well under the broker's max_packet_size, which also applies to the administrator
MAX_BATCH_BYTES = 12 * 1024

Command = dict[str, Any]


def create_role(role: Role, inline: int = 96) -> list[Command]:
    """createRole with its first ACLs, then addRoleACL for the rest (a gateway's role would
    not fit one packet; every command makes the plugin rewrite its file, so few is fast)."""
    acls = scan_order(role.acls)
    return [{"command": "createRole", "rolename": role.name,
             "acls": [acl.as_json() for acl in acls[:inline]]},
            *(add_acl(role.name, acl) for acl in acls[inline:])]


def role_parts(role: Role, limit: int = MAX_BATCH_BYTES - 512,
               order: AclOrder = scan_order,
               ) -> tuple[list[str], list[Command]]:
    """A role too big for one packet as roles `<name>.<k>`, each created whole by one
    createRole of at most `limit` bytes, its ACLs in `order`; returns (their names, the
    commands).

    The plugin rewrites its whole file after every command, so a role of thousands of ACLs
    made with one addRoleACL each took minutes; as parts it takes one command per part.
    A client holding every part may do what the role allows.
    """
    names: list[str] = []
    commands: list[Command] = []
    size = limit
    for acl in order(role.acls):
        entry = acl.as_json()
        length = len(json.dumps(entry)) + 2
        if size + length > limit:
            names.append(f"{role.name}.{len(names)}")
            commands.append({"command": "createRole", "rolename": names[-1], "acls": []})
            size = len(json.dumps(commands[-1])) + 64  # room for the batch's correlation tag
        commands[-1]["acls"].append(entry)
        size += length
    return names, commands


def add_acl(role: str, acl: Acl) -> Command:
    """addRoleACL."""
    return {"command": "addRoleACL", "rolename": role, **acl.as_json()}


def remove_acl(role: str, acl: Acl) -> Command:
    """removeRoleACL."""
    return {"command": "removeRoleACL", "rolename": role, "acltype": acl.acltype,
            "topic": acl.topic}


def create_client(identity: Identity, password: str) -> Command:
    """createClient with its role and, when bound, its client id."""
    command: Command = {"command": "createClient", "username": identity.username,
                        "password": password, "textname": identity.textname,
                        "roles": [{"rolename": identity.role}]}
    if identity.clientid is not None:
        command["clientid"] = identity.clientid
    return command


def batches(commands: Sequence[Command], limit: int = MAX_BATCH_BYTES,
            extra: int = 0) -> list[list[Command]]:
    """Consecutive commands grouped so each batch's JSON stays under `limit` bytes, with
    `extra` bytes more per command (the correlation tag `run` adds)."""
    out: list[list[Command]] = []
    size = limit
    for command in commands:
        length = len(json.dumps(command)) + 2 + extra
        if size + length > limit:
            out.append([])
            size = len('{"commands": []}')
        out[-1].append(command)
        size += length
    return out


class DynsecAdmin:
    """A connection as the plugin's administrator; use it as a context manager."""

    def __init__(self, host: str, port: int, username: str, password: str,
                 timeout: float = 20.0) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._id = f"ioc-admin-{secrets.token_hex(6)}"
        self._ready = threading.Event()
        self._answer = threading.Event()
        self._refused: str | None = None
        self._pending = ""
        self._responses: list[dict[str, Any]] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self._id,
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(username, password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client
        self._user = username

    def __enter__(self) -> DynsecAdmin:
        try:
            self._client.connect(self._host, self._port, keepalive=30)
        except OSError as exc:
            raise ServiceError(f"MQTT admin: cannot reach {self._host}:{self._port}: "
                               f"{exc}") from exc
        self._client.loop_start()
        if not self._ready.wait(self._timeout) or self._refused:
            self.close()
            why = self._refused or "no answer"
            raise ServiceError(f"MQTT admin login as {self._user} failed ({why}); check "
                               "IOC_MQTT_ADMIN_PASSWORD and that the broker loads the "
                               "dynamic-security plugin")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._ready.set()
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int,
                      reasons: list[mqtt.ReasonCode], properties: object) -> None:
        if any(r.is_failure for r in reasons):
            self._refused = "not allowed to read the plugin's responses"
        self._ready.set()

    def _on_message(self, client: mqtt.Client, userdata: object,
                    message: mqtt.MQTTMessage) -> None:
        try:
            responses = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            return
        # other administrators' answers arrive on the same topic: match our batch's tag
        if responses and responses[0].get("correlationData") == self._pending:
            self._responses = responses
            self._answer.set()

    def run(self, commands: Iterable[Command]) -> list[dict[str, Any]]:
        """Send the commands in batches; every answer, in order."""
        answers: list[dict[str, Any]] = []
        # the tag grows each command; without counting it a batch of many small commands
        # went over max_packet_size and the broker dropped the connection
        extra = len(', "correlationData": ""') + len(self._id) + 8
        for n, batch in enumerate(batches(list(commands), extra=extra)):
            tag = f"{self._id}-{n}"
            tagged = [{**command, "correlationData": tag} for command in batch]
            self._pending, self._responses = tag, []
            self._answer.clear()
            info = self._client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS or not self._answer.wait(self._timeout):
                raise ServiceError("MQTT admin: the dynamic-security plugin did not answer "
                                   f"(batch of {len(batch)} commands)")
            answers.extend(self._responses)
        return answers

    def apply(self, commands: Sequence[Command], tolerate: Iterable[str] = ()) -> None:
        """Run commands; ServiceError naming each failure not in `tolerate`."""
        allowed = set(tolerate)
        failures = [f"{a.get('command')}: {a['error']}" for a in self.run(commands)
                    if a.get("error") and a["error"] not in allowed]
        if failures:
            raise ServiceError("MQTT admin: " + "; ".join(failures[:5])
                               + (f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""))
        log.debug("MQTT admin: %d command(s) applied", len(commands))


def admin_from_settings(settings: Settings) -> DynsecAdmin:
    """The plugin's administrator at these settings' broker (connects on `with`)."""
    password = settings.mqtt_admin_password
    secret = password.get_secret_value() if password is not None else ""
    if not secret:  # an empty password would only fail later, as a vague refused login
        raise ConfigError("IOC_MQTT_ADMIN_PASSWORD is not set (`ioc services up` generates "
                          f"it in {admin_credentials_file()}; load the settings with "
                          "ioc.core.admin_settings.load_admin_settings)")
    return DynsecAdmin(settings.mqtt_host, settings.mqtt_port, ADMIN_USER, secret)
