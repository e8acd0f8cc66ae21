"""Review fixes: placeholder secret refused everywhere, user names, login timing, credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

import ioc.api.cli as api_cli
import ioc.api.users as api_users
from ioc.api.alert_store import AlertView
from ioc.api.main import check_serving_secret, create_app
from ioc.api.users import UserError, UserStore, ensure_dev_admin
from ioc.core.errors import ConfigError
from ioc.core.registry import Registry
from ioc.core.settings import DEV_PLACEHOLDER, Settings


@pytest.mark.parametrize("secret", [DEV_PLACEHOLDER, "", "short-secret"])
def test_placeholder_or_short_secret_is_refused_everywhere(secret: str) -> None:
    # loopback too: every local process (and a browser tab via DNS rebinding) reaches it
    with pytest.raises(ConfigError, match="IOC_API_SECRET") as info:
        check_serving_secret(secret)
    assert "ioc services up" in str(info.value)
    check_serving_secret("a-real-random-secret-value")


def test_create_app_refuses_the_placeholder_in_the_dev_profile(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, profile="dev",  # type: ignore[call-arg]
                        api_secret=SecretStr(DEV_PLACEHOLDER))
    with pytest.raises(ConfigError, match="IOC_API_SECRET"):
        create_app(settings, view=AlertView(), registry=Registry([]),
                   users=UserStore(tmp_path / "users.json"))


def test_serve_refuses_before_starting_uvicorn(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    monkeypatch.setattr(api_cli, "load_settings", lambda: Settings(  # type: ignore[call-arg]
        _env_file=None, profile="dev", api_secret=SecretStr(DEV_PLACEHOLDER)))
    monkeypatch.setattr(api_cli, "users_file", lambda: tmp_path / "users.json")
    result = CliRunner().invoke(api_cli.api, ["serve", "--host", "127.0.0.1"])
    assert isinstance(result.exception, ConfigError)
    assert "IOC_API_SECRET" in str(result.exception)
    assert started == [] and not (tmp_path / "users.json").exists()


def test_serve_with_a_real_secret_may_bind_anywhere(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **k: started.append(host))
    settings = Settings(_env_file=None, profile="dev", api_secret=SecretStr("x" * 32))  # type: ignore[call-arg]
    monkeypatch.setattr(api_cli, "load_settings", lambda: settings)
    monkeypatch.setattr(api_cli, "users_file", lambda: tmp_path / "users.json")
    monkeypatch.setattr(api_cli, "credentials_file", lambda: tmp_path / "credentials.env")
    monkeypatch.setattr(api_cli, "create_app", lambda *a, **k: object())
    result = CliRunner().invoke(api_cli.api, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert started == ["0.0.0.0"]


@pytest.mark.parametrize("name", ["admin\n", "admin\r\n", "\nadmin", "ad min", "x" * 65])
def test_user_names_must_match_entirely(tmp_path: Path, name: str) -> None:
    users = UserStore(tmp_path / "users.json", iterations=1000)
    with pytest.raises(UserError, match="user name"):
        users.add(name, "viewer", "long-enough")
    assert users.list() == []


def test_unknown_users_cost_the_same_pbkdf2_work(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    users = UserStore(tmp_path / "users.json", iterations=1234)
    users.add("alice", "viewer", "alice-password")
    verified: list[str] = []
    real_verify = api_users.verify_password

    def spy(password: str, stored: str) -> bool:
        verified.append(stored)
        return real_verify(password, stored)

    monkeypatch.setattr(api_users, "verify_password", spy)
    assert users.authenticate("alice", "wrong-password") is None
    assert users.authenticate("nobody", "wrong-password") is None
    iterations = [stored.split("$")[1] for stored in verified]
    assert iterations == ["1234", "1234"]


def test_default_store_dummy_hash_uses_the_default_iterations() -> None:
    from ioc.api.auth import DEFAULT_ITERATIONS

    assert api_users._dummy_hash(DEFAULT_ITERATIONS).split("$")[1] == str(DEFAULT_ITERATIONS)


@pytest.mark.parametrize("line", ['IOC_API_ADMIN_PASSWORD="quoted-pass-1"',
                                  "IOC_API_ADMIN_PASSWORD='quoted-pass-1'",
                                  "  IOC_API_ADMIN_PASSWORD = quoted-pass-1  "])
def test_dev_admin_reads_the_password_like_settings_do(tmp_path: Path, line: str) -> None:
    creds = tmp_path / "credentials.env"
    creds.write_text(f"# generated\n{line}\n")
    users = UserStore(tmp_path / "users.json", iterations=1000)
    ensure_dev_admin(users, creds)
    assert users.authenticate("admin", "quoted-pass-1") is not None
    assert creds.read_text() == f"# generated\n{line}\n"


def test_recreated_user_refuses_tokens_from_before(tmp_path: Path) -> None:
    now = [1000.0]
    users = UserStore(tmp_path / "users.json", iterations=1000, clock=lambda: now[0])
    first = users.add("bob", "viewer", "bob-password")
    assert first.tokens_valid_from == 1000.0
    users.delete("bob")
    now[0] = 1000.0004
    again = users.add("bob", "viewer", "bob-password")
    # tokens carry iat rounded to ms; one issued at the creation instant still counts
    assert again.tokens_valid_from == round(1000.0004, 3)
    now[0] = 2000.0
    assert users.revoke_tokens("bob").tokens_valid_from == 2000.0
