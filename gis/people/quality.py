"""Data quality per grid and division (the "四率" of the source reports), and overdue work.

=======================  ==================================================  =========
rate                     of what                                             threshold
=======================  ==================================================  =========
registration coverage    let houses (``is_rented``) with a current resident  ≥ 95%
accuracy                 current residents without a problem: a missing or   ≥ 95%
                         duplicated ID number, an impossible date (birth in
                         the future, over 120 years ago, or after moving
                         in), or living in a retired building or house
late deregistration      departures of the last year whose 7 days are over,  ≤ 10%
                         not deregistered within them (or never)
residence permits        non-hukou residents in the city 6 months or more    ≥ 85%
                         without a break (or holding a permit) who hold a
                         valid permit
=======================  ==================================================  =========

Residents are people: one with two current residences in an area counts once.

Invalid ID numbers (wrong check character, impossible date, unknown region) are refused at the
door, so among stored people an *invalid* ID number can only be a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from gis.access.masking import (
    rate_gives_away_small_count,
    shown_share,
    shown_total,
    suppress_small_count,
)
from gis.access.scope import Scope, division_prefix, requested_division_prefix
from gis.divisions.service import require_known_division
from gis.errors import NotFound
from gis.people import quality_queries as sql
from gis.people.occupancy_queries import select_grid_in_scope
from gis.people.periods import DEREGISTRATION_DAYS
from gis.people.schemas_quality import (
    OverdueDeclaration,
    OverdueDeparture,
    OverdueList,
    QualityRate,
    QualityReport,
)
from gis.users.models import Role

REGISTRATION_MIN = 0.95
ACCURACY_MIN = 0.95
LATE_DEREGISTRATION_MAX = 0.10
PERMITS_MIN = 0.85


def _rate(
    numerator: int | None, denominator: int, *, threshold: float, at_least: bool, suppress: bool
) -> QualityRate:
    # for planners a rate of small counts is no rate: with the denominator beside it, it would
    # give the numerator away, or what is left of the denominator (the people with a problem)
    hidden = suppress and (numerator is None or rate_gives_away_small_count(numerator, denominator))
    value = None if denominator == 0 or numerator is None or hidden else numerator / denominator
    meets = None if value is None else (value >= threshold if at_least else value <= threshold)
    return QualityRate(
        value=round(value, 4) if value is not None else None,
        threshold=threshold,
        meets=meets,
        numerator=None if hidden else numerator,
        denominator=suppress_small_count(denominator) if suppress else denominator,
    )


def report_from_counts(
    row: dict[str, Any], *, kind: str, on: date, suppress: bool
) -> QualityReport:
    """The four rates of one area from its counts; small counts suppressed for planners."""
    residents = int(row["residents"])
    shown = suppress_small_count if suppress else (lambda n: n)
    problems = [int(row[key]) for key in ("missing_id", "duplicate_id", "impossible_dates",
                                          "in_retired")]  # fmt: skip
    accurate: int | None = residents - int(row["with_problems"])
    # the people with a problem (what the accuracy rate leaves) minus the kinds of problem
    # shown beside it would pin a kind hidden as 1 to 4 (510 - 501 - 7 shown = 2 duplicates)
    if suppress and shown_total(int(row["with_problems"]), [shown(n) for n in problems]) is None:
        accurate = None
    return QualityReport(
        area_kind=kind,
        area_code=str(row["area"]),
        on=on,
        resident_count=shown(residents),
        floating_share=shown_share(int(row["floating"]), residents, suppress=suppress),
        registration=_rate(
            int(row["rented_registered"]), int(row["rented_houses"]),
            threshold=REGISTRATION_MIN, at_least=True, suppress=suppress,
        ),
        accuracy=_rate(
            accurate, residents,
            threshold=ACCURACY_MIN, at_least=True, suppress=suppress,
        ),
        late_deregistration=_rate(
            int(row["late_departures"]), int(row["departures"]),
            threshold=LATE_DEREGISTRATION_MAX, at_least=False, suppress=suppress,
        ),
        permits=_rate(
            int(row.get("permit_held", 0)), int(row.get("permit_eligible", 0)),
            threshold=PERMITS_MIN, at_least=True, suppress=suppress,
        ),
        missing_ids=shown(int(row["missing_id"])),
        duplicate_ids=shown(int(row["duplicate_id"])),
        impossible_dates=shown(int(row["impossible_dates"])),
        in_retired_buildings=shown(int(row["in_retired"])),
    )  # fmt: skip


_COUNT_FIELDS = (
    "resident_count", "missing_ids", "duplicate_ids", "impossible_dates", "in_retired_buildings"
)  # fmt: skip
_RATE_FIELDS = ("registration", "accuracy", "late_deregistration", "permits")


def summed_report(
    row: dict[str, Any], parts: Sequence[QualityReport | None], *, kind: str, on: date
) -> QualityReport:
    """A planner's report of the counts summed over areas whose own reports (``parts``; ``None``
    for an area without counts) are shown beside it: each figure as :func:`report_from_counts`
    suppresses it, and hidden too when the sum minus the parts shown would give a suppressed
    part away (:func:`~gis.access.masking.shown_total`)."""
    exact = report_from_counts(row, kind=kind, on=on, suppress=False)
    report = report_from_counts(row, kind=kind, on=on, suppress=True)
    changes: dict[str, Any] = {}
    for name in _COUNT_FIELDS:
        values = [getattr(part, name) if part else 0 for part in parts]
        if shown_total(getattr(exact, name), values) is None:
            changes[name] = None
    floating = [_floating(part) if part else 0 for part in parts]
    if shown_total(int(row["floating"]), floating) is None:
        changes["floating_share"] = None
    for name in _RATE_FIELDS:
        rate, whole = getattr(report, name), getattr(exact, name)
        numerators = [getattr(part, name).numerator if part else 0 for part in parts]
        denominators = [getattr(part, name).denominator if part else 0 for part in parts]
        numerator = shown_total(whole.numerator, numerators)
        denominator = shown_total(whole.denominator, denominators)
        if numerator is None or denominator is None:
            changes[name] = rate.model_copy(
                update={"value": None, "meets": None, "numerator": None, "denominator": denominator}
            )
    return report.model_copy(update=changes)


def _floating(report: QualityReport) -> int | None:
    """The floating residents a report shows (its share of its residents), if it shows them."""
    if report.resident_count == 0:
        return 0
    if report.floating_share is None or report.resident_count is None:
        return None
    return round(report.floating_share * report.resident_count)


def _empty(area: str) -> dict[str, Any]:
    keys = (
        "rented_houses", "rented_registered", "residents", "floating", "missing_id",
        "duplicate_id", "impossible_dates", "in_retired", "with_problems", "departures",
        "late_departures", "permit_eligible", "permit_held",
    )  # fmt: skip
    return {"area": area} | dict.fromkeys(keys, 0)


def grid_quality(session: Session, *, scope: Scope, code: str, on: date) -> QualityReport:
    """The four rates of one grid (its version valid on ``on``)."""
    scope.require_aggregates()
    # grid outlines and suppressed counts are not personal: planners may ask about any grid
    grid_scope = Scope.system() if scope.role in (Role.ADMIN, Role.PLANNER) else scope
    if select_grid_in_scope(session, code=code, on=on, scope=grid_scope) is None:
        raise NotFound(f"no grid {code} on {on}", field="grid")
    rows = sql.select_rates(session, on=on, grid_codes=[code])
    row = rows[0] if rows else _empty(code)
    return report_from_counts(row, kind="grid", on=on, suppress=scope.role is Role.PLANNER)


def division_quality(session: Session, *, scope: Scope, code: str, on: date) -> QualityReport:
    """The four rates of a division (a 12-digit code, any level)."""
    scope.require_aggregates()
    prefix = requested_division_prefix(code)
    if scope.role is Role.OFFICER:
        raise NotFound(f"no division {code} in your grids", field="division")
    if scope.role is Role.POLICE and not prefix.startswith(scope.division_prefix or "\x00"):
        raise NotFound(f"no division {code} in your jurisdiction", field="division")
    require_known_division(session, code)
    rows = sql.select_rates(session, on=on, division_prefix=prefix)
    row = rows[0] if rows else _empty(prefix)
    row["area"] = code
    return report_from_counts(row, kind="division", on=on, suppress=scope.role is Role.PLANNER)


def all_quality(session: Session, *, on: date, division: str | None = None) -> list[QualityReport]:
    """Every current grid and every community (under ``division`` if given): the CLI's report."""
    rows = {str(row["area"]): row for row in sql.select_rates(session, on=on)}
    every = sql.current_grid_codes(session, on=on, scope=Scope.system("quality"))
    grids = [
        # a grid without buildings has no row of counts: it is listed with zeros all the same
        report_from_counts(rows.get(code) or _empty(code), kind="grid", on=on, suppress=False)
        for code in every
        if division is None or code.startswith(division_prefix(division))
    ]
    prefix = division_prefix(division) if division else ""
    communities = [
        report_from_counts(row, kind="community", on=on, suppress=False)
        for row in sql.select_rates(session, on=on, division_prefix=prefix, by_community=True)
    ]
    return grids + communities


