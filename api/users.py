"""API users in a JSON file under the state dir, with PBKDF2 password hashes."""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import orjson

from ioc.errors import ConfigError, IocError

from .auth import DEFAULT_ITERATIONS, ROLES, hash_password, verify_password

__all__ = ["USERNAME_RE", "User", "UserError", "UserStore", "ensure_dev_admin"]

log = logging.getLogger(__name__)
USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
ADMIN_PASSWORD_KEY = "IOC_API_ADMIN_PASSWORD"
# verifying against this when the user is unknown keeps login timing the same either way
_DUMMY_HASH = hash_password("not-a-real-password", 1000)


class UserError(IocError):
    """A user operation that cannot be done (exists already, unknown, bad name or role)."""


@dataclass(frozen=True, slots=True)
class User:
    """One API user; tokens issued before `tokens_valid_after` (epoch s) are refused."""

    name: str
    role: str
    password_hash: str
    created_at: float
    tokens_valid_after: float = 0.0


class UserStore:
    """Users by name, persisted atomically; re-read when another process changed the file."""

    def __init__(self, path: str | Path, iterations: int = DEFAULT_ITERATIONS) -> None:
        self.path = Path(path)
        self._iterations = iterations
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._mtime: int | None = None

    def _load(self) -> dict[str, User]:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._users, self._mtime = {}, None
            return self._users
        if mtime != self._mtime:
            try:
                raw = orjson.loads(self.path.read_bytes())
                self._users = {name: User(name=name, **rec)
                               for name, rec in raw.get("users", {}).items()}
            except (OSError, ValueError, TypeError) as exc:
                raise ConfigError(f"cannot read API users file {self.path}: {exc}") from exc
            self._mtime = mtime
        return self._users

    def _save(self, users: dict[str, User]) -> None:
        body = {"users": {n: {k: v for k, v in asdict(u).items() if k != "name"}
                          for n, u in sorted(users.items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        os.replace(tmp, self.path)
        self._users, self._mtime = dict(users), self.path.stat().st_mtime_ns

    def get(self, name: str) -> User | None:
        """The user with this name, or None."""
        with self._lock:
            return self._load().get(name)

    def list(self) -> list[User]:
        """All users, by name."""
        with self._lock:
            return sorted(self._load().values(), key=lambda u: u.name)

    def add(self, name: str, role: str, password: str) -> User:
        """Create a user; UserError if the name is taken or invalid."""
        if not USERNAME_RE.match(name):
            raise UserError(f"user name {name!r} must match {USERNAME_RE.pattern}")
        if role not in ROLES:
            raise UserError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("password must have at least 8 characters")
        with self._lock:
            users = dict(self._load())
            if name in users:
                raise UserError(f"user {name!r} exists already")
            user = User(name, role, hash_password(password, self._iterations), time.time())
            users[name] = user
            self._save(users)
            return user

    def delete(self, name: str) -> None:
        """Remove a user (their tokens stop working at once)."""
        with self._lock:
            users = dict(self._load())
            if users.pop(name, None) is None:
                raise UserError(f"unknown user {name!r}")
            self._save(users)

    def revoke_tokens(self, name: str, now: float | None = None) -> User:
        """Refuse every token issued to this user until now."""
        with self._lock:
            users = dict(self._load())
            if name not in users:
                raise UserError(f"unknown user {name!r}")
            users[name] = replace(users[name], tokens_valid_after=now or time.time())
            self._save(users)
            return users[name]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password matches, else None (same work either way)."""
        user = self.get(name)
        ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
        return user if ok and user is not None else None


def _existing_secret(credentials: Path, key: str) -> str | None:
    if not credentials.exists():
        return None
    for line in credentials.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    return None


def ensure_dev_admin(users: UserStore, credentials: Path) -> str | None:
    """Create `admin` in the dev profile; its password goes to (or comes from) `credentials`.

    Returns a message saying where the password is, or None when `admin` existed already.
    An existing IOC_API_ADMIN_PASSWORD line is reused, never overwritten.
    """
    if users.get("admin") is not None:
        return None
    password = _existing_secret(credentials, ADMIN_PASSWORD_KEY)
    if not password:
        password = secrets.token_urlsafe(18)
        credentials.parent.mkdir(parents=True, exist_ok=True)
        prefix = ""
        if credentials.exists() and not credentials.read_bytes().endswith(b"\n"):
            prefix = "\n"
        with credentials.open("a", encoding="utf-8") as fh:
            fh.write(f"{prefix}{ADMIN_PASSWORD_KEY}={password}\n")
        credentials.chmod(0o600)
    users.add("admin", "admin", password)
    return f"created API user 'admin'; its password is {ADMIN_PASSWORD_KEY} in {credentials}"
