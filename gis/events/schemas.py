"""Shapes of events, residence permits and exchange: what callers send, what they get back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gis.clock import ChinaTime, IsoDate
from gis.events.models import EventKind, EventStatus
from gis.people.schemas import Purpose
from gis.text import NotBlank

Note = Annotated[str, Field(max_length=2000)]
UserName = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventCreate(Strict):
    """Report an event at a point (``lon``/``lat`` with their ``crs``), or at a building or a
    house (its point on surface). Exactly one of the three places."""

    kind: EventKind
    title: Annotated[str, Field(min_length=1, max_length=200), NotBlank]
    description: Note | None = None
    lon: float | None = None
    lat: float | None = None
    crs: Annotated[
        str | None, Field(max_length=20, description="EPSG:4326, EPSG:4490, GCJ02, BD09")
    ] = None
    building_code: Annotated[str | None, Field(min_length=25, max_length=29)] = None
    house_code: Annotated[str | None, Field(min_length=25, max_length=29)] = None


class EventStepRequest(Strict):
    """Move an event to ``status``; ``dispatched`` names an ``assignee`` (an officer's user
    name) or a ``department``; rejected, handled and checked need a ``note``."""

    status: EventStatus
    note: Note | None = None
    assignee: UserName | None = None
    department: Annotated[str | None, Field(min_length=1, max_length=100), NotBlank] = None


class EventStepRead(Strict):
    from_status: EventStatus | None
    to_status: EventStatus
    actor: str
    role: str
    at: ChinaTime
    note: str | None


class PhotoUpload(Strict):
    """A photo as base64 text (the request guard refuses raw binary bodies, which hold NUL
    bytes); at most 750,000 bytes once decoded."""

    content_base64: Annotated[str, Field(max_length=1_000_100)]


class EventPhotoRead(Strict):
    uid: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    uploaded_at: ChinaTime


class EventRead(Strict):
    """An event with its place, deadline, history and photos."""

    id: int
    kind: EventKind
    status: EventStatus
    title: str
    description: str | None
    lon: float
    lat: float
    grid_code: str | None
    building_code: str | None
    house_code: str | None
    reported_by: str
    reported_at: ChinaTime
    due_at: ChinaTime
    is_overdue: bool
    assignee: str | None
    department: str | None
    closed_at: ChinaTime | None
    next_statuses: list[str]
    steps: list[EventStepRead] = []
    photos: list[EventPhotoRead] = []


class EventSummary(Strict):
    """One event of a list (no history)."""

    id: int
    kind: EventKind
    status: EventStatus
    title: str
    lon: float
    lat: float
    grid_code: str | None
    reported_at: ChinaTime
    due_at: ChinaTime
    is_overdue: bool
    assignee: str | None


class EventPage(Strict):
    items: list[EventSummary]
    next_after: int | None = Field(description="pass as ``after`` for the next page")


class EventCounts(Strict):
    """Aggregates of a grid or division (all a planner may see): open (neither closed nor
    rejected) and overdue, open ones by kind; closed (结案: closed after the check, as the
    dashboard counts them) and rejected (不予受理) apart."""

    area_code: str
    open: int | None
    overdue: int | None
    closed: int | None
    rejected: int | None
    open_by_kind: dict[str, int | None]


# -- residence permits ---------------------------------------------------------------------


class PermitIssue(Strict):
    """Issue a residence permit to a person in scope, on ``issued_on`` (default today)."""

    person_uid: str
    issued_on: IsoDate | None = None


class PermitEndorse(Strict):
    """The yearly endorsement (签注), on ``endorsed_on`` (default today)."""

    endorsed_on: IsoDate | None = None


class PermitRevoke(Strict):
    """Revoke a permit (注销) from ``revoked_on`` (default today), with the reason."""

    reason: Annotated[str, Field(min_length=2, max_length=200), NotBlank] = Field(
        description="why: left the city, died, issued in error, …"
    )
    revoked_on: IsoDate | None = None


class PermitRead(Strict):
    number: str
    person_uid: str
    name: str
    id_number: str | None = Field(description="masked")
    house_code: str
    issued_on: date
    endorsed_until: date
    expires_on: date
    endorsements: int
    revoked_on: date | None = None
    revoke_reason: str | None = None
    is_valid: bool


class PermitReminder(Strict):
    """A permit whose endorsement or expiry falls due within the reminder window."""

    number: str
    person_uid: str
    name: str
    house_code: str
    due: Literal["endorsement", "expiry"]
    due_on: date
    days_left: int


class PermitReminders(Strict):
    grid_code: str
    on: date
    within_days: int
    items: list[PermitReminder]


# -- exchange with other regions -----------------------------------------------------------

EXCHANGE_FORMAT: Literal["gridhouse-exchange/1"] = "gridhouse-exchange/1"


class ExchangeRecord(Strict):
    """One person living outside their hukou region: keyed by citizen ID number.

    In an *inflow* file (people registered here whose hukou is elsewhere) ``residence_division``
    is ours; in another region's *outflow* file (people whose hukou is there, living elsewhere)
    ``hukou_division`` is theirs. Both kinds have the same fields."""

    citizen_id: Annotated[str, Field(min_length=18, max_length=18)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    hukou_division: Annotated[str, Field(pattern=r"^[0-9]{6}([0-9]{6})?$")]
    residence_division: Annotated[str, Field(pattern=r"^[0-9]{6}([0-9]{6})?$")]
    since: IsoDate


class ExchangeFile(Strict):
    """The JSON form of an exchange file (the CSV form has the record fields as columns)."""

    format: Literal["gridhouse-exchange/1"] = EXCHANGE_FORMAT
    kind: Literal["inflow", "outflow"]
    region: Annotated[str, Field(pattern=r"^[0-9]{12}$")]
    period_from: IsoDate
    period_to: IsoDate
    records: list[ExchangeRecord]


class ReconcileRequest(Strict):
    """Reconcile another region's outflow file against our inflow of the same period."""

    region: Annotated[str, Field(pattern=r"^[0-9]{12}$", description="our division")]
    outflow: ExchangeFile
    purpose: Purpose | None = None
    """Why (required for police: the answer names residents with their full ID numbers)."""


class ReconcileItem(Strict):
    citizen_id: str
    name: str
    hukou_division: str
    residence_division: str


class ReconcileReport(Strict):
    """Matched, registered here but not there, registered there but not here (协查 lists)."""

    batch_id: int
    region: str
    other_region: str
    period_from: date
    period_to: date
    matched: int
    here_not_there: list[ReconcileItem]
    there_not_here: list[ReconcileItem]
