"""Dependencies shared by routes: the per-request session, the caller, and the caller's scope.

Route signatures read like prose::

    @router.get("/api/buildings/{code}")
    def read_building(code: str, session: SessionDep, scope: ScopeDep) -> BuildingRead:
        return buildings_service.get_building(session, code=code, scope=scope)

Every route that is not on the short public list (``tests/api/test_route_guard.py``) depends on
:data:`ScopeDep`, directly or through another dependency; a test walks ``app.routes`` to check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from api import public_url
from gis.access.scope import Scope
from gis.errors import AuthenticationFailed, DatabaseUnavailable, Forbidden
from gis.users import service as users_service
from gis.users.schemas import AuthPolicy, SessionCaller

logger = logging.getLogger(__name__)

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


def each_statement_commits(session: Session) -> None:
    """Run the request's statements in autocommit: for routes that only read (tiles) or whose
    one write is their audit row (occupants). No ``BEGIN`` and no ``COMMIT`` round trips; each
    statement sees its own snapshot, and a write is durable when its statement returns. The
    route then ends the session itself (``session.commit()``, which sends nothing), on its own
    worker thread, sparing :func:`get_session` a thread hop (issue 5 item 8).

    Only for a session that has not begun: one already in a transaction (a test's rolled-back
    session) keeps it."""
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site(request: Request) -> None:
    """A request that carries the session cookie must come from this site's own pages.

    ``SameSite=Strict`` keeps the cookie from other sites, but not from another port or a
    sibling host of the same site (``http://127.0.0.1:8199`` is "same-site" to ``:8000``): a
    page there could retire a house with a plain form, or audit a people search in the
    officer's name with an ``<img>``. So a change must name this origin (browsers send
    ``Origin`` with every POST), and a request the browser marks as coming from another site
    or origin (``Sec-Fetch-Site``) is refused unless the user navigated to it (a link to a
    page). Requests with ``Authorization: Bearer`` are not sent by browsers on their own and
    are not checked."""
    origin = request.headers.get("origin")
    changes = request.method not in SAFE_METHODS
    if changes and origin is not None and not public_url.is_own_origin(request, origin):
        raise Forbidden(f"a change sent from another site ({origin}) is refused")
    fetched_from = request.headers.get("sec-fetch-site")
    navigated = request.headers.get("sec-fetch-mode") == "navigate"
    if fetched_from in ("same-site", "cross-site") and not navigated:
        raise Forbidden("a request from another site's page is refused")


def presented_token(request: Request) -> tuple[str, AuthPolicy]:
    """The request's bearer token (401 when there is none) and the rules its session meets;
    one carried by the cookie only from this site's own pages (:func:`refuse_cross_site`)."""
    token = bearer_token(request)
    if token is None or len(token) > 256:
        raise AuthenticationFailed("not logged in, or the session has expired")
    if not request.headers.get("authorization"):
        refuse_cross_site(request)
    return token, AuthPolicy.from_settings(request.app.state.settings)


async def get_current_user(request: Request) -> SessionCaller:
    """The logged-in caller (401 when the token is missing, unknown, expired or revoked).

    ``async``, on the event loop: one statement on the service's async pool
    (``app.state.auth_pool``, autocommit), so no worker-thread hop and no ORM before the route
    (issue 5 item 8). A pooled connection the server has ended (a restart) is dropped and the
    lookup tried again; a database that stays away is a 503.
    """
    token, policy = presented_token(request)
    pool: AsyncConnectionPool = request.app.state.auth_pool
    # each failed try drops one connection the server ended: after a restart the pool may
    # hold several, and a request only gives up when a fresh connection fails too
    for attempt in range(pool.max_size + 1):
        try:
            async with pool.connection() as connection:
                return await users_service.authenticate_caller(
                    connection, token=token, policy=policy
                )
        except PoolTimeout:
            raise DatabaseUnavailable("the database is unavailable") from None
        except psycopg.errors.QueryCanceled:
            raise DatabaseUnavailable("the database did not answer in time") from None
        except psycopg.OperationalError as error:
            if attempt == pool.max_size:
                logger.error("the session lookup failed: %s", error)
                raise DatabaseUnavailable("the database is unavailable") from None
    raise AssertionError("unreachable")


CurrentUser = Annotated[SessionCaller, Depends(get_current_user)]


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