def current_grids(session: Session, *, scope: Scope, on: date) -> list[str]:
    """Codes of the grids valid on ``on`` that the caller may see."""
    return sql.current_grid_codes(session, on=on, scope=scope)


def overdue(session: Session, *, scope: Scope, code: str, on: date) -> OverdueList:
    """Declarations past their due date and departures not deregistered within 7 days, in a
    grid in scope."""
    scope.require_personal()
    if select_grid_in_scope(session, code=code, on=on, scope=scope) is None:
        raise NotFound(f"no grid {code} on {on}", field="code")
    declarations = sql.select_overdue_declarations(session, grid_code=code, on=on, scope=scope)
    departures = sql.select_overdue_departures(
        session, grid_code=code, on=on, scope=scope, grace_days=DEREGISTRATION_DAYS
    )
    pending = sql.select_overdue_departures(
        session, grid_code=code, on=on, scope=scope, grace_days=DEREGISTRATION_DAYS, pending=True
    )
    return OverdueList(
        grid_code=code,
        on=on,
        declarations=[OverdueDeclaration(**row) for row in declarations],
        departures=[OverdueDeparture(**row) for row in departures],
        pending_departures=[OverdueDeparture(**row) for row in pending],
    )


@dataclass(frozen=True)
class QualitySummary:
    """How many areas meet each threshold (the CLI's last lines)."""

    areas: int
    failing: dict[str, int]


def summarise(reports: list[QualityReport]) -> QualitySummary:
    failing = {"registration": 0, "accuracy": 0, "late_deregistration": 0, "permits": 0}
    for report in reports:
        for name in failing:
            if getattr(report, name).meets is False:
                failing[name] += 1
    return QualitySummary(areas=len(reports), failing=failing)
