"""Passwords (PBKDF2-SHA256) and bearer tokens (HMAC-SHA256 signed, with expiry): pure logic."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import orjson

from ioc.core.errors import ConfigError, IocError
from ioc.core.settings import DEV_PLACEHOLDER

__all__ = [
    "MAX_ACCESS_TTL_S",
    "MAX_SERVICE_TTL_S",
    "MIN_SECRET_CHARS",
    "ROLES",
    "ROLE_RANK",
    "Role",
    "TokenClaims",
    "TokenError",
    "TokenSigner",
    "hash_password",
    "role_allows",
    "verify_password",
]

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
ROLE_RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}

# OWASP 2023 guidance for PBKDF2-HMAC-SHA256; the count is stored in each hash, so it can grow.
DEFAULT_ITERATIONS = 600_000
_TOKEN_PREFIX = "ioc1"
MAX_ACCESS_TTL_S = 12 * 3600  # tokens from logging in: one operator shift
# tokens an admin issues for a wall display or service account; revocable at any time
MAX_SERVICE_TTL_S = 30 * 86400
MIN_SECRET_CHARS = 16


class TokenError(IocError):
    """A bearer token that is malformed, wrongly signed or expired."""


def role_allows(role: str, needed: str) -> bool:
    """Whether `role` includes the rights of `needed` (viewer < operator < admin)."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS) -> str:
    """`pbkdf2_sha256$<iterations>$<salt>$<hash>` for storing in the users file."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored PBKDF2 hash."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _unb64(salt),
                                     int(iterations))
        return hmac.compare_digest(actual, _unb64(digest))
    except (ValueError, TypeError):
        return False


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: who, which role at issue time, issued and expiry (epoch s)."""

    sub: str
    role: str
    iat: float
    exp: float


class TokenSigner:
    """Issues and verifies `ioc1.<payload>.<signature>` tokens with one secret."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        # the placeholder is in the source code: anyone could forge tokens signed with it
        if secret == DEV_PLACEHOLDER or len(secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                "IOC_API_SECRET is the placeholder or shorter than "
                f"{MIN_SECRET_CHARS} characters: anyone could forge tokens. `ioc services up` "
                "generates one into .ioc/credentials.env; elsewhere set a long random value")
        # a key derived for this purpose only, so the raw secret signs nothing else
        self._key = hmac.new(secret.encode("utf-8"), b"ioc-api-token-v1", hashlib.sha256).digest()
        self._clock = clock

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, f"{_TOKEN_PREFIX}.{body}".encode("ascii"), hashlib.sha256)
        return _b64(mac.digest())

    def issue(self, sub: str, role: str, ttl_s: int) -> tuple[str, TokenClaims]:
        """A signed token valid for `ttl_s` seconds from now (at most MAX_SERVICE_TTL_S)."""
        if not 0 < ttl_s <= MAX_SERVICE_TTL_S:
            raise ValueError(f"token lifetime must be 1..{MAX_SERVICE_TTL_S} s, not {ttl_s}")
        now = round(self._clock(), 3)  # ms, so a revocation in the same second counts
        claims = TokenClaims(sub=sub, role=role, iat=now, exp=now + ttl_s)
        body = _b64(orjson.dumps({"sub": sub, "role": role, "iat": claims.iat,
                                  "exp": claims.exp}))
        return f"{_TOKEN_PREFIX}.{body}.{self._sign(body)}", claims

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or TokenError saying why it is not acceptable."""
        parts = token.split(".")
        if not token.isascii() or len(parts) != 3 or parts[0] != _TOKEN_PREFIX:
            raise TokenError("malformed token")
        body, signature = parts[1], parts[2]
        if not hmac.compare_digest(self._sign(body), signature):
            raise TokenError("invalid token signature")
        try:
            raw = orjson.loads(_unb64(body))
            claims = TokenClaims(sub=str(raw["sub"]), role=str(raw["role"]),
                                 iat=float(raw["iat"]), exp=float(raw["exp"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("malformed token payload") from exc
        if self._clock() >= claims.exp:
            raise TokenError("token expired")
        if claims.exp - claims.iat > MAX_SERVICE_TTL_S:  # e.g. a year-long token of old
            raise TokenError("token lifetime exceeds the maximum; get a new token")
        return claims
