"""Events (report, steps, photos, lists, counts), residence permits and exchange with other
regions: thin routes over ``gis/events``; every read of personal data and every change audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import ScopeDep, SessionDep
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from api.personal import AtQuery, Audited, CipherDep, PurposeQuery, audited, on_date
from gis.buildings.features import parse_bbox
from gis.clock import IsoDate
from gis.db import set_statement_timeout
from gis.events import exchange, permits
from gis.events import service as events
from gis.events.models import EventStatus
from gis.events.photos import decode_base64
from gis.events.schemas import (
    EventCounts,
    EventCreate,
    EventPage,
    EventPhotoRead,
    EventRead,
    EventStepRequest,
    ExchangeFile,
    PermitEndorse,
    PermitIssue,
    PermitRead,
    PermitReminders,
    PermitRevoke,
    PhotoUpload,
    ReconcileReport,
    ReconcileRequest,
)
from gis.people.periods import today_in_china
from gis.settings import Settings

router = APIRouter(tags=["events"])

EXCHANGE_STATEMENT_TIMEOUT_MS = 60_000
"""An inflow file (or a reconciliation) reads every resident of the region over the period:
2.6 s for the demo's district on a quiet machine, twice that under load, against the
per-request limit of 5 s, which turned a district's export into a 503. As for the rates of a
division (``api.routes.quality``), this route lifts the limit."""

EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the event's number")]
GridPath = Annotated[str, Path(pattern=r"^[0-9]{15}$", description="a 15-digit grid code")]
GridQuery = Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="a grid code")]
PermitNumber = Annotated[str, Path(min_length=1, max_length=20, description="permit number")]


@router.get("/api/events/counts", response_model=EventCounts)
def count_events(
    session: SessionDep,
    scope: ScopeDep,
    grid: GridQuery = None,
    division: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> EventCounts:
    """Open, overdue, closed and rejected events of a grid or division (aggregates; planners
    see counts 1-4 suppressed)."""
    return events.count_events(
        session, scope=scope, now=events.now_utc(), grid=grid, division=division
    )


@router.post("/api/events", response_model=EventRead, status_code=201)
def report_event(
    request: EventCreate,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.report"))],
) -> EventRead:
    """Report an event at a point, building or house in one of the caller's grids; its
    deadline runs from now by its kind."""
    now = events.now_utc()
    event = events.report_event(session, scope=audit.scope, request=request, now=now)
    read = events.event_read(session, event=event, now=now)
    audit.record(session, row_count=1, target_codes=[f"event:{event.id}"])
    return read


@router.get("/api/events", response_model=EventPage)
def list_events(
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.list"))],
    grid: GridQuery = None,
    status: EventStatus | None = None,
    is_open: Annotated[bool | None, Query(alias="open")] = None,
    overdue: bool = False,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    purpose: PurposeQuery = None,
) -> EventPage:
    """Events in scope, in number order, paged (``next_after``); ``overdue=true`` lists the open
    ones past their deadline."""
    audit.state_purpose(purpose, targets=[grid] if grid else [])
    page = events.list_events(
        session, scope=audit.scope, now=events.now_utc(), grid_code=grid, status=status,
        is_open=is_open, is_overdue=overdue, bbox=parse_bbox(bbox) if bbox is not None else None,
        after=after, limit=limit,
    )  # fmt: skip
    audit.record(session, row_count=len(page.items))
    return page


@router.get("/api/events/{event_id}", response_model=EventRead)
def read_event(
    event_id: EventId,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.read"))],
    purpose: PurposeQuery = None,
) -> EventRead:
    """An event in scope with its history and photos."""
    audit.state_purpose(purpose, targets=[f"event:{event_id}"])
    read = events.get_event(session, scope=audit.scope, event_id=event_id, now=events.now_utc())
    audit.record(session, row_count=1)
    return read


@router.post("/api/events/{event_id}/steps", response_model=EventRead)
def step_event(
    event_id: EventId,
    request: EventStepRequest,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.step"))],
) -> EventRead:
    """Move an event one step (accepted, rejected, dispatched, handled, checked, closed); a step
    the lifecycle does not allow answers 409 naming the steps open from here."""
    audit.target_codes = [f"event:{event_id}", str(request.status)]
    now = events.now_utc()
    event = events.step_event(
        session, scope=audit.scope, event_id=event_id, request=request, now=now
    )
    read = events.event_read(session, event=event, now=now)
    audit.record(session, row_count=1)
    return read


@router.post("/api/events/{event_id}/photos", response_model=EventPhotoRead, status_code=201)
def attach_photo(
    event_id: EventId,
    upload: PhotoUpload,
    request: Request,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.photo"))],
) -> EventPhotoRead:
    """Attach a photo: ``{"content_base64"}``, a JPEG, PNG or WebP image of at most 750,000
    bytes whose type is read from its bytes."""
    audit.target_codes = [f"event:{event_id}"]
    settings: Settings = request.app.state.settings
    photo = events.attach_photo(
        session, scope=audit.scope, event_id=event_id,
        data=decode_base64(upload.content_base64), data_dir=settings.data_dir,
        now=events.now_utc(),
    )  # fmt: skip
    audit.record(session, row_count=1, target_codes=[f"event:{event_id}", photo.uid])
    return photo


@router.get("/api/events/{event_id}/photos/{photo_uid}")
def read_photo(
    event_id: EventId,
    photo_uid: Annotated[str, Path(max_length=36)],
    request: Request,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("events.photo_read"))],
    purpose: PurposeQuery = None,
) -> Response:
    """A photo of an event in scope (it may show people and their homes: police state a
    purpose, as for the event)."""
    audit.state_purpose(purpose, targets=[f"event:{event_id}", photo_uid])
    settings: Settings = request.app.state.settings
    data, content_type = events.photo_bytes(
        session, scope=audit.scope, event_id=event_id, photo_uid=photo_uid,
        data_dir=settings.data_dir,
    )  # fmt: skip
    audit.record(session, row_count=1)
    return Response(content=data, media_type=content_type)


@router.post("/api/permits", response_model=PermitRead, status_code=201)
def issue_permit(
    request: PermitIssue,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("permits.issue"))],
) -> PermitRead:
    """Issue a residence permit to a resident in scope after 6 months of registered residence
    in the city."""
    audit.target_codes = [request.person_uid]
    read = permits.issue_permit(
        session, scope=audit.scope, person_uid=request.person_uid, issued_on=request.issued_on,
        today=today_in_china(),
    )  # fmt: skip
    audit.record(session, row_count=1, target_codes=[read.number, read.house_code])
    return read


@router.get("/api/permits/{number}", response_model=PermitRead)
def read_permit(
    number: PermitNumber,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("permits.read"))],
    purpose: PurposeQuery = None,
) -> PermitRead:
    """A residence permit whose house is in scope (ID number masked)."""
    audit.state_purpose(purpose, targets=[number])
    read = permits.get_permit(session, scope=audit.scope, number=number, today=today_in_china())
    audit.record(session, row_count=1)
    return read


@router.post("/api/permits/{number}/endorse", response_model=PermitRead)
def endorse_permit(
    number: PermitNumber,
    request: PermitEndorse,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("permits.endorse"))],
) -> PermitRead:
    """The yearly endorsement, in the 30 days before it is due."""
    audit.target_codes = [number]
    read = permits.endorse_permit(
        session, scope=audit.scope, number=number, endorsed_on=request.endorsed_on,
        today=today_in_china(),
    )  # fmt: skip
    audit.record(session, row_count=1)
    return read


@router.post("/api/permits/{number}/revoke", response_model=PermitRead)
def revoke_permit(
    number: PermitNumber,
    request: PermitRevoke,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("permits.revoke"))],
) -> PermitRead:
    """Revoke (注销) a permit from ``revoked_on`` (default today) with a reason; it stays on
    record, valid until that day."""
    audit.target_codes = [number]
    read = permits.revoke_permit(
        session, scope=audit.scope, number=number, reason=request.reason,
        revoked_on=request.revoked_on, today=today_in_china(),
    )  # fmt: skip
    audit.record(session, row_count=1)
    return read


@router.get("/api/grids/{code}/permit-reminders", response_model=PermitReminders)
def permit_reminders(
    code: GridPath,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("permits.reminders"))],
    at: AtQuery = None,
    within_days: Annotated[int, Query(ge=0, le=366)] = permits.REMINDER_DAYS,
    purpose: PurposeQuery = None,
) -> PermitReminders:
    """Permits of a grid's residents whose endorsement or expiry falls due within
    ``within_days`` (default 30) days."""
    audit.state_purpose(purpose, targets=[code])
    reminders = permits.permit_reminders(
        session, scope=audit.scope, grid_code=code, on=on_date(at), within_days=within_days
    )
    audit.record(session, row_count=len(reminders.items))
    return reminders


@router.get("/api/exchange/inflow", response_model=ExchangeFile)
def export_inflow(
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("exchange.export"))],
    region: Annotated[str, Query(pattern=r"^[0-9]{12}$", description="our division")],
    period_from: Annotated[IsoDate, Query(description="YYYY-MM-DD")],
    period_to: Annotated[IsoDate, Query(description="YYYY-MM-DD")],
    format: Literal["json", "csv"] = "json",
    purpose: PurposeQuery = None,
) -> Response:
    """Inflow records of a period (people registered here whose hukou is elsewhere, full ID
    numbers): police of that jurisdiction and admins; JSON or CSV (docs/events.md)."""
    audit.state_purpose(purpose, targets=[region])
    set_statement_timeout(session, timeout_ms=EXCHANGE_STATEMENT_TIMEOUT_MS)
    file = exchange.export_inflow(
        session, scope=audit.scope, cipher=cipher, region=region, period_from=period_from,
        period_to=period_to,
    )  # fmt: skip
    audit.record(session, row_count=len(file.records))
    if format == "csv":
        return PlainTextResponse(exchange.to_csv(file), media_type="text/csv")
    return Response(exchange.to_json(file), media_type="application/json")


@router.get("/api/exchange/reconciliations/{batch_id}", response_model=ReconcileReport)
def read_reconciliation(
    batch_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="the reconciliation's batch")],
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("exchange.reconciliation_read"))],
    purpose: PurposeQuery = None,
) -> ReconcileReport:
    """A past reconciliation again, with its follow-up lists (协查) and their full ID numbers:
    police of its region (stating a purpose) and admins."""
    audit.state_purpose(purpose, targets=[f"exchange:{batch_id}"])
    report = exchange.reconciliation_report(
        session, scope=audit.scope, cipher=cipher, batch_id=batch_id
    )
    audit.record(session, row_count=len(report.here_not_there) + len(report.there_not_here))
    return report


@router.post("/api/exchange/reconcile", response_model=ReconcileReport)
def reconcile_outflow(
    request: ReconcileRequest,
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("exchange.reconcile"))],
) -> ReconcileReport:
    """Reconcile another region's outflow records with our inflow: matched, here but not
    there, there but not here (with the ID numbers to follow up)."""
    audit.state_purpose(request.purpose, targets=[request.region, request.outflow.region])
    set_statement_timeout(session, timeout_ms=EXCHANGE_STATEMENT_TIMEOUT_MS)
    report = exchange.reconcile(
        session, scope=audit.scope, cipher=cipher, region=request.region, outflow=request.outflow
    )
    rows = report.matched + len(report.here_not_there) + len(report.there_not_here)
    audit.record(session, row_count=rows)
    return report
