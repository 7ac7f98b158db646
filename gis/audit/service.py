"""Use cases of the audit log: append a row to the hash chain, walk the chain, list rows.

Every read of personal data and every change calls :func:`record_audit` in the *same*
transaction as the work it records, so the row and the work commit or vanish together.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis.audit import queries
from gis.audit.chain import AuditContent, canonical_parts, row_hash
from gis.audit.schemas import (
    Actor,
    AuditOutcome,
    AuditPage,
    AuditRecord,
    ChainProblem,
    ChainProblemKind,
    ChainReport,
)
from gis.clock import CHINA
from gis.errors import Forbidden, InvalidInput, NotFound, PurposeRequired

__all__ = [
    "Actor", "AuditOutcome", "list_audit_entries", "outcome_of", "record_audit", "verify_chain"
]  # fmt: skip

RETENTION = timedelta(days=180)
"""Rows younger than this are never deleted (the trigger of migration 0002); older ones may be
purged by the database owner."""

_LIMITS = {"user_name": 64, "role": 16, "action": 64, "outcome": 16, "purpose": 2000}


def _checked_text(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    if "\x00" in value:
        raise InvalidInput("NUL bytes are not allowed", field=field)
    if len(value) > _LIMITS[field]:
        raise InvalidInput(f"longer than {_LIMITS[field]} characters", field=field)
    return value


def _canonical_addr(value: str | None) -> str | None:
    """An IP address in Python's canonical spelling; anything else (``testclient``) is dropped."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.split("%", 1)[0]))
    except ValueError:
        return None


def _canonical_wkb(wkb: bytes | None) -> str | None:
    """2-D little-endian WKB hex, the same whichever side produced the geometry."""
    if wkb is None:
        return None
    return str(shapely.to_wkb(shapely.from_wkb(bytes(wkb)), hex=True, byte_order=1))


def outcome_of(error: BaseException) -> AuditOutcome:
    """How an attempt that raised ``error`` is recorded: denied, not found or failed."""
    if isinstance(error, Forbidden | PurposeRequired):
        return AuditOutcome.DENIED
    if isinstance(error, NotFound):
        return AuditOutcome.NOT_FOUND
    return AuditOutcome.FAILED


def record_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_codes: Sequence[str] = (),
    query_geom: BaseGeometry | None = None,
    purpose: str | None = None,
    row_count: int | None = None,
    outcome: AuditOutcome = AuditOutcome.OK,
    client_addr: str | None = None,
) -> tuple[int, bytes]:
    """Append one row to the audit log, chained to the previous row; returns ``(id, hash)``.

    Parameters
    ----------
    actor : who acted (``Scope.actor`` for a request, ``Actor("cli:root", "admin")`` for the CLI)
    action : dotted verb, ``"occupants.read"``, ``"users.add"``, ``"auth.login"``
    target_codes : the house/building/grid codes or user names the action touched
    query_geom : the query area (EPSG:4490, valid), for searches by point, radius or polygon
    purpose : the stated purpose (police queries), or a reason (reveal)
    row_count : how many rows of personal data were returned or changed
    outcome : ``ok``, ``denied``, ``not_found``, ``failed``
    client_addr : the caller's IP address (anything that is not one is stored as NULL)

    One round trip (``audit_append``, migration 0007). Appends are serialised by a
    transaction-scoped advisory lock held until the caller's transaction ends: call this last
    in a unit of work, and only under READ COMMITTED.
    """
    user_name = _checked_text(actor.name, field="user_name")
    role = _checked_text(actor.role, field="role")
    _checked_text(action, field="action")
    _checked_text(purpose, field="purpose")
    _checked_text(str(outcome), field="outcome")
    codes = tuple(str(code) for code in target_codes)
    if any("\x00" in code for code in codes):
        raise InvalidInput("NUL bytes are not allowed", field="target_codes")
    wkb: bytes | None = None
    if query_geom is not None:
        wkb = shapely.to_wkb(shapely.force_2d(query_geom), byte_order=1)
    addr = _canonical_addr(client_addr)

    content = AuditContent(
        id=0,  # drawn by the database under the chain's lock: canonical_parts leaves it out
        at=datetime.now(UTC),
        user_name=user_name,
        role=role,
        action=action,
        target_codes=codes,
        query_wkb_hex=_canonical_wkb(wkb),
        purpose=purpose,
        row_count=row_count,
        outcome=str(outcome),
        client_addr=addr,
    )
    head, tail = canonical_parts(content)
    values: dict[str, Any] = {
        "at": content.at,
        "user_name": user_name,
        "role": role,
        "action": action,
        "target_codes": list(codes),
        "purpose": purpose,
        "row_count": row_count,
        "outcome": str(outcome),
        "client_addr": addr,
    }
    return queries.append_row(session, values=values, query_wkb=wkb, head=head, tail=tail)


