"""The grid benchmark's measurements: classification and an edit with its impact, vs bare SQL.

Used by ``bench/bench_grids.py`` in its own district and by ``bench/city_grids.py`` (P4 and P5 of
``bench/run.py``) in the generated city.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import shapely
from shapely.geometry import mapping
from sqlalchemy import text

from bench.grids_city import COUNTY
from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.crs import STORAGE_SRID
from gis.db import transaction
from gis.grids import plan_edits, plan_queries
from gis.grids.area_queries import select_community_polygons
from gis.grids.building_counts import recount_stale
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.edit_impact import apply_edit, remember_predictions
from gis.grids.impact import plan_impact
from gis.grids.placing import place_buildings
from gis.grids.plans import create_plan

IMPACT_TARGET_MS = 200.0
GROW_DEG = 0.0003  # about 30 m
ADMIN = Scope.system("bench")

_BARE_HOUSES = text(
    """
    SELECT count(*) FROM plan_grids g
    JOIN buildings b ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    JOIN houses h ON h.building_uid = b.uid
    WHERE g.id = :id
    """
)
_BARE_JOIN = text(
    """
    SELECT g.code, count(*) FROM grids g
    JOIN buildings b ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
    WHERE g.valid_from <= :on AND (g.valid_to IS NULL OR g.valid_to > :on) GROUP BY g.code
    """
)
# About :cells square cells over the communities of the district, clipped to them, valid from
# :on (the open grids end then): numbered 500… in each community, so no code is reused.
_END_GRIDS = text("UPDATE grids SET valid_to = :on WHERE valid_to IS NULL")
_CELLS = text(
    """
    WITH c AS (
        SELECT code, geom FROM divisions
        WHERE level = 'village' AND code LIKE '960101%' AND geom IS NOT NULL
    ), size AS (
        SELECT sqrt(sum(ST_Area(geom)) / :cells) AS side, ST_Extent(geom) AS box FROM c
    ), pieces AS (
        SELECT c.code, (ST_Dump(ST_Intersection(c.geom, sq.geom))).geom AS geom
        FROM size
        CROSS JOIN LATERAL ST_SquareGrid(size.side, ST_SetSRID(size.box::geometry, 4490)) sq
        JOIN c ON c.geom && sq.geom AND ST_Intersects(c.geom, sq.geom)
    ), numbered AS (
        SELECT code, geom, row_number() OVER (PARTITION BY code ORDER BY ST_YMax(geom) DESC,
                                              ST_XMin(geom)) AS n
        FROM pieces WHERE ST_GeometryType(geom) = 'ST_Polygon' AND ST_Area(geom) > 0
    )
    INSERT INTO grids (code, version, community_code, district_code, valid_from, geom)
    SELECT code || lpad((499 + n)::text, 3, '0'), 1, code, '960101', :on, geom
    FROM numbered WHERE n <= 500
    """
)


_LIVE_BUILDINGS = text("SELECT uid FROM buildings WHERE status <> 'retired' ORDER BY uid")
_LIVE_GRIDS = text(
    "SELECT uid::text FROM grids WHERE valid_from <= :on AND (valid_to IS NULL OR :on < valid_to)"
)
_LEAVE = text(
    """
    UPDATE residences SET period = daterange(lower(period), CAST(:on AS date))
    WHERE upper_inf(period) AND lower(period) < CAST(:on AS date) AND random() < :share
    """
)
_UNCLASSIFY = text("UPDATE grids SET classified_on = NULL WHERE classified_on IS NOT NULL")
_STALE_COUNT = text("SELECT count(*) FROM building_counts WHERE counted_generation <> generation")


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return (time.perf_counter() - started) * 1000.0, value


def _classify(session: Any, on: dt.date, prefix: str | None) -> tuple[float, Any]:
    return timed(
        lambda: classify_grids(
            session, on=on, config=ClassConfig(), actor=ADMIN.actor, prefix=prefix
        )
    )


def measure_classification(factory: Any, *, on: dt.date, prefix: str | None) -> dict[str, Any]:
    """Classify the grids under ``prefix`` (every district when None) three ways, each in a
    transaction rolled back: from nothing (every building's count to make and every grid's
    buildings to find: the kept counts marked stale and the kept grid buildings dropped inside
    the transaction), with both kept current (after one committed count of every live building
    and one committed placing of every grid), and after a day's changes (0.2% of the residents
    leave: the triggers mark their buildings). Also the bare building→grid join, the
    reference."""
    with factory() as session, session.begin():
        reference_ms, rows = timed(lambda: session.execute(_BARE_JOIN, {"on": on}).all())
        session.execute(text("UPDATE building_counts SET counted_generation = NULL"))
        session.execute(text("DELETE FROM grid_placements"))
        cold_ms, _ = _classify(session, on, prefix)
        session.rollback()
    with factory() as session, session.begin():  # committed: kept from now on
        buildings = [str(uid) for uid in session.scalars(_LIVE_BUILDINGS)]
        count_all_ms, _ = timed(lambda: recount_stale(session, buildings=buildings, on=on))
        grids = list(session.scalars(_LIVE_GRIDS, {"on": on}))
        place_all_ms, _ = timed(lambda: place_buildings(session, grids=grids))
    with factory() as session, session.begin():
        # as if classified on another day: every row is written again (its date changes)
        session.execute(_UNCLASSIFY)
        ms, report = _classify(session, on, prefix)
        session.rollback()
    with factory() as session, session.begin():
        session.execute(_UNCLASSIFY)
        left = session.execute(_LEAVE, {"on": on, "share": 0.002}).rowcount
        marked = session.execute(_STALE_COUNT).scalar_one()
        day_ms, _ = _classify(session, on, prefix)
        session.rollback()
    return {
        "grids": report.grids,
        "grids_in_reference": len(rows),
        "ms": round(ms),
        "ms_per_grid": round(ms / max(1, report.grids), 2),
        "reference_ms": round(reference_ms),
        "ratio": round(ms / reference_ms, 2),
        "counted_from_nothing_ms": round(cold_ms),
        "count_every_building_ms": round(count_all_ms),
        "place_every_grid_ms": round(place_all_ms),
        "after_a_day_ms": round(day_ms),
        "after_a_day": {"residents_left": left, "buildings_counted_again": marked},
        "by_class": report.by_class,
    }


def bench_classify(factory: Any) -> dict[str, Any]:
    result = measure_classification(factory, on=today_in_china(), prefix=COUNTY[:6])
    day = result["after_a_day"]
    print(
        f"classify {result['grids']:,} grids with the counts kept: {result['ms'] / 1000:.2f} s "
        f"({result['ms_per_grid']} ms a grid); bare building→grid join "
        f"({result['grids_in_reference']:,} grids) {result['reference_ms'] / 1000:.2f} s; "
        f"ratio {result['ratio']}\n"
        f"  from nothing (every building counted, every grid's buildings found): "
        f"{result['counted_from_nothing_ms'] / 1000:.2f} s (the counts alone, stored: "
        f"{result['count_every_building_ms'] / 1000:.2f} s; the grids' buildings alone: "
        f"{result['place_every_grid_ms'] / 1000:.2f} s)\n"
        f"  after {day['residents_left']:,} residents left ({day['buildings_counted_again']:,} "
        f"buildings to count again): {result['after_a_day_ms'] / 1000:.2f} s"
    )
    return result


def bench_city_classify(factory: Any, *, cells: int) -> dict[str, Any]:
    """Classify about ``cells`` grids over the district (made and classified in a transaction
    that is rolled back): once as new grids (their buildings to find), then for the next day
    (their buildings and counts kept)."""
    on = today_in_china() + dt.timedelta(days=1)
    with factory() as session, session.begin():
        session.execute(_END_GRIDS, {"on": on})
        made_ms, _ = timed(lambda: session.execute(_CELLS, {"cells": cells, "on": on}))
        session.execute(text("ANALYZE grids"))
        reference_ms, rows = timed(lambda: session.execute(_BARE_JOIN, {"on": on}).all())
        first_ms, _ = _classify(session, on, COUNTY[:6])
        # the next day: buildings and counts kept, every row written again (its date changes)
        ms, report = _classify(session, on + dt.timedelta(days=1), COUNTY[:6])
        session.rollback()
    result = {
        "grids": report.grids,
        "made_s": round(made_ms / 1000, 1),
        "first_ms": round(first_ms),
        "ms": round(ms),
        "ms_per_grid": round(ms / max(1, report.grids), 2),
        "reference_ms": round(reference_ms),
        "ratio": round(ms / reference_ms, 2),
        "by_class": report.by_class,
    }
    print(
        f"classify {report.grids:,} cells: {ms / 1000:.2f} s ({result['ms_per_grid']} ms a "
        f"cell; the first time, their buildings to find: {first_ms / 1000:.2f} s); bare "
        f"building→grid join ({len(rows):,} grids) {reference_ms / 1000:.2f} s; "
        f"ratio {result['ratio']}"
    )
    return result


def time_one_edit(
    factory: Any, *, plan_id: int, row: Any, outline: bytes
) -> tuple[float, float, Any]:
    """Grow the plan grid ``row`` ~30 m within its community (``outline``, WKB: its boundary
    with its neighbours moves), then time the bare house count of the grid and the edit with
    its impact (the request's whole transaction, commit included); ms, ms, the answer."""
    grid = shapely.from_wkb(row.wkb)
    grown = shapely.intersection(
        shapely.buffer(grid, GROW_DEG, join_style="mitre"), shapely.from_wkb(outline)
    )
    parts = shapely.get_parts(grown)
    grown = max(parts, key=lambda part: shapely.area(shapely.intersection(part, grid)))
    geometry = mapping(_to_wgs84(grown))
    with transaction(factory) as session:
        started = time.perf_counter()
        session.execute(_BARE_HOUSES, {"id": row.id}).scalar()
        bare_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    with transaction(factory) as session:
        answer = apply_edit(
            session,
            plan_id=plan_id,
            scope=ADMIN,
            config=ClassConfig(),
            edit=partial(
                plan_edits.edit_grid,
                session,
                plan_id=plan_id,
                grid_id=row.id,
                geometry=geometry,
                scope=ADMIN,
            ),
        )
        answer.model_dump_json()
    return bare_ms, (time.perf_counter() - started) * 1000, answer


def bench_edits(factory: Any, *, edits: int) -> dict[str, Any]:
    with transaction(factory) as session:
        ms, plan = timed(lambda: create_plan(session, division_code=COUNTY, scope=ADMIN))
        plan_id = plan.id
        remember_predictions(session, plan_id=plan_id, scope=ADMIN, config=ClassConfig())
        rows = plan_queries.select_plan_grids(session, plan_id=plan_id)
    print(f"district plan of {len(rows):,} grids created in {ms / 1000:.1f} s")
    step = max(1, len(rows) // edits)
    chosen = rows[::step][:edits]
    edit_ms, impact_ms, bare_ms = [], [], []
    shown: list[int] = []
    with factory() as session:
        outlines = select_community_polygons(
            session, codes=sorted({r.community_code for r in chosen})
        )
    for row in chosen:
        bare, edit, answer = time_one_edit(
            factory, plan_id=plan_id, row=row, outline=outlines[row.community_code]
        )
        bare_ms.append(bare)
        edit_ms.append(edit)
        shown.append(len(answer.grids))
        started = time.perf_counter()
        with transaction(factory) as session:
            plan_impact(
                session, plan_id=plan_id, scope=ADMIN, config=ClassConfig()
            ).model_dump_json()
        impact_ms.append((time.perf_counter() - started) * 1000)
    with transaction(factory) as session:  # reruns in a kept district start from one plan
        session.execute(text("DELETE FROM grid_plans WHERE id = :id"), {"id": plan_id})
    result = {
        "plan_grids": len(rows),
        "plan_create_s": round(ms / 1000, 1),
        "edits": len(chosen),
        "edit_with_impact_ms_median": round(statistics.median(edit_ms)),
        "edit_with_impact_ms_max": round(max(edit_ms)),
        "rows_in_answer_median": statistics.median(shown),
        "full_impact_ms_median": round(statistics.median(impact_ms)),
        "bare_houses_ms_median": round(statistics.median(bare_ms), 1),
        "target_ms": IMPACT_TARGET_MS,
    }
    result["ratio_to_bare"] = round(
        result["edit_with_impact_ms_median"] / max(0.1, result["bare_houses_ms_median"]), 1
    )
    verdict = "met" if result["edit_with_impact_ms_median"] <= IMPACT_TARGET_MS else "missed"
    print(
        f"edit one grid with its impact ({len(chosen)} edits, {len(rows):,} grids): median "
        f"{result['edit_with_impact_ms_median']} ms (max {result['edit_with_impact_ms_max']}; "
        f"target ≤ {IMPACT_TARGET_MS:g} ms: {verdict}; {result['rows_in_answer_median']} impact "
        f"rows in the answer); the whole impact {result['full_impact_ms_median']} ms; bare "
        f"house count of the grid {result['bare_houses_ms_median']} ms, ratio "
        f"{result['ratio_to_bare']}"
    )
    return result


def _to_wgs84(geom: Any) -> Any:
    import numpy as np

    from gis.crs import SourceCrs, transform_geometries

    return transform_geometries(np.array([geom], dtype=object), SourceCrs(epsg=STORAGE_SRID), 4326)[
        0
    ]
