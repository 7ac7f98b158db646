"""Draft plans: a copy of the live grids of a division, edited freely, with cached impact.

A plan caches what its impact needs, so that an edit recomputes only what it touched:
``plan_grids.stats`` (indicators, moved counts, compactness) of the grids an edit changed, and
``grid_plans.problems`` (topology problems, by community) of the communities it touched.
``grid_plans.context`` holds the classes of the plan's live grids (``classes``) and the indicators
and classes of the district's other live grids (``others``), against which classes are predicted;
``plan_buildings`` the buildings of the plan's area with their counts, from which edits re-sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import shapely
from sqlalchemy import func
from sqlalchemy.orm import Session

from gis.access.scope import Scope, division_prefix
from gis.audit.service import record_audit
from gis.clock import today_in_china
from gis.divisions.models import DivisionLevel
from gis.errors import Conflict, InvalidInput, NotFound
from gis.grids import area_queries, plan_queries, queries, snapshot_queries
from gis.grids.indicators import measure_live_grids, measure_plan_grids
from gis.grids.measure import area_m2, polsby_popper
from gis.grids.models import GridPlan, PlanStatus
from gis.grids.plan_problems import EditArea, refresh_problems
from gis.users.models import Role

PLAN_ROLES = (Role.PLANNER, Role.ADMIN)
_REFRESHED = "gis.grids.refreshed"
"""``session.info`` key: the plan grids whose stats were refreshed since last taken."""
PLAN_LEVELS = (DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP, DivisionLevel.VILLAGE)
MAX_TARGET_HOUSEHOLDS = 200_000
"""The largest household count a plan's target band may name: far above any real grid (a few
hundred households) and above the band ``grids suggest`` drafts for its largest target (100,000
× 1.25), far below the plan table's integer columns."""


def get_plan(
    session: Session, *, plan_id: int, scope: Scope, for_update: bool = False, draft: bool = False
) -> GridPlan:
    """A plan (planners and admins only); with ``draft`` it must still be editable."""
    scope.require_role(*PLAN_ROLES)
    plan = plan_queries.select_plan(session, plan_id=plan_id, for_update=for_update)
    if plan is None:
        raise NotFound("no plan has this id", field="plan_id")
    if draft and plan.status is not PlanStatus.DRAFT:
        raise Conflict(f"plan {plan.id} is {plan.status}: only a draft can change", field="plan_id")
    return plan


def list_plans(
    session: Session, *, scope: Scope, before_id: int | None = None, limit: int = 100
) -> list[GridPlan]:
    scope.require_role(*PLAN_ROLES)
    return plan_queries.select_plans(session, before_id=before_id, limit=limit)


def plan_communities(session: Session, plan: GridPlan) -> list[str]:
    """The communities a plan covers: those under its division that have a boundary, and any
    its grids name."""
    prefix = division_prefix(plan.division_code)
    with_boundary = area_queries.select_communities_under(
        session, prefix=prefix, with_boundary=True
    )
    named = {row.community_code for row in _rows(session, plan, with_geometry=False)}
    return sorted(set(with_boundary) | named)


def create_plan(
    session: Session,
    *,
    division_code: str,
    scope: Scope,
    name: str | None = None,
    target_households: tuple[int, int] = (300, 500),
    on: date | None = None,
    refresh: bool = True,
) -> GridPlan:
    """A draft copying the open live grids of a county, township or community (``refresh``:
    measure its grids and check its problems now; a caller that replaces the grids and
    refreshes the plan itself says False)."""
    scope.require_role(*PLAN_ROLES)
    division = area_queries.select_division(session, code=division_code)
    if division is None:
        raise NotFound("no division has this code", field="division_code")
    if division.level not in PLAN_LEVELS:
        raise InvalidInput(
            "a plan covers a county (district), a township or a community", field="division_code"
        )
    low, high = target_households
    if not 0 < low < high <= MAX_TARGET_HOUSEHOLDS:
        raise InvalidInput(
            f"the target band needs 0 < min < max ≤ {MAX_TARGET_HOUSEHOLDS:,}",
            field="target_households",
        )
    prefix = division_prefix(division.code)
    communities = area_queries.select_communities_under(session, prefix=prefix)
    plan = GridPlan(
        name=(name or f"{division.name} {today_in_china().isoformat()}")[:100],
        division_code=division.code,
        district_code=division.code[:6],
        status=PlanStatus.DRAFT,
        created_by=scope.user_name,
        target_min_households=low,
        target_max_households=high,
    )
    session.add(plan)
    session.flush()
    ids = plan_queries.copy_live_grids(session, plan_id=plan.id, communities=communities)
    live = queries.select_grid_rows(session, communities=communities, open_only=True)
    plan.base_versions = {row.code: row.version for row in live}
    plan.context = {
        "others": _context(session, plan, exclude=set(communities), on=on or today_in_china()),
        "classes": {row.code: row.grid_class for row in live},
    }
    session.flush()
    snapshot_queries.snapshot_buildings(
        session, plan_id=plan.id, communities=communities, on=on or today_in_china()
    )
    if refresh:
        refresh_plan(
            session, plan=plan, grid_ids=ids, communities=plan_communities(session, plan), on=on
        )
    record_audit(
        session,
        actor=scope.actor,
        action="plans.create",
        target_codes=[division.code],
        row_count=len(ids),
    )
    return plan