def _content_of(row: Any) -> AuditContent:
    return AuditContent(
        id=row.id,
        at=row.at,
        user_name=row.user_name,
        role=row.role,
        action=row.action,
        target_codes=tuple(row.target_codes or ()),
        query_wkb_hex=_canonical_wkb(row.query_wkb),
        purpose=row.purpose,
        row_count=row.row_count,
        outcome=row.outcome,
        client_addr=_canonical_addr(row.client_addr),
    )


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Walk the whole log in id order and report the first edited row or broken link.

    A row whose content no longer matches its own hash was *edited*; a row whose ``prev_hash`` is
    not the hash of the row before it follows a *deleted* row (or a row rewritten together with
    its hash). A log whose oldest row links to a row no longer there starts after a purge, which
    removes only rows older than :data:`RETENTION`: when that oldest row is itself younger,
    rows were *deleted at the start*.
    """
    checked, first_id, previous = 0, None, None
    first_at: datetime | None = None
    now = datetime.now(UTC)
    starts_after_purge = False
    after_id = 0
    while rows := queries.select_chain_batch(session, after_id=after_id, limit=batch_size):
        for row in rows:
            after_id = row.id
            stored_hash = bytes(row.hash) if row.hash is not None else None
            stored_prev = bytes(row.prev_hash) if row.prev_hash is not None else None
            if row_hash(_content_of(row), prev_hash=stored_prev) != stored_hash:
                problem = ChainProblem(
                    row.id,
                    ChainProblemKind.EDITED,
                    f"row {row.id} was edited: its content no longer matches its hash",
                )
                return ChainReport(checked, first_id, row.id, stored_hash, False, problem)
            if previous is None:
                first_id, first_at = row.id, row.at
                starts_after_purge = stored_prev is not None
            elif stored_prev != previous[1]:
                problem = ChainProblem(
                    row.id,
                    ChainProblemKind.BROKEN_LINK,
                    f"the chain breaks before row {row.id}: a row after row {previous[0]} "
                    f"was deleted, or row {previous[0]} was rewritten with a new hash",
                )
                return ChainReport(checked, first_id, row.id, stored_hash, False, problem)
            previous = (row.id, stored_hash)
            checked += 1
    head_id, head_hash = previous if previous else (None, None)
    if (
        starts_after_purge
        and first_id is not None
        and first_at is not None
        and (first_at > now - RETENTION)
    ):
        problem = ChainProblem(
            first_id,
            ChainProblemKind.DELETED_AT_START,
            f"rows before row {first_id} were deleted, but row {first_id} is from "
            f"{first_at.astimezone(CHINA).date()}, less than {RETENTION.days} days ago: a purge "
            f"removes only rows older than {RETENTION.days} days (unless nothing was logged for "
            f"{RETENTION.days} days before row {first_id})",
        )
        return ChainReport(checked, first_id, head_id, head_hash, True, problem)
    return ChainReport(checked, first_id, head_id, head_hash, starts_after_purge, None)


def list_audit_entries(
    session: Session,
    *,
    user_name: str | None = None,
    action: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """A page of the log, newest first, filtered by user, action and ``[at_from, at_to)``."""
    rows = queries.select_entries(
        session,
        user_name=user_name,
        action=action,
        at_from=at_from,
        at_to=at_to,
        before_id=before_id,
        limit=limit + 1,
    )
    items = [
        AuditRecord(
            id=row.id,
            at=row.at,
            user_name=row.user_name,
            role=row.role,
            action=row.action,
            target_codes=list(row.target_codes or []),
            query_geom=json.loads(row.query_geojson) if row.query_geojson else None,
            purpose=row.purpose,
            row_count=row.row_count,
            outcome=row.outcome,
            client_addr=row.client_addr,
            prev_hash=bytes(row.prev_hash).hex() if row.prev_hash is not None else None,
            hash=bytes(row.hash).hex() if row.hash is not None else None,
        )
        for row in rows[:limit]
    ]
    next_before_id = items[-1].id if len(rows) > limit and items else None
    return AuditPage(items=items, next_before_id=next_before_id)
