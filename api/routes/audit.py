"""``GET /api/audit``: the audit log, filtered and paged, for auditors only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import SessionDep
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from api.personal import Audited, audited
from gis.audit.schemas import AuditPage
from gis.audit.service import list_audit_entries
from gis.clock import parse_instant
from gis.errors import InvalidInput
from gis.users.models import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])

InstantQuery = Annotated[
    str | None,
    Query(
        max_length=40,
        description="ISO 8601: a date (2026-11-23, its midnight in China) or a date and time "
        "(2026-11-23T08:00:00+08:00; without an offset, China time)",
    ),
]


@router.get("", response_model=AuditPage)
def read_audit_log(
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("audit.read"))],
    user: Annotated[str | None, Query(max_length=64, description="user name")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. auth.login")] = None,
    at_from: Annotated[InstantQuery, Query(alias="from")] = None,
    at_to: Annotated[InstantQuery, Query(alias="to")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="paging")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
) -> AuditPage:
    """Audit rows newest first, ``from`` (at or after) ``to`` (before); follow
    ``next_before_id`` for the next page. Reading the log is itself audited, and so is a
    refused attempt (another role, a bad filter): a ``denied`` or ``failed`` row."""
    audit.scope.require_role(Role.AUDITOR)
    since = parse_instant(at_from, field="from") if at_from is not None else None
    until = parse_instant(at_to, field="to") if at_to is not None else None
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"{at_to} is not after from ({at_from})", field="to")
    page = list_audit_entries(
        session,
        user_name=user,
        action=action,
        at_from=since,
        at_to=until,
        before_id=before_id,
        limit=limit,
    )
    audit.record(session, row_count=len(page.items))
    return page
