"""``POST /api/auth/login``, ``POST /api/auth/logout``, ``GET /api/auth/me``: sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api import public_url
from api.deps import (
    SESSION_COOKIE,
    ScopeDep,
    SessionDep,
    SessionFactoryDep,
    bearer_token,
    client_addr,
)
from api.errors import error_response
from gis.db import set_statement_timeout
from gis.errors import AuthenticationFailed
from gis.settings import Settings
from gis.users import login as logins
from gis.users import service as users_service
from gis.users.models import Role
from gis.users.schemas import AuthPolicy

router = APIRouter(prefix="/api/auth", tags=["auth"])
LOGIN_PATH = "/api/auth/login"

LOGIN_FAILED = "invalid name, password or code, or the account is locked"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    totp: Annotated[str | None, Field(max_length=10, description="6-digit TOTP code")] = None


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int = Field(description="seconds of idleness after which the token expires")
    role: Role


class Me(BaseModel):
    name: str
    role: Role
    grid_codes: list[str]
    division_prefix: str | None


@router.post(
    LOGIN_PATH.removeprefix(router.prefix),
    response_model=LoginResponse,
    responses={401: {"description": "wrong credentials, locked or disabled account"}},
)
def login(body: LoginRequest, request: Request, sessions: SessionFactoryDep) -> Response:
    """Exchange a name and password (and a TOTP code when the account has one) for a bearer
    token; the same token is set as an HttpOnly, SameSite=Strict cookie for the pages."""
    address = client_addr(request)  # (charged per address before it could queue: api.limits)
    settings: Settings = request.app.state.settings
    # the deliberately slow hash (0.1-0.2 s, 64 MiB) is checked between two transactions, so a
    # burst of logins does not hold every pooled connection while it hashes
    with sessions() as session:
        stored = logins.password_hash_of(session, name=body.name)
    checked = logins.verify_password(stored, body.password)
    with sessions() as session, session.begin():
        set_statement_timeout(session, timeout_ms=settings.statement_timeout_ms)
        result = logins.login(
            session,
            name=body.name,
            password=body.password,
            totp_code=body.totp,
            policy=AuthPolicy.from_settings(settings),
            client_addr=address,
            checked=checked,
        )
    if result.token is None or result.role is None:
        # returned, not raised: the failure count and the audit row must commit
        return error_response(AuthenticationFailed(LOGIN_FAILED))
    payload = LoginResponse(
        access_token=result.token, expires_in=result.expires_in_s, role=result.role
    )
    response = JSONResponse(payload.model_dump(mode="json"))
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        secure=public_url.is_https(request),
        samesite="strict",
        path="/",
    )
    return response


@router.post("/logout", status_code=204, response_class=Response)
def logout(request: Request, session: SessionDep, scope: ScopeDep) -> Response:
    """Revoke the caller's session token (it never works again) and clear the cookie."""
    token = bearer_token(request)
    assert token is not None  # ScopeDep has authenticated it
    users_service.logout(session, token=token, actor=scope.actor, client_addr=client_addr(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=Me)
def me(scope: ScopeDep) -> Me:
    """Who the token belongs to and the jurisdiction that bounds what they see."""
    return Me(
        name=scope.user_name,
        role=scope.role,
        grid_codes=sorted(scope.grid_codes),
        division_prefix=scope.division_prefix,
    )
