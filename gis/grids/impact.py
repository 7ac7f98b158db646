"""The impact of a draft plan: per grid households, residents, floating share, deviation from
the target band, compactness, contiguity, predicted class and officers; topology problems; and
the difference from the live grids. Read from the plan's caches, so it answers quickly.

Planners get aggregates only: counts from 1 to 4 are suppressed, and so is anything derived from
them (the floating share, the deviation, the numbers in warnings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import Field
from sqlalchemy.orm import Session

from gis.access.masking import shown_part, shown_total, suppress_small_count
from gis.access.schemas import AggregateModel
from gis.access.scope import Scope
from gis.grids import plan_queries
from gis.grids.class_arrays import ArrayClasses, classify_arrays, columns_of
from gis.grids.classes import LEVELS, ClassConfig, ClassResult, classify, officers_for
from gis.grids.models import GridClass, GridPlan
from gis.grids.plans import get_plan, ref
from gis.grids.schemas import Indicators
from gis.users.models import Role

MOVED = ("moved_buildings", "moved_households", "moved_residents")
COMPACTNESS_FLOOR = 0.2
FRAGMENT_SHARE = 0.35


class ImpactGrid(AggregateModel):
    """One grid of a plan and what it would be."""

    id: int
    ref: str
    code: str | None
    status: str = Field(description="unchanged, changed or added (a code is issued at publish)")
    community_code: str
    grid_name: str | None
    parent_codes: list[str]
    households: int | None
    households_estimated: bool
    resident_count: int | None
    floating_count: int | None
    floating_share: float | None
    deviation: int | None = Field(description="households below (−) or above (+) the target band")
    polsby_popper: float
    contiguous: bool
    area_m2: float
    predicted_class: str
    class_reasons: list[str]
    officers_needed: int
    moved_buildings: int | None
    moved_households: int | None
    moved_resident_count: int | None
    warnings: list[str]


class ImpactDiff(AggregateModel):
    """The plan against the live grids."""

    added: list[str]
    changed: list[str]
    retired: list[str]
    unchanged: int
    buildings_moved: int | None
    households_moved: int | None
    resident_count_moved: int | None


class PlanImpact(AggregateModel):
    plan_id: int
    plan_name: str
    status: str
    division_code: str
    target_households: list[int]
    grids: list[ImpactGrid]
    diff: ImpactDiff
    problems: dict[str, Any]
    errors: int
    warnings: int
    publishable: bool
    notes: list[str]


def previous_classes(plan: GridPlan, codes: Sequence[str | None]) -> list[GridClass | None]:
    """The live classes of the plan's grids (by code; None for new grids), then those of the
    district's other grids (``other_stats`` order)."""
    context = plan.context or {}
    classes: dict[str, str | None] = context.get("classes", {})
    others = list(context.get("others", {}).values())
    previous: list[GridClass | None] = [
        GridClass(cls) if code is not None and (cls := classes.get(code)) else None
        for code in codes
    ]
    return previous + [GridClass(o["grid_class"]) if o.get("grid_class") else None for o in others]


def previous_levels(plan: GridPlan, codes: Sequence[str | None]) -> npt.NDArray[np.int64]:
    """:func:`previous_classes` as levels (-1 for none), without an object per grid."""
    context = plan.context or {}
    level = {str(cls): lvl for cls, lvl in LEVELS.items()}
    classes: dict[str, str | None] = context.get("classes", {})
    others = [o.get("grid_class") for o in context.get("others", {}).values()]
    found = [classes.get(code) if code is not None else None for code in codes] + others
    return np.fromiter(
        (level.get(cls, -1) if cls else -1 for cls in found), dtype=np.int64, count=len(found)
    )


def other_stats(plan: GridPlan) -> list[dict[str, Any]]:
    """Indicators of the district's live grids outside the plan, ranked with the plan's."""
    return [item["indicators"] for item in (plan.context or {}).get("others", {}).values()]


def _background(
    plan: GridPlan, rows: list[plan_queries.PlanGridRow]
) -> tuple[list[dict[str, Any]], list[GridClass | None]]:
    """Stats and previous classes of the plan's grids, then of the district's other grids."""
    stats = [row.stats for row in rows] + other_stats(plan)
    return stats, previous_classes(plan, [row.code for row in rows])


def predict_classes(
    plan: GridPlan, rows: list[plan_queries.PlanGridRow], config: ClassConfig
) -> list[ClassResult]:
    """Classes the plan's grids would get, explained, ranked against the district's other
    live grids (for publishing)."""
    stats, previous = _background(plan, rows)
    measured = [Indicators.from_dict(values) for values in stats]
    return classify(measured, previous=previous, config=config)[: len(rows)]


def predict_levels(
    plan: GridPlan, rows: list[plan_queries.PlanGridRow], config: ClassConfig
) -> ArrayClasses:
    """The same classes, vectorised and unworded (for the impact of thousands of grids)."""
    stats, previous = _background(plan, rows)
    return classify_arrays(columns_of(stats), previous=previous, config=config)


def plan_impact(session: Session, *, plan_id: int, scope: Scope, config: ClassConfig) -> PlanImpact:
    plan = get_plan(session, plan_id=plan_id, scope=scope)
    rows = plan_queries.select_plan_grid_stats(session, plan_id=plan.id)
    predicted = predict_levels(plan, rows, config)
    hide = scope.role is Role.PLANNER
    band = (plan.target_min_households, plan.target_max_households)
    grids = [
        impact_row(row, predicted, index, config, hide=hide, band=band)
        for index, row in enumerate(rows)
    ]
    problems, errors = problems_of(plan)
    return PlanImpact(
        plan_id=plan.id,
        plan_name=plan.name,
        status=str(plan.status),
        division_code=plan.division_code,
        target_households=list(band),
        grids=grids,
        diff=diff_of(
            plan,
            refs=[ref(row) for row in rows],
            codes=[row.code for row in rows],
            is_changed=[row.is_changed for row in rows],
            moved={key: [int(row.stats.get(key, 0)) for row in rows] for key in MOVED},
            hide=hide,
        ),
        problems=problems,
        errors=errors,
        warnings=len(problems["features"]) - errors,
        publishable=errors == 0 and str(plan.status) == "draft",
        notes=notes_of(estimated=any(row.stats.get("households_estimated") for row in rows)),
    )


