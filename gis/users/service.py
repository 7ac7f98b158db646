"""Use cases of the users domain: accounts (add, disable, reset, TOTP), sessions, logout; a login
attempt and its lockout are :mod:`gis.users.login`.

Every change, login and logout writes an audit row in the caller's transaction. Services flush,
never commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from gis.users import credentials, queries
from gis.users.models import Role, User, UserSession
from gis.users.schemas import (
    AuthPolicy,
    NewUser,
    SessionCaller,
    UserSummary,
)

if TYPE_CHECKING:
    from psycopg import AsyncConnection

NAME_PATTERN = re.compile(r"^[\w.@-]{2,64}$")
GRID_CODE_PATTERN = re.compile(r"^[0-9]{15}$")
DIVISION_CODE_PATTERN = re.compile(r"^[0-9]{12}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` when given (tests), else the time now."""
    return now if now is not None else datetime.now(UTC)


def check_password(password: str) -> None:
    """Refuse passwords too short, too long (argon2 work is per byte) or holding NUL bytes."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > MAX_PASSWORD_LENGTH or "\x00" in password:
        raise InvalidInput(f"at most {MAX_PASSWORD_LENGTH} characters, no NUL", field="password")


def _check_jurisdiction(
    role: Role, grid_codes: Sequence[str], division_code: str | None
) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(code.strip() for code in grid_codes if code.strip()))
    for code in codes:
        if not GRID_CODE_PATTERN.match(code):
            raise InvalidInput(f"{code!r} is not a 15-digit grid code", field="grids")
    if division_code is not None and not DIVISION_CODE_PATTERN.match(division_code):
        raise InvalidInput(f"{division_code!r} is not a 12-digit division code", field="division")
    if role is Role.OFFICER and not codes:
        raise InvalidInput("an officer needs at least one grid code", field="grids")
    if role is not Role.OFFICER and codes:
        raise InvalidInput(f"a {role} has no grids (only officers do)", field="grids")
    if role is Role.POLICE and division_code is None:
        raise InvalidInput("a police user needs a division code", field="division")
    if role is not Role.POLICE and division_code is not None:
        raise InvalidInput(f"a {role} has no division (only police do)", field="division")
    return codes


def _checked_jurisdiction(
    session: Session, role: Role, grid_codes: Sequence[str], division_code: str | None
) -> tuple[str, ...]:
    """:func:`_check_jurisdiction`, and a police division that exists."""
    codes = _check_jurisdiction(role, grid_codes, division_code)
    if division_code is not None and not queries.division_exists(session, division_code):
        raise InvalidInput(f"no division {division_code}", field="division")
    return codes


def _unknown_grid_codes(session: Session, codes: Sequence[str]) -> tuple[str, ...]:
    """The codes no grid has yet (an officer may be given a grid before its plan is live)."""
    return tuple(sorted(set(codes) - queries.select_existing_grid_codes(session, codes)))


def summarize(
    user: User, *, now: datetime | None = None, address_locked: bool = False
) -> UserSummary:
    """The account as ``users list`` shows it; locked: the account, or from some address."""
    locked = address_locked or (user.locked_until is not None and user.locked_until > utc_now(now))
    return UserSummary(
        name=user.name,
        role=user.role,
        grid_codes=list(user.grid_codes or []),
        division_code=user.division_code,
        is_disabled=user.is_disabled,
        is_locked=locked,
        has_totp=user.totp_secret is not None,
        created_at=user.created_at,
    )


def add_user(
    session: Session,
    *,
    name: str,
    role: Role,
    password: str,
    actor: Actor,
    grid_codes: Sequence[str] = (),
    division_code: str | None = None,
    with_totp: bool = False,
) -> NewUser:
    """Create an account: officers need grid codes, police a division code, nobody else either."""
    if not NAME_PATTERN.match(name):
        raise InvalidInput("2–64 letters, digits or . _ @ -", field="name")
    check_password(password)
    codes = _checked_jurisdiction(session, role, grid_codes, division_code)
    queries.lock_user_name(session, name=name)
    if queries.select_user(session, name=name) is not None:
        raise Conflict(f"a user named {name!r} exists", field="name")
    alike = queries.select_user_named_alike(session, name=name)
    if alike is not None:  # DEMO_ADMIN beside demo_admin: one person's account, or a lookalike
        raise Conflict(f"a user named {alike!r} exists (names differ in case only)", field="name")
    secret = credentials.new_totp_secret() if with_totp else None
    user = User(
        name=name,
        role=role,
        password_hash=credentials.hash_password(password),
        grid_codes=list(codes),
        division_code=division_code,
        totp_secret=secret,
        created_at=utc_now(None),
    )
    session.add(user)
    session.flush()
    unknown = _unknown_grid_codes(session, codes)
    record_audit(session, actor=actor, action="users.add", target_codes=[name])
    return NewUser(user=summarize(user), totp_secret=secret, unknown_grid_codes=unknown)


def list_users(session: Session) -> list[UserSummary]:
    now = utc_now(None)
    locked = queries.select_address_locked_users(session, now=now)
    return [
        summarize(user, now=now, address_locked=user.uid in locked)
        for user in queries.select_users(session)
    ]


def _existing(session: Session, name: str) -> User:
    user = queries.select_user(session, name=name, for_update=True)
    if user is None:
        raise NotFound(f"no user named {name!r}", field="name")
    return user


def set_jurisdiction(
    session: Session,
    *,
    name: str,
    actor: Actor,
    grid_codes: Sequence[str] = (),
    division_code: str | None = None,
) -> tuple[UserSummary, tuple[str, ...]]:
    """Move an officer to other grids (a new plan retires grid codes) or a police user to
    another division: the same rules as when the account was made; the change counts from the
    account's next request (every request looks the account up). Returns the account and the
    grid codes no live grid has yet."""
    user = _existing(session, name)
    codes = _checked_jurisdiction(session, user.role, grid_codes, division_code)
    user.grid_codes = list(codes)
    user.division_code = division_code
    session.flush()
    unknown = _unknown_grid_codes(session, codes)
    where = list(codes) or ([division_code] if division_code else [])
    record_audit(session, actor=actor, action="users.jurisdiction", target_codes=[name, *where])
    return summarize(user), unknown


def set_disabled(session: Session, *, name: str, is_disabled: bool, actor: Actor) -> UserSummary:
    """Disable (and log out everywhere) or enable an account."""
    user = _existing(session, name)
    user.is_disabled = is_disabled
    if is_disabled:
        queries.revoke_sessions(session, user_uid=user.uid, at=utc_now(None))
    session.flush()
    action = "users.disable" if is_disabled else "users.enable"
    record_audit(session, actor=actor, action=action, target_codes=[name])
    return summarize(user)


def reset_password(session: Session, *, name: str, password: str, actor: Actor) -> UserSummary:
    """Set a new password, lift a lockout and revoke every session of the account."""
    check_password(password)
    user = _existing(session, name)
    user.password_hash = credentials.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    queries.clear_address_locks(session, user_uid=user.uid)
    queries.revoke_sessions(session, user_uid=user.uid, at=utc_now(None))
    session.flush()
    record_audit(session, actor=actor, action="users.reset", target_codes=[name])
    return summarize(user)


def enrol_totp(session: Session, *, name: str, actor: Actor) -> str:
    """Give an account a new TOTP secret (returned once; the old one stops working), and end
    its sessions, as a new password does: a new secret is given when the old one may be
    known to someone else, who may be logged in with it."""
    user = _existing(session, name)
    user.totp_secret = credentials.new_totp_secret()
    user.totp_last_step = None
    queries.revoke_sessions(session, user_uid=user.uid, at=utc_now(None))
    session.flush()
    record_audit(session, actor=actor, action="users.totp", target_codes=[name])
    return user.totp_secret


def has_totp(session: Session, *, name: str) -> bool:
    """Whether ``name`` logs in with a one-time code too (a page asks for one when its session
    ends)."""
    user = queries.select_user(session, name=name)
    return user is not None and user.totp_secret is not None


def open_session(
    session: Session, *, user: User, client_addr: str | None, now: datetime | None = None
) -> str:
    """Open a session for a user whose credentials were checked; returns its bearer token
    (only the token's digest is stored) and audits the login."""
    moment = utc_now(now)
    token = credentials.new_token()
    session.add(
        UserSession(
            token_hash=credentials.token_digest(token),
            user_uid=user.uid,
            created_at=moment,
            last_seen_at=moment,
            client_addr=client_addr[:64] if client_addr else None,
        )
    )
    session.flush()
    actor = Actor(name=user.name, role=str(user.role))
    record_audit(session, actor=actor, action="auth.login", client_addr=client_addr)
    return token


def authenticate(
    session: Session, *, token: str, policy: AuthPolicy, now: datetime | None = None
) -> SessionCaller:
    """Who a bearer token's session belongs to; :class:`AuthenticationFailed` when the token is
    unknown, revoked, idle longer than ``policy.idle_minutes``, older than ``policy.max_hours``
    or its account is disabled. Each use keeps the session alive (in ``session``'s
    transaction). The HTTP service uses :func:`authenticate_caller`, the same rules on an async
    connection."""
    moment = utc_now(now)
    found = queries.select_session_user(session, token_hash=credentials.token_digest(token))
    if found is None:
        raise AuthenticationFailed("not logged in, or the session has expired")
    caller = _session_caller(*found)
    if not caller.is_live(policy, moment):
        raise AuthenticationFailed("not logged in, or the session has expired")
    user_session = found[0]
    if moment - user_session.last_seen_at > policy.touch_interval:
        user_session.last_seen_at = moment
        session.flush()
    return caller


async def authenticate_caller(
    connection: AsyncConnection, *, token: str, policy: AuthPolicy, now: datetime | None = None
) -> SessionCaller:
    """:func:`authenticate` for the HTTP service: the same rules, on an async connection in
    autocommit (the session's ``last_seen_at`` is written at once, at most once a
    :attr:`~gis.users.schemas.AuthPolicy.touch_interval`).
    Returns who the caller is rather than the account's ORM object."""
    moment = utc_now(now)
    token_hash = credentials.token_digest(token)
    caller = await queries.fetch_session_caller(connection, token_hash=token_hash)
    if caller is None or not caller.is_live(policy, moment):
        raise AuthenticationFailed("not logged in, or the session has expired")
    if moment - caller.last_seen_at > policy.touch_interval:
        await queries.touch_session(connection, token_hash=token_hash, at=moment)
    return caller


def _session_caller(user_session: UserSession, user: User) -> SessionCaller:
    return SessionCaller(
        name=user.name,
        role=user.role,
        grid_codes=tuple(user.grid_codes or ()),
        division_code=user.division_code,
        is_disabled=user.is_disabled,
        revoked_at=user_session.revoked_at,
        last_seen_at=user_session.last_seen_at,
        created_at=user_session.created_at,
    )


def logout(session: Session, *, token: str, actor: Actor, client_addr: str | None) -> None:
    """Revoke the session of ``token`` (it never works again)."""
    found = queries.select_session_user(session, token_hash=credentials.token_digest(token))
    if found is not None and found[0].revoked_at is None:
        found[0].revoked_at = utc_now(None)
        session.flush()
    record_audit(session, actor=actor, action="auth.logout", client_addr=client_addr)
