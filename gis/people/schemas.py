"""Shapes of the people domain: what callers send, and what responses carry (always masked).

Every read model carries ``id_number`` and ``phone`` in their masked forms
(``440305********123X``, ``138****1234``); only :class:`RevealRead` carries full values.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gis.clock import ChinaTime, IsoDate
from gis.people.models import DeclaredBy, PersonCategory, ResidenceKind
from gis.text import NotBlank, OneLine

Text100 = Annotated[str, Field(min_length=1, max_length=100), NotBlank]
Address = Annotated[str | None, Field(max_length=200), OneLine]
"""A hukou address: one line (trimmed, ``None`` when blank, no control characters)."""
HouseCodeText = Annotated[
    str, Field(min_length=25, max_length=29, description="a 25-character house code")
]
Purpose = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        description="a case number (6-40 letters and digits with at least 4 digits) or a reason "
        "of at least 10 characters",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonInput(Strict):
    """A person as registered: ID number (or passport for overseas residents) and the rest."""

    name: Text100
    id_number: Annotated[str, Field(min_length=1, max_length=40)]
    phone: Annotated[str | None, Field(max_length=30)] = None
    category: PersonCategory | None = Field(
        default=None,
        description="hukou, floating or overseas; when omitted: derived from the hukou division "
        "(or the ID number's region) against the house's township",
    )
    sex: Literal["M", "F"] | None = Field(default=None, description="overseas residents only")
    birth_date: IsoDate | None = Field(default=None, description="overseas residents only")
    hukou_division_code: Annotated[str | None, Field(pattern=r"^[0-9]{6}([0-9]{6})?$")] = None
    hukou_address: Address = None
    occupation: Annotated[str | None, Field(max_length=100), OneLine] = None
    education: Annotated[str | None, Field(max_length=50), OneLine] = None
    is_key_person: bool = False


class PersonUpdate(Strict):
    """What changes about a registered person (信息变更): the fields given, ``null`` clearing an
    optional one. Name, ID number, sex and birth date are their identity: a mistake there is
    corrected by voiding the registration and registering again."""

    phone: Annotated[str | None, Field(max_length=30)] = None
    occupation: Annotated[str | None, Field(max_length=100), OneLine] = None
    education: Annotated[str | None, Field(max_length=50), OneLine] = None
    hukou_division_code: Annotated[str | None, Field(pattern=r"^[0-9]{6}([0-9]{6})?$")] = None
    hukou_address: Address = None
    category: PersonCategory | None = Field(
        default=None, description="hukou or floating (an overseas resident stays overseas)"
    )
    is_key_person: bool | None = None


class ResidenceCreate(Strict):
    """Register an arrival: an existing person (``person_uid``) or a new one (``person``)."""

    house_code: HouseCodeText
    person_uid: uuid.UUID | None = None
    person: PersonInput | None = None
    moved_in: IsoDate
    until: IsoDate | None = Field(default=None, description="a planned departure, if known")
    kind: ResidenceKind
    declared_by: DeclaredBy = DeclaredBy.OFFICER
    is_primary: bool = True
    ends_previous: bool = Field(
        default=False,
        description="end the person's primary residence that overlaps (a move from elsewhere), "
        "in the same transaction",
    )


class Deregistration(Strict):
    moved_out: IsoDate = Field(description="the day of departure (the period ends before it)")


class MoveRequest(Strict):
    house_code: HouseCodeText
    moved_on: IsoDate
    kind: ResidenceKind
    declared_by: DeclaredBy = DeclaredBy.OFFICER


def _two_characters(value: str) -> str:
    if len(value) < 2:
        raise ValueError("should say why in at least 2 characters")
    return value


class VoidRequest(Strict):
    """Void a residence recorded in error (登记有误), saying what was wrong."""

    reason: Annotated[str, Field(max_length=200), NotBlank, AfterValidator(_two_characters)] = (
        Field(description="what was wrong: the wrong person, house or dates, a duplicate, …")
    )
    reopen_previous: bool = Field(
        default=False,
        description="the person never moved: the primary residence this one ended when it was "
        "registered (a move or an arrival with ends_previous, made in error) is open again",
    )


class RevealRequest(Strict):
    reason: Purpose


class DeclarationRead(Strict):
    uid: uuid.UUID
    moved_in: date
    due_on: date
    declared_at: ChinaTime | None
    declared_by: DeclaredBy | None
    is_late: bool


class ResidenceRead(Strict):
    uid: uuid.UUID
    person_uid: uuid.UUID
    house_code: str
    since: date
    until: date | None
    kind: ResidenceKind
    is_primary: bool
    declared_by: DeclaredBy
    declared_at: ChinaTime
    deregistered_at: ChinaTime | None
    ended_by: uuid.UUID | None = Field(
        default=None,
        description="the residence whose registration ended this one (a move, or an arrival "
        "with ends_previous); none for a departure deregistered on its own",
    )
    declaration: DeclarationRead | None


class VoidedResidenceRead(ResidenceRead):
    """A residence as it was when voided, with the reason, who and when."""

    void_reason: str
    voided_by: str
    voided_at: ChinaTime
    reopened: ResidenceRead | None = None


class PersonRead(Strict):
    """A person as every role with personal access sees them: identifiers masked."""

    uid: uuid.UUID
    name: str
    sex: Literal["M", "F"] | None
    age: int | None
    id_number: str | None
    phone: str | None
    category: PersonCategory
    hukou_division_code: str | None
    hukou_address: str | None
    occupation: str | None
    education: str | None
    is_key_person: bool
    residences: list[ResidenceRead]


class RevealRead(Strict):
    """Full identifiers, returned only by a reveal that names its reason (and is audited)."""

    uid: uuid.UUID
    name: str
    id_number: str | None
    phone: str | None
    birth_date: date | None


class MoveRead(Strict):
    ended: ResidenceRead | None
    """The primary residence the move ended, when its house is in the caller's scope."""
    started: ResidenceRead
    ended_elsewhere: bool = False
    """A primary residence in a house outside the caller's scope was ended (not shown)."""


