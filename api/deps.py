"""Dependencies shared by routes: the per-request session, the caller, and the caller's scope.

Route signatures read like prose::

    @router.get("/api/buildings/{code}")
    def read_building(code: str, session: SessionDep, scope: ScopeDep) -> BuildingRead:
        return buildings_service.get_building(session, code=code, scope=scope)

Every route that is not on the short public list (``tests/api/test_route_guard.py``) depends on
:data:`ScopeDep`, directly or through another dependency; a test walks ``app.routes`` to check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.errors import AuthenticationFailed
from gis.users import service as users_service
from gis.users.models import User
from gis.users.schemas import AuthPolicy

SESSION_COOKIE = "gridhouse_session"
"""The cookie pages carry the bearer token in (HttpOnly, SameSite=Strict, Secure over https)."""


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Used with ``scope="function"``: the commit happens before the response is sent, so a client
    that got a 2xx reads its own write in its next request (with FastAPI's default "request"
    scope the commit would run after the response, racing the next request).

    ``async`` because opening the session does no I/O (it connects at its first statement, on
    the worker thread of the dependency or route that runs it): a sync generator would cost a
    worker-thread hop to enter and one to leave, ~1.5 ms each on a loaded 2-core machine (issue
    5 item 8). Ending the transaction does I/O, so it goes to a worker thread, unless the route
    ended it itself (the occupants routes commit on their own thread, after their audit row).
    The statement timeout is a setting of the service's connections (``api.main``).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end_session, session, commit=False)
        raise
    if session.in_transaction():
        await run_in_threadpool(_end_session, session, commit=True)
    else:
        session.close()  # no transaction, no connection: nothing to send


def _end_session(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    """Sessions of the routes' own making: for work that must not hold the request's
    connection (a slow password hash) or must outlive its transaction (the audit row of a
    failed read). ``async`` because it does no I/O: FastAPI calls it on the event loop
    instead of handing it to a worker thread."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_addr(request: Request) -> str | None:
    """The caller's address as the server saw it (audit rows, login rate limit)."""
    return request.client.host if request.client else None


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer …``, else of the session cookie, else ``None``."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie or None


def get_current_user(request: Request, session: SessionDep) -> User:
    """The logged-in user (401 when the token is missing, unknown, expired or revoked)."""
    token = bearer_token(request)
    if token is None or len(token) > 256:
        raise AuthenticationFailed("not logged in, or the session has expired")
    policy = AuthPolicy.from_settings(request.app.state.settings)
    return users_service.authenticate(session, token=token, policy=policy)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_scope(request: Request, user: CurrentUser) -> Scope:
    """The caller as a :class:`~gis.access.scope.Scope`; charges the per-user rate limit (vector
    tiles, which a map asks for by the screenful, charge a larger bucket of their own).

    ``async`` because it does no I/O: FastAPI runs it on the event loop, not on a worker thread.
    """
    if request.url.path.startswith("/tiles/"):
        request.app.state.tile_rate_limiter.charge(f"tiles:{user.name}")
    else:
        request.app.state.rate_limiter.charge(f"user:{user.name}")
    return Scope.for_user(user)


ScopeDep = Annotated[Scope, Depends(get_scope)]
