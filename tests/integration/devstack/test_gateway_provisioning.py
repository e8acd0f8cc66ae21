"""Throwaway gateways on the real broker: thousands of devices provision in seconds, the
role split in parts still allows exactly the listed devices, a batch of many commands stays
under the broker's packet limit, and users left by a dead run are removed."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

from ioc.bench.loadgen import Publisher
from ioc.bench.publishers import PublisherPool
from ioc.core.mqtt_admin import admin_from_settings
from ioc.core.settings import Settings
from ioc.core.topics import telemetry_topic
from ioc.testing.mqtt_logins import owner_tag, prune_leftovers, run_gateway, run_gateways

_TAG_PREFIX = "ioc:test pid="


def _exists(settings: Settings, kind: str, name: str) -> bool:
    key = "username" if kind == "Client" else "rolename"
    with admin_from_settings(settings) as conn:
        answer = conn.run([{"command": f"get{kind}", key: name}])[0]
    return "error" not in answer


def test_a_gateway_of_2000_devices_provisions_in_seconds(mqtt_service: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    devices = [("drainage", f"pg{run}-{i:05d}") for i in range(2000)]
    started = time.monotonic()
    with run_gateway(mqtt_service, f"gw-pg-{run}", "drainage", devices) as login:
        took = time.monotonic() - started
        # before the role was made in parts: ~1 addRoleACL (a file rewrite) per ACL, 210 s
        # for 1,000 devices on this machine
        assert took < 60, f"provisioning 2,000 devices took {took:.1f} s"
        pub = Publisher(mqtt_service, login)
        try:
            for _, device in (devices[0], devices[999], devices[-1]):
                pub.publish(telemetry_topic("drainage", device), b"{}")
            # the attack: a device the gateway does not serve
            pub.publish(telemetry_topic("drainage", f"pg{run}-other"), b"{}")
            assert pub.wait_acked(30)
            assert pub.refused == 1
        finally:
            pub.close()
    assert not _exists(mqtt_service, "Client", f"gw-pg-{run}")
    assert not _exists(mqtt_service, "Role", f"ioc-gw-pg-{run}.0")


def test_gateways_share_devices_and_refuse_each_others(mqtt_service: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    ids = [f"ps{run}-{i}" for i in range(5)]
    with run_gateways(mqtt_service, f"gw-ps-{run}-", "drainage", ids, per_gateway=2) as gws:
        assert [len(group) for _, group in gws] == [2, 2, 1]
        pool = PublisherPool(mqtt_service, gws)
        try:
            for device in ids:
                pool.publish(device, telemetry_topic("drainage", device), b"{}")
            assert pool.wait_acked(30) and pool.refused == 0
        finally:
            pool.close()
        first, second = gws[0][0], gws[1][0]
        pub = Publisher(mqtt_service, first)  # gateway 0 publishing for gateway 1's device
        try:
            pub.publish(telemetry_topic("drainage", gws[1][1][0]), b"{}")
            assert pub.wait_acked(30) and pub.refused == 1
        finally:
            pub.close()
        assert second.username != first.username


def test_a_batch_of_many_small_commands_stays_under_the_packet_limit(
        mqtt_service: Settings) -> None:
    # 600 deletions of roles that do not exist: the correlation tags alone add ~30 KB; the
    # broker used to drop the admin connection ("oversize packet") and the call timed out
    commands = [{"command": "deleteRole", "rolename": f"ioc-none-{uuid.uuid4().hex}"}
                for _ in range(600)]
    with admin_from_settings(mqtt_service) as conn:
        answers = conn.run(commands)
    assert len(answers) == 600
    assert {a.get("error") for a in answers} == {"Role not found"}


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait(30)
    return done.pid


def test_users_of_a_dead_run_are_pruned_and_live_ones_kept(mqtt_service: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    dead, live, shared = f"lo-dead-{run}", f"lo-live-{run}", f"ioc-lo-shared-{run}"
    host = owner_tag().split("@", 1)[1]
    own_role = f"ioc-lo-own-{run}"
    acl = [{"acltype": "publishClientSend", "topic": f"ioc/v1/drainage/{run}/telemetry",
            "allow": True}]
    setup = [{"command": "createRole", "rolename": r, "acls": acl} for r in (own_role, shared)]
    setup += [
        {"command": "createClient", "username": dead, "password": uuid.uuid4().hex,
         "textname": f"{_TAG_PREFIX}{_dead_pid()}@{host}",
         "roles": [{"rolename": own_role}, {"rolename": shared}]},
        {"command": "createClient", "username": live, "password": uuid.uuid4().hex,
         "textname": owner_tag(), "roles": [{"rolename": shared}]}]
    try:
        with admin_from_settings(mqtt_service) as conn:
            conn.apply(setup)
            assert prune_leftovers(conn) >= 2
        assert not _exists(mqtt_service, "Client", dead)
        assert not _exists(mqtt_service, "Role", own_role)
        assert _exists(mqtt_service, "Client", live)  # this process runs: not a leftover
        assert _exists(mqtt_service, "Role", shared)  # still held by a live user
    finally:
        with admin_from_settings(mqtt_service) as conn:
            conn.apply([{"command": "deleteClient", "username": u} for u in (dead, live)]
                       + [{"command": "deleteRole", "rolename": r} for r in (own_role, shared)],
                       tolerate={"Client not found", "Role not found"})
