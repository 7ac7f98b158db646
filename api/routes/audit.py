"""``GET /api/audit``: the audit log, filtered and paged, for auditors only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import ScopeDep, SessionDep, client_addr
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from gis.audit.schemas import AuditPage
from gis.audit.service import list_audit_entries, record_audit
from gis.users.models import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def read_audit_log(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    user: Annotated[str | None, Query(max_length=64, description="user name")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. auth.login")] = None,
    at_from: Annotated[datetime | None, Query(alias="from", description="at or after")] = None,
    at_to: Annotated[datetime | None, Query(alias="to", description="before")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="paging")] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
) -> AuditPage:
    """Audit rows newest first; follow ``next_before_id`` for the next page. Reading the log
    is itself audited."""
    scope.require_role(Role.AUDITOR)
    page = list_audit_entries(
        session,
        user_name=user,
        action=action,
        at_from=at_from,
        at_to=at_to,
        before_id=before_id,
        limit=limit,
    )
    record_audit(
        session,
        actor=scope.actor,
        action="audit.read",
        row_count=len(page.items),
        client_addr=client_addr(request),
    )
    return page
