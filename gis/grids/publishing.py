"""Publishing a draft plan: check every hard rule again, then switch the live grids atomically.

The check covers what the impact covers (:func:`checked_communities`): a plan the impact
refuses is refused here too, with the problems.

The switch (``gis.grids.switch``) happens in the caller's transaction: the old versions close on
the effective date and the new ones open on it, together, or nothing happens. A plan whose live
grids changed since it was drafted (another plan published, an import) is refused: its diff and
impact would be wrong.
"""

from __future__ import annotations

from datetime import date

import shapely
from sqlalchemy import func
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.audit.service import record_audit
from gis.buildings.models import LineageEvent
from gis.clock import checked_date, today_in_china
from gis.errors import Conflict, InvalidInput, TopologyViolation
from gis.grids import plan_queries, queries
from gis.grids.classes import ClassConfig
from gis.grids.impact import predict_classes
from gis.grids.models import GridPlan, PlanStatus
from gis.grids.plan_problems import communities_reached, shape_of
from gis.grids.plans import get_plan, plan_communities
from gis.grids.schemas import INDICATOR_NAMES
from gis.grids.switch import NewGrid, SwitchResult, as_polygon, switch_grids
from gis.grids.validation import validate_shapes


def checked_communities(session: Session, plan: GridPlan, communities: list[str]) -> list[str]:
    """The communities publishing checks, as the impact does: the plan's, and any outside its
    division that a grid of it reaches into (:func:`gis.grids.plan_problems.communities_reached`:
    that one has no grid of the plan, an error)."""
    return sorted(set(communities) | communities_reached(session, plan))


def publish_plan(
    session: Session,
    *,
    plan_id: int,
    effective: date,
    scope: Scope,
    config: ClassConfig,
    today: date | None = None,
) -> SwitchResult:
    """Validate the plan against every hard rule and make it the live grids from ``effective``.

    Raises :class:`TopologyViolation` (with the problems as GeoJSON) when a rule is broken,
    :class:`Conflict` when the live grids changed since the plan was drafted.
    """
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    checked_date(effective, field="effective_date")
    today = today or today_in_china()
    if effective < today:
        raise InvalidInput("the effective date cannot be in the past", field="effective_date")
    communities = plan_communities(session, plan)
    # before the live grids are compared with the plan's base: a plan published at the same
    # moment (or an import) must be seen, not overwritten
    queries.lock_districts_of(session, communities=communities)
    rows = plan_queries.select_plan_grids(session, plan_id=plan.id)
    report = validate_shapes(
        session,
        grids=[shape_of(row) for row in rows],
        communities=checked_communities(session, plan, communities),
    )
    if not report.ok:
        first = report.errors[0]
        raise TopologyViolation(
            f"plan {plan.id} breaks {len(report.errors)} hard rule(s), the first: "
            f"{first.message} at {first.location}",
            problems=report.feature_collection(),
        )
    live = queries.select_grid_rows(session, communities=communities, open_only=True)
    current = {row.code: row.version for row in live}
    if current != (plan.base_versions or {}):
        changed = sorted(set(current.items()) ^ set((plan.base_versions or {}).items()))
        raise Conflict(
            f"the live grids changed since plan {plan.id} was drafted ({changed[0][0]}): "
            "draft a new plan",
            field="plan_id",
        )
    predicted = predict_classes(plan, rows, config)
    grids = [
        NewGrid(
            code=row.code,
            community_code=row.community_code,
            geom=as_polygon(shapely.from_wkb(row.wkb)),
            name=row.name,
            parents=tuple(row.parent_codes),
            event=LineageEvent(row.lineage_event) if row.lineage_event else None,
            grid_class=result.grid_class,
            explanation=result.explanation,
            indicators={
                k: v
                for k, v in row.stats.items()
                if k in (*INDICATOR_NAMES, "floating_share", "households_estimated")
            },
        )
        for row, result in zip(rows, predicted, strict=True)
    ]
    result = switch_grids(
        session,
        communities=communities,
        grids=grids,
        effective=effective,
        plan_id=plan.id,
        today=today,
    )
    plan.status = PlanStatus.PUBLISHED
    plan.effective_date = effective
    plan.published_at = func.now()
    plan.published_by = scope.user_name
    session.flush()
    record_audit(
        session,
        actor=scope.actor,
        action="plans.publish",
        target_codes=[str(plan.id), *result.added, *result.changed, *result.retired],
        row_count=len(rows),
    )
    return result
