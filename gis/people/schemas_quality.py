"""Shapes of data quality (aggregates, readable by planners) and of overdue work (personal)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from gis.access.schemas import AggregateModel
from gis.people.schemas import Strict


class QualityRate(AggregateModel):
    """A rate against its threshold; ``value`` and ``meets`` are null when nothing is counted
    (no resident due a residence permit, say). Counts 1-4 are null for planners."""

    value: float | None
    threshold: float
    meets: bool | None
    numerator: int | None
    denominator: int | None


class QualityReport(AggregateModel):
    """The four rates of a grid, a division or a community on a date."""

    area_kind: str
    area_code: str
    on: date
    resident_count: int | None
    floating_share: float | None
    registration: QualityRate
    accuracy: QualityRate
    late_deregistration: QualityRate
    permits: QualityRate
    missing_ids: int | None
    duplicate_ids: int | None
    impossible_dates: int | None
    in_retired_buildings: int | None


class OverdueDeclaration(Strict):
    house_code: str
    residence_uid: uuid.UUID
    person_uid: uuid.UUID
    name: str
    id_number: str | None
    moved_in: date
    due_on: date
    days_late: int


class OverdueDeparture(Strict):
    house_code: str
    residence_uid: uuid.UUID
    person_uid: uuid.UUID
    name: str
    id_number: str | None
    moved_out: date
    due_on: date
    days_late: int


class OverdueList(Strict):
    """Late work in a grid: declarations past due, departures not deregistered in 7 days; and
    the departures still within their 7 days (no longer occupants, to deregister soon)."""

    grid_code: str
    on: date
    declarations: list[OverdueDeclaration]
    departures: list[OverdueDeparture]
    pending_departures: list[OverdueDeparture] = Field(
        default_factory=list,
        description="residences whose end has passed, not yet deregistered, still within the 7 "
        "days (days_late 0 or less: -2 is due in 2 days)",
    )
