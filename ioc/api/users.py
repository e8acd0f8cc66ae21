"""API users in a JSON file under the state dir, with PBKDF2 password hashes."""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import orjson

from ioc.api.auth import DEFAULT_ITERATIONS, ROLES, hash_password, verify_password
from ioc.core.errors import ConfigError, IocError
from ioc.core.settings import read_env_file

__all__ = ["USERNAME_RE", "User", "UserError", "UserStore", "ensure_dev_admin",
           "valid_username"]

log = logging.getLogger(__name__)
USERNAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")
ADMIN_PASSWORD_KEY = "IOC_API_ADMIN_PASSWORD"


def valid_username(name: str) -> bool:
    """Whether `name` is an acceptable user name (the whole string, no trailing newline)."""
    return USERNAME_RE.fullmatch(name) is not None


@lru_cache(maxsize=4)
def _dummy_hash(iterations: int) -> str:
    # verified when the user is unknown; the same iteration count as real users keeps
    # login timing from telling which names exist
    return hash_password("not-a-real-password", iterations)


class UserError(IocError):
    """A user operation that cannot be done (exists already, unknown, bad name or role)."""


@dataclass(frozen=True, slots=True)
class User:
    """One API user; tokens issued before `created_at` or `tokens_valid_after` are refused."""

    name: str
    role: str
    password_hash: str
    created_at: float
    tokens_valid_after: float = 0.0

    @property
    def tokens_valid_from(self) -> float:
        """Epoch s from which tokens count (ms precision, as tokens carry `iat` in ms)."""
        # created_at too, so a deleted and re-added name does not revive old tokens
        return round(max(self.created_at, self.tokens_valid_after), 3)


class UserStore:
    """Users by name, persisted atomically; re-read when another process changed the file."""

    def __init__(self, path: str | Path, iterations: int = DEFAULT_ITERATIONS,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._iterations = iterations
        self._clock = clock
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
        if not valid_username(name):
            raise UserError(f"user name {name!r} must match {USERNAME_RE.pattern}")
        if role not in ROLES:
            raise UserError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise UserError("password must have at least 8 characters")
        with self._lock:
            users = dict(self._load())
            if name in users:
                raise UserError(f"user {name!r} exists already")
            user = User(name, role, hash_password(password, self._iterations), self._clock())
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
            users[name] = replace(users[name], tokens_valid_after=now or self._clock())
            self._save(users)
            return users[name]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password matches, else None (same work either way)."""
        user = self.get(name)
        stored = user.password_hash if user else _dummy_hash(self._iterations)
        ok = verify_password(password, stored)
        return user if ok and user is not None else None


def ensure_dev_admin(users: UserStore, credentials: Path) -> str | None:
    """Create `admin` in the dev profile; its password goes to (or comes from) `credentials`.

    Returns a message saying where the password is, or None when `admin` existed already.
    An existing IOC_API_ADMIN_PASSWORD line is reused, never overwritten.
    """
    if users.get("admin") is not None:
        return None
    # the same parser as `ioc services` and settings use, so quoting means the same
    password = read_env_file(credentials).get(ADMIN_PASSWORD_KEY)
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
