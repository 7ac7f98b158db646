"""SQL of the users domain: accounts, sessions, known codes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gis.divisions.models import Division
from gis.grids.models import Grid
from gis.users.models import AddressLock, Role, User, UserSession
from gis.users.schemas import SessionCaller

if TYPE_CHECKING:
    from psycopg import AsyncConnection


def select_user(session: Session, *, name: str, for_update: bool = False) -> User | None:
    statement = select(User).where(User.name == name)
    if for_update:
        statement = statement.with_for_update()
    return session.scalar(statement)


def select_address_lock(
    session: Session, *, user_uid: uuid.UUID, client_addr: str
) -> AddressLock | None:
    """The failed-login record of this account from this address, if any."""
    return session.get(AddressLock, (user_uid, client_addr))


def clear_address_locks(
    session: Session, *, user_uid: uuid.UUID, client_addr: str | None = None
) -> None:
    """Forget failed logins to the account: from one address (it logged in), or all (reset)."""
    statement = delete(AddressLock).where(AddressLock.user_uid == user_uid)
    if client_addr is not None:
        statement = statement.where(AddressLock.client_addr == client_addr)
    session.execute(statement)


def select_address_locked_users(session: Session, *, now: datetime) -> set[uuid.UUID]:
    """Accounts that some address is locked out of now."""
    statement = select(AddressLock.user_uid).where(AddressLock.locked_until > now).distinct()
    return set(session.scalars(statement))


USER_NAME_LOCK_SPACE = 0x67687573  # "ghus": the first key of pg_advisory_xact_lock(int, int)


def lock_user_name(session: Session, *, name: str) -> None:
    """Serialise adding accounts of this name in any letter case until the transaction ends:
    two ``users add`` at once (casey, CASEY) would each find no lookalike and both be stored."""
    session.execute(
        select(func.pg_advisory_xact_lock(USER_NAME_LOCK_SPACE, func.hashtext(name.lower())))
    )


def select_user_named_alike(session: Session, *, name: str) -> str | None:
    """The name of an account whose name differs from ``name`` only in letter case."""
    return session.scalar(select(User.name).where(func.lower(User.name) == name.lower()))


def select_password_hash(session: Session, *, name: str) -> str | None:
    """The stored password hash of ``name`` (``None`` for an unknown user), without a lock."""
    return session.scalar(select(User.password_hash).where(User.name == name))


def select_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.role, User.name)).all()


SESSION_CALLER_SQL = (
    "SELECT u.name, u.role::text, u.grid_codes, u.division_code, u.is_disabled, s.revoked_at, "
    "s.last_seen_at, s.created_at FROM user_sessions s JOIN users u ON u.uid = s.user_uid "
    "WHERE s.token_hash = %s"
)
TOUCH_SESSION_SQL = "UPDATE user_sessions SET last_seen_at = %s WHERE token_hash = %s"


async def fetch_session_caller(
    connection: AsyncConnection, *, token_hash: bytes
) -> SessionCaller | None:
    """The session with this token hash and who its user is, in one statement on a bare async
    connection (no ORM: it runs before every request's route, on the event loop)."""
    cursor = await connection.execute(SESSION_CALLER_SQL, (token_hash,))
    row = await cursor.fetchone()
    if row is None:
        return None
    name, role, grid_codes, division_code, is_disabled, revoked_at, last_seen, created = row
    return SessionCaller(
        name=name,
        role=Role(role),
        grid_codes=tuple(grid_codes or ()),
        division_code=division_code,
        is_disabled=is_disabled,
        revoked_at=revoked_at,
        last_seen_at=last_seen,
        created_at=created,
    )


async def touch_session(connection: AsyncConnection, *, token_hash: bytes, at: datetime) -> None:
    await connection.execute(TOUCH_SESSION_SQL, (at, token_hash))


def select_session_user(session: Session, *, token_hash: bytes) -> tuple[UserSession, User] | None:
    """The live-or-not session with this token hash and its user."""
    statement = (
        select(UserSession, User)
        .join(User, User.uid == UserSession.user_uid)
        .where(UserSession.token_hash == token_hash)
    )
    row = session.execute(statement).first()
    return (row[0], row[1]) if row else None


def revoke_sessions(session: Session, *, user_uid: uuid.UUID, at: datetime) -> int:
    """Revoke every open session of a user; returns how many."""
    statement = (
        update(UserSession)
        .where(UserSession.user_uid == user_uid, UserSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined, no-any-return]


def select_existing_grid_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(session.scalars(select(Grid.code).where(Grid.code.in_(codes)).distinct()))


def division_exists(session: Session, code: str) -> bool:
    return session.scalar(select(Division.code).where(Division.code == code)) is not None
