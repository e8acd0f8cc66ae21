"""Log in (OAuth2 password form), who am I, and user/token management for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from ioc.api.auth import MAX_SERVICE_TTL_S
from ioc.api.context import ApiContext
from ioc.api.deps import Admin, Ctx, CurrentUser, errors
from ioc.api.login_guard import LoginThrottled
from ioc.api.models import TokenOut, UserCreate, UserOut
from ioc.api.users import User, UserError

__all__ = ["router", "users_router"]

router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"],
                         responses=errors(401, 403, 422))


def issue_token(ctx: ApiContext, user: User, ttl_s: int | None = None) -> TokenOut:
    """A signed bearer token for `user`."""
    token, claims = ctx.signer.issue(user.name, user.role, ttl_s or ctx.token_ttl_s)
    return TokenOut(access_token=token, expires_at=datetime.fromtimestamp(claims.exp, UTC),
                    role=user.role)


@router.post("/token", response_model=TokenOut, summary="Log in: user name + password",
             responses=errors(400, 401, 413, 429))
async def login(request: Request, ctx: Ctx,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """Exchange user name and password (form fields) for a bearer token.

    Failed attempts are limited per user name from one client address, per client address
    and, with a higher cap, per user name; past a limit the answer is 429 with Retry-After,
    without checking the password.
    """
    address = request.client.host if request.client else "unknown"
    try:
        user = await ctx.login.check(ctx.users.authenticate, form.username, form.password,
                                     address)
    except LoginThrottled as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=str(exc),
                            headers={"Retry-After": str(exc.retry_after_s)}) from exc
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            detail="incorrect user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    return issue_token(ctx, user)


@router.get("/me", response_model=UserOut, summary="The current user",
            responses=errors(401))
async def me(user: CurrentUser) -> UserOut:
    """Who the token belongs to, and their role."""
    return UserOut.of(user)


@users_router.get("", response_model=list[UserOut], summary="All users (admin)")
def list_users(ctx: Ctx, _: Admin) -> list[UserOut]:
    """Every API user, without password hashes."""
    return [UserOut.of(u) for u in ctx.users.list()]


@users_router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED,
                   summary="Create a user (admin)", responses=errors(400, 409, 413))
def create_user(ctx: Ctx, _: Admin, body: UserCreate) -> UserOut:
    """Add a user with a role; 409 if the name is taken."""
    if ctx.users.get(body.name) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"user {body.name!r} exists")
    try:
        return UserOut.of(ctx.users.add(body.name, body.role, body.password))
    except UserError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc


def _user_or_404(ctx: ApiContext, name: str) -> User:
    user = ctx.users.get(name)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown user {name!r}")
    return user


@users_router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT,
                     summary="Delete a user (admin)", responses=errors(404, 409))
def delete_user(ctx: Ctx, admin: Admin, name: str) -> Response:
    """Remove a user; their tokens stop working at once."""
    _user_or_404(ctx, name)
    if name == admin.name:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="you cannot delete yourself")
    ctx.users.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.post("/{name}/revoke-tokens", response_model=UserOut,
                   summary="Revoke a user's tokens (admin)", responses=errors(404))
def revoke_tokens(ctx: Ctx, _: Admin, name: str) -> UserOut:
    """Every token issued to the user so far stops working."""
    _user_or_404(ctx, name)
    return UserOut.of(ctx.users.revoke_tokens(name, now=ctx.clock()))


@users_router.post("/{name}/token", response_model=TokenOut,
                   summary="Issue a token for a user (admin)", responses=errors(404))
def user_token(ctx: Ctx, _: Admin, name: str,
               ttl_s: Annotated[int | None, Query(ge=60, le=MAX_SERVICE_TTL_S)] = None
               ) -> TokenOut:
    """A token for a user or service account, e.g. one for a wall display (at most 30 days;
    revoking the user's tokens ends it, and its live socket, within seconds)."""
    return issue_token(ctx, _user_or_404(ctx, name), ttl_s)
