"""FastAPI dependencies: the app context, the current user, role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, status
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer

from ioc.api.auth import Role, TokenError, role_allows
from ioc.api.context import ApiContext, user_from_token
from ioc.api.models import ErrorOut, InvalidOut
from ioc.api.users import User
from ioc.core.settings import Settings

__all__ = ["Admin", "Ctx", "CurrentUser", "Operator", "SettingsDep", "errors", "found_or_404",
           "get_ctx", "require_role", "single_values"]

Found = TypeVar("Found")

TOKEN_URL = "/api/v1/auth/token"
_oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


_WHY = {
    400: "Malformed request",
    401: "Not authenticated, or the token is invalid, expired or revoked",
    403: "The user's role does not allow this",
    404: "Unknown resource",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input: a message, or the fields that failed validation",
    429: "Too many login attempts: see Retry-After",
    503: "A backing service (Kafka, InfluxDB) is unavailable",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error codes a route may answer, each with an ErrorOut body."""
    return {code: {"model": InvalidOut if code == 422 else ErrorOut, "description": _WHY[code]}
            for code in codes}


def found_or_404(value: Found | None, what: str, key: str) -> Found:
    """`value`, or a 404 that names the unknown `what`."""
    if value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown {what} {key!r}")
    return value


def single_values(*names: str) -> Callable[[HTTPConnection], Awaitable[None]]:
    """A dependency that answers 422 when a one-value query parameter is repeated (FastAPI
    would silently keep the last one)."""
    async def check(conn: HTTPConnection) -> None:
        for name in names:
            if len(conn.query_params.getlist(name)) > 1:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                    detail=f"`{name}` may be given once")
    return check


async def get_ctx(conn: HTTPConnection) -> ApiContext:
    """The ApiContext that create_app put on the app."""
    ctx: ApiContext = conn.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]


async def get_settings(ctx: Ctx) -> Settings:
    """The app's Settings."""
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


async def get_current_user(ctx: Ctx, token: Annotated[str | None, Depends(_oauth2)]) -> User:
    """The user of the bearer token; 401 without a valid one."""
    if not token:
        raise _unauthorized("not authenticated: send 'Authorization: Bearer <token>' "
                            f"(get one from POST {TOKEN_URL})")
    try:
        user, _ = user_from_token(ctx, token)
    except TokenError as exc:
        raise _unauthorized(f"invalid token: {exc}") from exc
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(role: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through users with `role` or a higher one; else 403."""
    async def check(user: CurrentUser) -> User:
        if not role_allows(user.role, role):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this needs the {role} role; {user.name} is {user.role}")
        return user
    return check


Operator = Annotated[User, Depends(require_role("operator"))]
Admin = Annotated[User, Depends(require_role("admin"))]
