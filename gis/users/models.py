"""The ``users`` table: accounts, roles and jurisdictions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import PrimaryKeyConstraint

from gis.columns import created_at_column, enum_type
from gis.db import Base


class Role(StrEnum):
    """What a user may see and do (DESIGN §8, docs/security.md)."""

    OFFICER = "officer"
    POLICE = "police"
    PLANNER = "planner"
    ADMIN = "admin"
    AUDITOR = "auditor"


class User(Base):
    """An account. Officers hold grid codes; police a division code (prefix of their area)."""

    __tablename__ = "users"

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(Text)
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(String(15)), server_default="{}")
    division_code: Mapped[str | None] = mapped_column(String(12))
    is_disabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()


class UserSession(Base):
    """A login session: the SHA-256 of an opaque bearer token (the token itself is never stored),
    valid until idle too long, past its maximum age, or revoked (logout, disable, reset)."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    user_uid: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.uid", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_addr: Mapped[str | None] = mapped_column(String(64))


class AddressLock(Base):
    """Failed logins to one account from one client address: ``max_failures`` in a row lock
    that address out of that account for a while. An account-wide lock from one address locked
    its owner out too (anyone who knew a name could keep them out without logging in); the
    account itself locks only after many more failures from anywhere (``users.locked_until``)."""

    __tablename__ = "login_locks"
    __table_args__ = (PrimaryKeyConstraint("user_uid", "client_addr"),)

    user_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.uid", ondelete="CASCADE"))
    client_addr: Mapped[str] = mapped_column(String(64))
    """The address as the server saw it ('' when unknown)."""
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
