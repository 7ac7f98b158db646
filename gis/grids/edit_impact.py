"""What an edit of a draft plan changed in its impact, answered by the edit itself.

A planner's page reads ``GET /api/plans/{id}/impact`` once (every grid), then applies the answer
of each edit: the rows of the grids the edit created or changed and of every other grid whose
predicted class (or what decided it) moved, the ids it removed, the new polygons, and the plan's
diff, problems and totals. Classes are ranked within the district, so each edit predicts every
grid again, from the plan's numbers only (``plan_grids.numbers``: no JSON or Python object per
grid). Which untouched grids to answer with: those whose prediction differs from the one the
previous answer remembered (``plan_grids.predicted``, updated here). Every edit of a draft
goes through :func:`apply_edit`, so the remembered predictions are what the page shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from pydantic import Field
from sqlalchemy.orm import Session

from gis.access.schemas import AggregateModel
from gis.access.scope import Scope
from gis.grids import plan_queries
from gis.grids.class_arrays import COLUMNS, ArrayClasses, classify_arrays, columns_of
from gis.grids.classes import ClassConfig
from gis.grids.impact import (
    MOVED,
    ImpactDiff,
    ImpactGrid,
    diff_of,
    impact_row,
    notes_of,
    other_stats,
    previous_levels,
    problems_of,
)
from gis.grids.models import GridPlan
from gis.grids.plans import get_plan, take_refreshed
from gis.users.models import Role


class EditImpact(AggregateModel):
    """An edit and what the planner must see change. Applied to the previous ``/impact`` (rows
    replaced by id, removed ones dropped, the rest as they were) it gives the new ``/impact``."""

    plan_id: int
    ids: list[int] = Field(description="the grids the edit created or changed")
    removed: list[int] = Field(description="the grids the edit removed")
    grids: list[ImpactGrid] = Field(
        description="the rows of ``ids`` and of the grids whose predicted class moved"
    )
    features: dict[str, Any] = Field(description="the polygons of ``ids`` (FeatureCollection)")
    diff: ImpactDiff
    problems: dict[str, Any]
    errors: int
    warnings: int
    publishable: bool
    notes: list[str]


def apply_edit(
    session: Session,
    *,
    plan_id: int,
    scope: Scope,
    config: ClassConfig,
    edit: Callable[[], Iterable[int]],
) -> EditImpact:
    """Run ``edit`` (a ``gis.grids.plan_edits`` call returning the ids it touched) on the locked
    draft and answer with its :class:`EditImpact`."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    before = plan_queries.select_plan_grid_ids(session, plan_id=plan.id)
    take_refreshed(session)
    touched = set(edit()) | take_refreshed(session)
    numbers = plan_queries.select_plan_numbers(session, plan_id=plan.id)
    predicted = predict_numbers(plan, numbers, config)
    position = {grid_id: index for index, grid_id in enumerate(numbers.ids)}
    changed = sorted((touched & set(position)) | (set(position) - before))
    moved = {
        grid_id: signature
        for grid_id, signature, remembered in zip(
            numbers.ids, plan_signatures(predicted, numbers), numbers.predicted, strict=True
        )
        if signature != remembered
    }
    plan_queries.update_predicted(session, predicted=moved)
    shown = sorted(set(moved) | set(changed))
    rows = plan_queries.select_plan_grids(session, plan_id=plan.id, ids=shown, with_geometry=False)
    hide = scope.role is Role.PLANNER
    band = (plan.target_min_households, plan.target_max_households)
    problems, errors = problems_of(plan)
    return EditImpact(
        plan_id=plan.id,
        ids=changed,
        removed=sorted(before - set(position)),
        grids=[
            impact_row(row, predicted, position[row.id], config, hide=hide, band=band)
            for row in rows
        ],
        features=json.loads(plan_queries.plan_geojson(session, plan_id=plan.id, ids=changed)),
        diff=diff_of(
            plan,
            refs=[
                code or f"#{grid_id}"
                for grid_id, code in zip(numbers.ids, numbers.codes, strict=True)
            ],
            codes=numbers.codes,
            is_changed=numbers.is_changed,
            moved={key: numbers.numbers[key].tolist() for key in MOVED},
            hide=hide,
        ),
        problems=problems,
        errors=errors,
        warnings=len(problems["features"]) - errors,
        publishable=errors == 0,
        notes=notes_of(estimated=any(numbers.estimated)),
    )


def remember_predictions(
    session: Session, *, plan_id: int, scope: Scope, config: ClassConfig
) -> None:
    """Remember every grid's predicted class in a new draft, so that its first edit answers
    with the grids that edit moved only (without, the first answer holds every grid)."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    numbers = plan_queries.select_plan_numbers(session, plan_id=plan.id)
    predicted = predict_numbers(plan, numbers, config)
    plan_queries.update_predicted(
        session, predicted=dict(zip(numbers.ids, plan_signatures(predicted, numbers), strict=True))
    )


def plan_signatures(predicted: ArrayClasses, numbers: plan_queries.PlanNumbers) -> list[str]:
    """The signatures of the plan's own grids: ``predicted`` ranks them first, followed by the
    district's live grids outside the plan (:func:`predict_numbers`)."""
    return predicted.signatures()[: len(numbers.ids)]


def predict_numbers(
    plan: GridPlan, numbers: plan_queries.PlanNumbers, config: ClassConfig
) -> ArrayClasses:
    """``gis.grids.impact.predict_levels`` from the plan's number columns."""
    others = columns_of(other_stats(plan))
    columns: dict[str, Any] = {
        name: np.concatenate([numbers.numbers[name].astype(np.float64), others[name]])
        for name in COLUMNS
    }
    columns["households_estimated"] = np.concatenate(
        [numbers.estimated, others["households_estimated"]]
    )
    previous = previous_levels(plan, numbers.codes)
    return classify_arrays(columns, previous=previous, config=config)