def discard_plan(session: Session, *, plan_id: int, scope: Scope) -> GridPlan:
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    plan.status = PlanStatus.DISCARDED
    session.flush()
    record_audit(session, actor=scope.actor, action="plans.discard", target_codes=[str(plan.id)])
    return plan


def _context(session: Session, plan: GridPlan, *, exclude: set[str], on: date) -> dict[str, Any]:
    """Indicators and classes of the other live grids of the plan's district (stored ones when
    classified, measured otherwise)."""
    rows = [
        row
        for row in queries.select_grid_rows(session, on=on, prefix=plan.district_code)
        if row.community_code not in exclude
    ]
    missing = [(row.uid, row.community_code) for row in rows if not row.indicators]
    measured = measure_live_grids(session, grids=missing, on=on) if missing else {}
    return {
        row.code: {
            "grid_class": row.grid_class,
            "indicators": row.indicators or measured[str(row.uid)].as_dict(),
        }
        for row in rows
    }


def _rows(session: Session, plan: GridPlan, **kwargs: Any) -> list[plan_queries.PlanGridRow]:
    return plan_queries.select_plan_grids(session, plan_id=plan.id, **kwargs)


def refresh_plan(
    session: Session,
    *,
    plan: GridPlan,
    grid_ids: Iterable[int],
    communities: Iterable[str],
    on: date | None = None,
    geometries: Mapping[int, Any] | None = None,
    edited: EditArea | None = None,
) -> None:
    """Recompute the cached stats of ``grid_ids`` and the problems of ``communities``
    (``geometries``: the polygons of ``grid_ids`` when the caller has them, as stored;
    ``edited``: what an edit changed, so that problems are checked again near it only)."""
    ids = sorted(set(grid_ids))
    on = on or today_in_china()
    geoms: dict[int, Any] = {}
    if geometries is not None and set(geometries) == set(ids):
        geoms = dict(geometries)
    elif ids:
        geoms = {row.id: shapely.from_wkb(row.wkb) for row in _rows(session, plan, ids=ids)}
    plan_queries.refresh_changed(session, ids=sorted(geoms))
    measured = measure_plan_grids(session, ids=ids, district_code=plan.district_code)
    stats = {}
    for grid_id, geom in geoms.items():
        parts = len(shapely.get_parts(geom))
        stats[grid_id] = {
            **measured[grid_id].as_dict(),
            "polsby_popper": round(polsby_popper(geom), 4),
            "parts": parts,
            "area_m2": round(area_m2(geom), 1),
            "on": on.isoformat(),
        }
    plan_queries.update_stats(session, stats=stats)
    session.info.setdefault(_REFRESHED, set()).update(ids)
    refresh_problems(session, plan, communities=communities, edited=edited)
    plan.updated_at = func.now()
    session.flush()


def take_refreshed(session: Session) -> set[int]:
    """The plan grids :func:`refresh_plan` measured again since this was last called (what an
    edit changed, whatever it returns: adding a grid also changes the neighbours that give
    way)."""
    refreshed: set[int] = session.info.pop(_REFRESHED, set())
    return refreshed


def ref(row: plan_queries.PlanGridRow) -> str:
    return row.code if row.code is not None else f"#{row.id}"