def diff_of(
    plan: GridPlan,
    *,
    refs: Sequence[str],
    codes: Sequence[str | None],
    is_changed: Sequence[bool],
    moved: dict[str, Sequence[int]],
    hide: bool,
) -> ImpactDiff:
    """The plan against the live grids, from its grids' refs, codes and changed flags and, for
    each of :data:`MOVED`, every grid's figure (summed; for planners the sum is hidden when it
    would give a grid's suppressed figure away)."""
    present = {code for code in codes if code is not None}

    def total(key: str) -> int | None:
        values = [int(value) for value in moved[key]]
        if not hide:
            return sum(values)
        return shown_total(sum(values), [suppress_small_count(value) for value in values])

    return ImpactDiff(
        added=[r for r, code in zip(refs, codes, strict=True) if code is None],
        changed=sorted(
            code for code, c in zip(codes, is_changed, strict=True) if code is not None and c
        ),
        retired=sorted(set(plan.base_versions or {}) - present),
        unchanged=sum(
            1 for code, c in zip(codes, is_changed, strict=True) if code is not None and not c
        ),
        buildings_moved=total("moved_buildings"),
        households_moved=total("moved_households"),
        resident_count_moved=total("moved_residents"),
    )


def problems_of(plan: GridPlan) -> tuple[dict[str, Any], int]:
    """The plan's topology problems as a FeatureCollection, and how many are errors."""
    features = [f for items in (plan.problems or {}).values() for f in items]
    errors = sum(1 for f in features if f["properties"]["severity"] == "error")
    return {"type": "FeatureCollection", "features": features}, errors


def notes_of(*, estimated: bool) -> list[str]:
    notes = [
        "draft grids count no open events (events belong to the live grids): predicted "
        "classes rank their event rate as 0"
    ]
    if estimated:
        notes.append("no residences are registered yet: households are estimated from dwellings")
    return notes


def _count(value: int, hide: bool) -> int | None:
    return suppress_small_count(value) if hide else value


def impact_row(
    row: plan_queries.PlanGridRow,
    predicted: ArrayClasses,
    index: int,
    config: ClassConfig,
    *,
    hide: bool,
    band: tuple[int, int],
) -> ImpactGrid:
    stats = row.stats
    low, high = band
    households = _count(int(stats.get("households", 0)), hide)
    residents = _count(int(stats.get("resident_count", 0)), hide)
    floating_count = int(stats.get("floating_count", 0))
    floating = (
        shown_part(floating_count, int(stats.get("resident_count", 0))) if hide else floating_count
    )
    share = None if floating is None else stats.get("floating_share", 0.0)
    deviation = None
    if households is not None:
        deviation = households - low if households < low else max(0, households - high)
    status = "added" if row.code is None else "changed" if row.is_changed else "unchanged"
    compactness = float(stats.get("polsby_popper", 0.0))
    grid_class = predicted.grid_class(index)
    return ImpactGrid(
        id=row.id,
        ref=ref(row),
        code=row.code,
        status=status,
        community_code=row.community_code,
        grid_name=row.name,
        parent_codes=row.parent_codes,
        households=households,
        households_estimated=bool(stats.get("households_estimated", False)),
        resident_count=residents,
        floating_count=floating,
        floating_share=share,
        deviation=deviation,
        polsby_popper=compactness,
        contiguous=int(stats.get("parts", 1)) == 1,
        area_m2=float(stats.get("area_m2", 0.0)),
        predicted_class=str(grid_class),
        class_reasons=[*predicted.deciding_of(index), *predicted.triggers_of(index)],
        officers_needed=_officers(stats, grid_class, config),
        moved_buildings=_count(int(stats.get("moved_buildings", 0)), hide),
        moved_households=_count(int(stats.get("moved_households", 0)), hide),
        moved_resident_count=_count(int(stats.get("moved_residents", 0)), hide),
        warnings=_warnings(households, deviation, compactness, band),
    )


def _officers(stats: dict[str, Any], grid_class: GridClass, config: ClassConfig) -> int:
    return officers_for(
        floating=int(stats.get("floating_count", 0)),
        residents=int(stats.get("resident_count", 0)),
        grid_class=str(grid_class),
        config=config,
    )


def _warnings(
    households: int | None, deviation: int | None, compactness: float, band: tuple[int, int]
) -> list[str]:
    low, high = band
    warnings = []
    if deviation is not None and deviation < 0:
        warnings.append(f"{households} households, below the target band {low}–{high}")
    elif deviation is not None and deviation > 0:
        warnings.append(f"{households} households, above the target band {low}–{high}")
    elif households is None:
        warnings.append(f"fewer than 5 households, below the target band {low}–{high}")
    if households is None or households < FRAGMENT_SHARE * (low + high) / 2:
        warnings.append("a fragment (below 35% of the target): merge it into a neighbour")
    if compactness < COMPACTNESS_FLOOR:
        warnings.append(f"not compact: Polsby-Popper {compactness:.2f} < {COMPACTNESS_FLOOR}")
    return warnings
