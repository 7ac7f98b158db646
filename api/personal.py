"""Dependencies of routes that read or change personal data: the audit row whatever the outcome,
the people key, the working-day calendar.

Every such route takes an :class:`Audited` (``Depends(audited("occupants.radius"))``), which
depends on ``ScopeDep``. On success the route calls :meth:`Audited.record` last, in the request's
transaction. When the route fails (404, 403, 409, 422, a timeout…) the request's transaction is
rolled back, and its audit row with it, so the dependency writes the row of the failed or denied
attempt in a transaction of its own: N attempts leave N rows.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.deps import ScopeDep, client_addr, get_session_factory
from gis.access.purpose import require_purpose
from gis.access.scope import Scope
from gis.audit.service import outcome_of, record_audit
from gis.clock import IsoDate
from gis.people.crypto import PeopleCipher
from gis.people.periods import WorkCalendar, checked_date, today_in_china
from gis.people.registry import load_people_cipher
from gis.settings import Settings

logger = logging.getLogger(__name__)

FAILURE_LOCK_TIMEOUT = "5s"
"""How long a failure's audit row waits for the chain's lock before giving up (and logging)."""

PurposeQuery = Annotated[
    str | None,
    Query(
        max_length=500,
        description="why the data is read: a case number or a reason of at least 10 characters "
        "(required for police)",
    ),
]
AtQuery = Annotated[
    IsoDate | None, Query(description="the date to look at (YYYY-MM-DD); default today")
]


get_audit_factory = get_session_factory
"""Sessions for audit rows that must outlive the request's transaction (failed reads)."""


@dataclass
class Audited:
    """The audit of one request: who, which action, and what to record."""

    scope: Scope
    action: str
    client_addr: str | None
    factory: sessionmaker[Session]
    purpose: str | None = None
    target_codes: list[str] = field(default_factory=list)
    query_geom: BaseGeometry | None = None
    is_recorded: bool = False
    looked_at: str | None = None
    """The ``at`` asked for (time travel), as sent: recorded as a target ``at:YYYY-MM-DD``, so
    the row tells "who lives here" from "who lived here then"."""

    def _targets(self) -> list[str]:
        codes = [code.replace("\x00", "") for code in self.target_codes]
        return codes + ([f"at:{self.looked_at}"] if self.looked_at else [])

    def state_purpose(self, purpose: str | None, *, targets: Sequence[str] = ()) -> None:
        """Check the stated purpose (police must state one) and note the targets."""
        self.target_codes = [str(code)[:100] for code in targets]
        self.purpose = (purpose or "").strip()[:500] or None  # recorded even when refused
        self.purpose = require_purpose(self.scope, purpose)

    def record(
        self,
        session: Session,
        *,
        row_count: int,
        target_codes: Sequence[str] | None = None,
        query_geom: BaseGeometry | None = None,
    ) -> None:
        """The success row, in the request's transaction: call it last."""
        if target_codes is not None:
            self.target_codes = list(target_codes)
        record_audit(
            session,
            actor=self.scope.actor,
            action=self.action,
            target_codes=self._targets(),
            query_geom=query_geom if query_geom is not None else self.query_geom,
            purpose=self.purpose,
            row_count=row_count,
            client_addr=self.client_addr,
        )
        self.is_recorded = True

    def record_failure(self, error: BaseException) -> None:
        """The row of a failed or denied attempt, committed on its own."""
        outcome = outcome_of(error)
        try:
            with self.factory() as session, session.begin():
                session.execute(text(f"SET LOCAL lock_timeout = '{FAILURE_LOCK_TIMEOUT}'"))
                record_audit(
                    session,
                    actor=self.scope.actor,
                    action=self.action,
                    target_codes=self._targets(),
                    purpose=self.purpose.replace("\x00", "") if self.purpose else None,
                    row_count=0,
                    outcome=outcome,
                    client_addr=self.client_addr,
                )
        except Exception:
            logger.exception("the audit row of a failed %s could not be written", self.action)


def audited(action: str) -> Callable[..., AsyncIterator[Audited]]:
    """A dependency auditing ``action`` (``occupants.radius``, ``residences.register``…).

    ``async`` so that the success path (building the :class:`Audited`, and leaving) stays on
    the event loop; only the failure row, which does database I/O, goes to a worker thread.
    """

    async def dependency(
        request: Request,
        scope: ScopeDep,
        factory: Annotated[sessionmaker[Session], Depends(get_audit_factory)],
    ) -> AsyncIterator[Audited]:
        audit = Audited(
            scope=scope, action=action, client_addr=client_addr(request), factory=factory,
            looked_at=_query_text(request, "at", 20),
        )  # fmt: skip
        try:
            yield audit
        except (Exception, RequestValidationError) as error:
            if not audit.is_recorded:
                # refused before the route stated it (a parameter out of range): as sent
                audit.purpose = audit.purpose or _query_text(request, "purpose", 500)
                await run_in_threadpool(audit.record_failure, error)
            raise

    dependency.__name__ = f"audited_{action.replace('.', '_')}"
    return dependency


def _query_text(request: Request, name: str, limit: int) -> str | None:
    """A query parameter as sent, trimmed and cut to ``limit`` characters; ``None`` when
    absent or blank."""
    value = request.query_params.get(name, "").replace("\x00", "").strip()[:limit]
    return value or None


def get_cipher(request: Request) -> PeopleCipher:
    """The people key, loaded once per app (503 when the key file is missing)."""
    cipher: PeopleCipher | None = getattr(request.app.state, "people_cipher", None)
    if cipher is None:
        settings: Settings = request.app.state.settings
        cipher = load_people_cipher(settings)
        request.app.state.people_cipher = cipher
    return cipher


def get_calendar(request: Request) -> WorkCalendar:
    """Working days for declaration deadlines (the holiday file, read when the app was made)."""
    calendar: WorkCalendar = request.app.state.work_calendar
    return calendar


CipherDep = Annotated[PeopleCipher, Depends(get_cipher)]
CalendarDep = Annotated[WorkCalendar, Depends(get_calendar)]


def on_date(at: date | None) -> date:
    """``at`` checked, or today in China."""
    return checked_date(at, field="at") if at is not None else today_in_china()
