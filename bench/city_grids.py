"""P4 and P5 of ``bench/run.py`` in the generated city of ``bench/make_city.py``: the grid
benchmark's measurements (``bench/grids_measures.py``; ``bench/bench_grids.py`` builds a
one-county district of its own) taken in the shared city, whose communities carry real codes and
span several counties.

- P4, edit with its impact: a draft plan of one county (the one with the most current grids),
  one grid grown ~30 m inside its community (``plan_edits.edit_grid``) answered with what changed
  in the impact (``edit_impact.apply_edit``), in its own committed transaction; the median of
  ``edits`` grids. Reference: bare SQL counting the edited grid's houses (``bench_grids``').
- P5, classify: ``classify_grids`` over every current grid of the city (rolled back), with the
  buildings' counts kept current (also timed: from nothing, and after a day's changes).
  Reference: the bare SQL join of every building to its grid (``bench_grids``').
"""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import text

from bench.grids_measures import measure_classification, time_one_edit
from gis.access.scope import Scope
from gis.db import transaction
from gis.grids import plan_queries
from gis.grids.area_queries import select_community_polygons
from gis.grids.classes import ClassConfig
from gis.grids.edit_impact import remember_predictions
from gis.grids.plans import create_plan
from gis.people.periods import today_in_china

ADMIN = Scope.system("bench")


def busiest_county(factory: Any) -> str:
    with factory() as session:
        county = session.scalar(
            text(
                "SELECT district_code FROM grids WHERE valid_to IS NULL "
                "GROUP BY district_code ORDER BY count(*) DESC, district_code LIMIT 1"
            )
        )
    if county is None:
        raise RuntimeError("the city has no current grids: run python -m bench.make_city")
    return str(county)


def bench_classify(factory: Any) -> dict[str, Any]:
    """P5: every current grid classified (rolled back) against the bare building→grid join,
    with the buildings' counts kept current, from nothing, and after a day's changes
    (``bench_grids.measure_classification``)."""
    result = measure_classification(factory, on=today_in_china(), prefix=None)
    if result["grids"] == 0:
        raise RuntimeError("classify_grids classified no grid")
    return result


def bench_edits(factory: Any, *, edits: int) -> dict[str, Any]:
    """P4: ``edits`` grids of a county plan edited one at a time, each answered with its impact."""
    county = busiest_county(factory)
    with transaction(factory) as session:
        plan = create_plan(session, division_code=f"{county}000000", scope=ADMIN)
        plan_id = plan.id
        remember_predictions(session, plan_id=plan_id, scope=ADMIN, config=ClassConfig())
        rows = plan_queries.select_plan_grids(session, plan_id=plan_id)
    chosen = rows[:: max(1, len(rows) // edits)][:edits]
    with factory() as session:
        outlines = select_community_polygons(
            session, codes=sorted({r.community_code for r in chosen})
        )
    edit_ms: list[float] = []
    bare_ms: list[float] = []
    try:
        for row in chosen:
            bare, edit, _ = time_one_edit(
                factory, plan_id=plan_id, row=row, outline=outlines[row.community_code]
            )
            bare_ms.append(bare)
            edit_ms.append(edit)
    finally:
        with transaction(factory) as session:  # the city stays as make_city left it
            session.execute(text("DELETE FROM grid_plans WHERE id = :id"), {"id": plan_id})
    median, bare = statistics.median(edit_ms), statistics.median(bare_ms)
    return {
        "county": county,
        "plan_grids": len(rows),
        "edits": len(chosen),
        "edit_with_impact_ms_median": round(median, 1),
        "edit_with_impact_ms_max": round(max(edit_ms), 1),
        "bare_houses_ms_median": round(bare, 2),
        "ratio": round(median / max(bare, 0.01), 1),
        "date": today_in_china().isoformat(),
    }