class Occupant(Strict):
    uid: uuid.UUID
    name: str
    sex: Literal["M", "F"] | None
    age: int | None
    id_number: str | None
    phone: str | None
    category: PersonCategory
    is_key_person: bool
    kind: ResidenceKind
    since: date
    until: date | None
    is_primary: bool
    declaration_due_on: date | None = Field(
        default=None,
        description="the day the landlord's declaration of this tenant (出租屋业主申报) is or "
        "was due, while it is not made; null when none is owed (not a tenant who moved into a "
        "let house, or declared already)",
    )


class HouseOccupants(Strict):
    code: str
    unit: int
    floor: int | None
    room: str | None
    use: str
    is_rented: bool
    occupants: list[Occupant]


class BuildingOccupants(Strict):
    code: str
    houses: list[HouseOccupants]


class OccupantsPage(Strict):
    """Occupants on ``at`` grouped building → house → people, in house-code order; pass ``next``
    as ``after`` for the following page (``null`` on the last)."""

    at: date
    returned: int = Field(description="people on this page")
    next: str | None
    buildings: list[BuildingOccupants]


class OccupantSearch(Strict):
    """Occupants inside a GeoJSON polygon (RFC 7946: longitude/latitude, EPSG:4326 unless
    ``crs`` names another) or inside a grid, on ``at`` (default today)."""

    polygon: dict[str, Any] | None = Field(
        default=None, description="a GeoJSON Polygon or MultiPolygon geometry"
    )
    grid: Annotated[str | None, Field(pattern=r"^[0-9]{15}$")] = None
    crs: Annotated[str | None, Field(max_length=20)] = None
    at: IsoDate | None = None
    purpose: Purpose | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    after: Annotated[str | None, Field(max_length=80)] = None


class OrganizationCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200), NotBlank]
    credit_code: Annotated[str, Field(min_length=1, max_length=40)]
    kind: Annotated[str | None, Field(max_length=50), OneLine] = None
    house_code: HouseCodeText


class OrganizationMove(Strict):
    house_code: HouseCodeText = Field(description="the live house it is at from now on")


class EmployeeCreate(Strict):
    person_uid: uuid.UUID
    since: IsoDate
    until: IsoDate | None = None
    position: Annotated[str | None, Field(max_length=100), OneLine] = None


class EmploymentEnd(Strict):
    until: IsoDate = Field(description="the day the person left (the period ends before it)")


class EmployeeRead(Strict):
    uid: uuid.UUID
    person_uid: uuid.UUID
    name: str
    id_number: str | None
    since: date
    until: date | None
    position: str | None


class OrganizationRead(Strict):
    uid: uuid.UUID
    name: str
    credit_code: str | None
    kind: str | None
    house_code: str | None
    employees: list[EmployeeRead]


class OrganizationSummary(Strict):
    uid: uuid.UUID
    name: str
    credit_code: str | None
    kind: str | None
    house_code: str | None
    employees: int = Field(description="people it employs on ``at``")


class OrganizationPage(Strict):
    items: list[OrganizationSummary]
    next_after: uuid.UUID | None = Field(description="pass as ``after`` for the next page")
