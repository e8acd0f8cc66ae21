"""Passwords, signed tokens, the users file and the dev admin bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.api.auth import TokenError, TokenSigner, hash_password, role_allows, verify_password
from ioc.api.users import UserError, UserStore, ensure_dev_admin


def test_password_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("correct horse", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("x", "garbage")
    assert hash_password("same", 1000) != hash_password("same", 1000)  # salted


def test_token_round_trip_and_expiry() -> None:
    now = [1000.0]
    signer = TokenSigner("s3cret-s3cret-s3cret", clock=lambda: now[0])
    token, claims = signer.issue("alice", "operator", ttl_s=60)
    assert signer.verify(token) == claims
    assert (claims.sub, claims.role, claims.exp) == ("alice", "operator", 1060.0)
    now[0] = 1059.9
    assert signer.verify(token).sub == "alice"
    now[0] = 1060.0
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: t.split(".")[0] + ".eyJzdWIiOiJhZG1pbiJ9." + t.split(".")[2],  # payload swapped
    lambda t: "nonsense",
    lambda t: "ioc1..",
])
def test_tampered_tokens_are_refused(mangle: Callable[[str], str]) -> None:
    signer = TokenSigner("s3cret-s3cret-s3cret")
    token, _ = signer.issue("alice", "viewer", ttl_s=60)
    with pytest.raises(TokenError):
        signer.verify(mangle(token))


def test_token_from_another_secret_is_refused() -> None:
    token, _ = TokenSigner("secret-number-one").issue("alice", "admin", ttl_s=60)
    with pytest.raises(TokenError, match="signature"):
        TokenSigner("secret-number-two").verify(token)


def test_roles_are_ordered() -> None:
    assert role_allows("admin", "operator") and role_allows("operator", "viewer")
    assert not role_allows("viewer", "operator") and not role_allows("operator", "admin")
    assert not role_allows("nobody", "viewer")


def test_user_store_persists_and_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    one, two = UserStore(path, iterations=1000), UserStore(path, iterations=1000)
    one.add("alice", "operator", "alice-password")
    assert two.authenticate("alice", "alice-password") is not None
    assert two.authenticate("alice", "wrong-password") is None
    assert two.authenticate("nobody", "alice-password") is None
    assert (path.stat().st_mode & 0o777) == 0o600
    assert "alice-password" not in path.read_text()
    with pytest.raises(UserError, match="exists"):
        two.add("alice", "viewer", "another-password")
    with pytest.raises(UserError, match="role"):
        one.add("bob", "root", "bob-password")
    with pytest.raises(UserError, match="user name"):
        one.add("bad name", "viewer", "bob-password")
    two.delete("alice")
    assert one.get("alice") is None


def test_dev_admin_gets_a_generated_password_appended(tmp_path: Path) -> None:
    creds = tmp_path / "credentials.env"
    creds.write_text("IOC_INFLUX_TOKEN=abc")  # no trailing newline
    users = UserStore(tmp_path / "users.json", iterations=1000)
    message = ensure_dev_admin(users, creds)
    assert message is not None and str(creds) in message
    lines = creds.read_text().splitlines()
    assert lines[0] == "IOC_INFLUX_TOKEN=abc"
    password = lines[1].removeprefix("IOC_API_ADMIN_PASSWORD=")
    assert len(password) >= 16
    assert users.authenticate("admin", password) is not None
    assert ensure_dev_admin(users, creds) is None
    assert creds.read_text().count("IOC_API_ADMIN_PASSWORD") == 1


def test_dev_admin_reuses_an_existing_password_line(tmp_path: Path) -> None:
    creds = tmp_path / "credentials.env"
    creds.write_text("IOC_API_ADMIN_PASSWORD=kept-password-1\n")
    users = UserStore(tmp_path / "users.json", iterations=1000)
    ensure_dev_admin(users, creds)
    assert creds.read_text() == "IOC_API_ADMIN_PASSWORD=kept-password-1\n"
    assert users.authenticate("admin", "kept-password-1") is not None
