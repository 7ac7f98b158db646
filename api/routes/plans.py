"""``/api/plans``: draft grid plans for planners and admins: create, edit, impact, publish."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import ScopeDep, SessionDep
from api.limits import DEFAULT_PAGE_SIZE, PageLimit
from api.routes.grids import ConfigDep
from gis.access.schemas import AggregateModel
from gis.clock import ChinaTime, IsoDate
from gis.db import set_statement_timeout
from gis.grids import plan_edits, plan_queries, plans
from gis.grids.edit_impact import EditImpact, apply_edit, remember_predictions
from gis.grids.impact import PlanImpact, plan_impact
from gis.grids.models import GridPlan
from gis.grids.publishing import publish_plan
from gis.text import NotBlank

router = APIRouter(prefix="/api/plans", tags=["plans"])

PLAN_STATEMENT_TIMEOUT_MS = 120_000
"""Drafting or publishing a district's plan reads every building of it (tens of seconds at
100,000 buildings): these two routes, for planners and admins only, lift the per-request limit."""

PlanId = Annotated[int, Path(ge=1, le=2**63 - 1)]
GridId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Geometry = Annotated[dict[str, Any], Field(description="a GeoJSON geometry in EPSG:4326")]
Households = Annotated[int, Field(ge=1, le=plans.MAX_TARGET_HOUSEHOLDS)]


class PlanCreate(BaseModel):
    division_code: str = Field(
        pattern=r"^[0-9]{12}$", description="a district, township or community"
    )
    plan_name: Annotated[str | None, Field(max_length=100), NotBlank] = None
    target_households: tuple[Households, Households] = Field(
        default=(300, 500), description="the band of households a grid should hold: min, max"
    )


class PlanRead(AggregateModel):
    """A plan; ``grids`` (a FeatureCollection) in the single-plan answer."""

    id: int
    plan_name: str
    division_code: str
    status: str
    target_households: list[int]
    created_by: str | None
    created_at: ChinaTime
    updated_at: ChinaTime
    effective_date: date | None
    published_at: ChinaTime | None
    grids: dict[str, Any] | None = None


class PlanPage(AggregateModel):
    items: list[PlanRead]
    next_before_id: int | None


class GridEdit(BaseModel):
    geometry: Geometry
    adjust_neighbours: bool = Field(
        default=True, description="neighbours lose what the grid takes and get what it gives up"
    )


class GridAdd(GridEdit):
    community_code: str | None = Field(default=None, pattern=r"^[0-9]{12}$")
    grid_name: str | None = Field(default=None, max_length=100)


class GridSplit(BaseModel):
    line: Geometry


class GridMerge(BaseModel):
    grid_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=2, max_length=50)


class PublishRequest(BaseModel):
    effective_date: IsoDate


class PublishResult(AggregateModel):
    plan_id: int
    effective_date: date
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    retired: list[str]
    lineage: list[list[str]]


def _read(plan: GridPlan, grids: dict[str, Any] | None = None) -> PlanRead:
    return PlanRead(
        id=plan.id,
        plan_name=plan.name,
        division_code=plan.division_code,
        status=str(plan.status),
        created_by=plan.created_by,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        effective_date=plan.effective_date,
        published_at=plan.published_at,
        target_households=[plan.target_min_households, plan.target_max_households],
        grids=grids,
    )


@router.post("", status_code=201, response_model=PlanRead)
def create_plan(
    body: PlanCreate, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> PlanRead:
    """A draft copying the live grids of a district, township or community."""
    set_statement_timeout(session, timeout_ms=PLAN_STATEMENT_TIMEOUT_MS)
    plan = plans.create_plan(
        session,
        division_code=body.division_code,
        scope=scope,
        name=body.plan_name,
        target_households=body.target_households,
    )
    remember_predictions(session, plan_id=plan.id, scope=scope, config=config)
    session.refresh(plan)
    return _read(plan)


@router.get("", response_model=PlanPage)
def list_plans(
    session: SessionDep,
    scope: ScopeDep,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
) -> PlanPage:
    """Plans, newest first; follow ``next_before_id``."""
    items = plans.list_plans(session, scope=scope, before_id=before_id, limit=limit)
    next_id = items[-1].id if len(items) == limit else None
    return PlanPage(items=[_read(plan) for plan in items], next_before_id=next_id)


@router.get("/{plan_id}", response_model=PlanRead)
def read_plan(plan_id: PlanId, session: SessionDep, scope: ScopeDep) -> PlanRead:
    """A plan with its grids as a FeatureCollection (EPSG:4326)."""
    plan = plans.get_plan(session, plan_id=plan_id, scope=scope)
    return _read(plan, json.loads(plan_queries.plan_geojson(session, plan_id=plan.id)))


@router.delete("/{plan_id}", response_model=PlanRead)
def discard_plan(plan_id: PlanId, session: SessionDep, scope: ScopeDep) -> PlanRead:
    """Discard a draft (it stays, marked discarded)."""
    plan = plans.discard_plan(session, plan_id=plan_id, scope=scope)
    session.refresh(plan)
    return _read(plan)


@router.get("/{plan_id}/impact", response_model=PlanImpact)
def read_impact(
    plan_id: PlanId, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> PlanImpact:
    """Per grid: households, residents, floating share, deviation from the target band,
    Polsby-Popper, contiguity, predicted class, officers needed; topology problems (GeoJSON);
    the difference from the live grids."""
    return plan_impact(session, plan_id=plan_id, scope=scope, config=config)


@router.post("/{plan_id}/grids", status_code=201, response_model=EditImpact)
def add_grid(
    plan_id: PlanId, body: GridAdd, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> EditImpact:
    """Add a grid (its code is issued when the plan is published); answers with what changed
    in the impact."""
    return apply_edit(
        session,
        plan_id=plan_id,
        scope=scope,
        config=config,
        edit=lambda: [
            plan_edits.add_grid(
                session,
                plan_id=plan_id,
                geometry=body.geometry,
                scope=scope,
                community_code=body.community_code,
                name=body.grid_name,
                adjust_neighbours=body.adjust_neighbours,
            )
        ],
    )


@router.put("/{plan_id}/grids/{grid_id}", response_model=EditImpact)
def edit_grid(
    plan_id: PlanId,
    grid_id: GridId,
    body: GridEdit,
    session: SessionDep,
    scope: ScopeDep,
    config: ConfigDep,
) -> EditImpact:
    """Give a grid a new polygon (the code stays; a new version opens at publishing); answers
    with what changed in the impact (the edited grid, the neighbours that gave way, grids whose
    predicted class moved, the diff and the problems)."""
    return apply_edit(
        session,
        plan_id=plan_id,
        scope=scope,
        config=config,
        edit=lambda: plan_edits.edit_grid(
            session,
            plan_id=plan_id,
            grid_id=grid_id,
            geometry=body.geometry,
            scope=scope,
            adjust_neighbours=body.adjust_neighbours,
        ),
    )


@router.delete("/{plan_id}/grids/{grid_id}", status_code=204, response_class=Response)
def delete_grid(
    plan_id: PlanId, grid_id: GridId, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> Response:
    """Remove a grid from the plan (its area is a gap until a neighbour takes it)."""

    def delete() -> list[int]:
        plan_edits.delete_grid(session, plan_id=plan_id, grid_id=grid_id, scope=scope)
        return []

    # through apply_edit like every edit, so the predictions the next answer compares with stay
    # current (the page reads the whole plan again after a delete)
    apply_edit(session, plan_id=plan_id, scope=scope, config=config, edit=delete)
    return Response(status_code=204)


@router.post("/{plan_id}/grids/{grid_id}/split", response_model=EditImpact)
def split_grid(
    plan_id: PlanId,
    grid_id: GridId,
    body: GridSplit,
    session: SessionDep,
    scope: ScopeDep,
    config: ConfigDep,
) -> EditImpact:
    """Cut a grid along a line drawn across it; each piece is a new grid."""
    return apply_edit(
        session,
        plan_id=plan_id,
        scope=scope,
        config=config,
        edit=lambda: plan_edits.split_grid(
            session, plan_id=plan_id, grid_id=grid_id, line=body.line, scope=scope
        ),
    )


@router.post("/{plan_id}/merge", response_model=EditImpact)
def merge_grids(
    plan_id: PlanId, body: GridMerge, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> EditImpact:
    """Merge touching grids of one community into a new grid."""
    return apply_edit(
        session,
        plan_id=plan_id,
        scope=scope,
        config=config,
        edit=lambda: [
            plan_edits.merge_grids(session, plan_id=plan_id, grid_ids=body.grid_ids, scope=scope)
        ],
    )


@router.post("/{plan_id}/publish", response_model=PublishResult)
def publish(
    plan_id: PlanId, body: PublishRequest, session: SessionDep, scope: ScopeDep, config: ConfigDep
) -> PublishResult:
    """Check every hard rule and switch the live grids on ``effective_date``, atomically: the
    old versions end and the new ones start that day, in one transaction. A plan breaking a
    rule answers 409 with the problems as GeoJSON."""
    set_statement_timeout(session, timeout_ms=PLAN_STATEMENT_TIMEOUT_MS)
    result = publish_plan(
        session, plan_id=plan_id, effective=body.effective_date, scope=scope, config=config
    )
    return PublishResult(
        plan_id=plan_id,
        effective_date=result.effective,
        added=sorted(result.added),
        changed=sorted(result.changed),
        unchanged=sorted(result.unchanged),
        retired=sorted(result.retired),
        lineage=[list(row) for row in result.lineage],
    )
