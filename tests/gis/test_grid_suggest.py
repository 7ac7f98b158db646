"""Suggested grids on real boundaries: Liechtenstein's municipalities as communities."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.grids import plan_queries
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.impact import plan_impact
from gis.grids.models import Grid
from gis.grids.plan_problems import shape_of
from gis.grids.publishing import publish_plan
from gis.grids.queries import select_grid_rows
from gis.grids.suggesting import suggest_plan
from gis.grids.validation import validate_live, validate_shapes
from tests.grids_world import load_liechtenstein

ADMIN = Scope.system("cli:test")


def test_suggested_grids_of_liechtenstein_pass_every_hard_rule(
    db: Session, factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    names = load_liechtenstein(db, factory, shared_data, tmp_path)
    assert len(names) == 12

    plan = suggest_plan(db, division_code="980101001000", scope=ADMIN, target_households=400)

    rows = plan_queries.select_plan_grids(db, plan_id=plan.id)
    report = validate_shapes(db, grids=[shape_of(row) for row in rows], communities=sorted(names))
    assert report.errors == [], [p.line() for p in report.errors]
    assert {row.community_code for row in rows} == set(names)
    households = np.array([row.stats["households"] for row in rows])
    assert households.sum() > 20_000  # estimated dwellings of 3,700 buildings
    big = households[households >= 150]  # exclaves and mountain parts hold few or none
    assert 250 <= float(np.median(big)) <= 550
    impact = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=ClassConfig())
    assert impact.publishable
    assert impact.errors == 0

    today = today_in_china()
    result = publish_plan(db, plan_id=plan.id, effective=today, scope=ADMIN, config=ClassConfig())
    assert len(result.added) == len(rows)
    assert validate_live(db, prefix="980101", on=today).errors == []
    live = select_grid_rows(db, on=today, prefix="980101")
    assert len(live) == len(rows)
    assert all(row.grid_class for row in live)  # predicted at publishing
    for community in names:
        seqs = sorted(int(row.code[12:]) for row in live if row.community_code == community)
        assert seqs == list(range(1, len(seqs) + 1))

    report2 = classify_grids(db, on=today, config=ClassConfig(), actor=ADMIN.actor, prefix="980101")
    assert report2.grids == len(rows)
    classified = db.scalars(select(Grid).where(Grid.district_code == "980101")).all()
    assert all(grid.grid_class for grid in classified)
    assert all(grid.class_explanation["decided_by"] for grid in classified)
    by_score = Counter(grid.class_explanation["score_class"] for grid in classified)
    assert 0.12 <= by_score["reinforced"] / len(rows) <= 0.24  # the top 18% by score
