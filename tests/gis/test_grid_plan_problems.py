"""An edit's impact, checked near the edit only, equals the impact of the plan checked whole.

On real footprints and boundaries (Liechtenstein's municipalities as communities, suggested
grids published, then a draft): every kind of edit, some breaking hard rules on purpose, goes
through ``apply_edit`` (what the API does); after each, the cached impact is compared with the
impact recomputed from scratch (every grid measured again, every community checked whole).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.crs import STORAGE_SRID, WGS84_SRID, SourceCrs, transform_geometries
from gis.grids import plan_edits, plan_queries, snapshot_queries
from gis.grids.classes import ClassConfig
from gis.grids.edit_impact import EditImpact, apply_edit, remember_predictions
from gis.grids.impact import PlanImpact, plan_impact
from gis.grids.models import GridPlan
from gis.grids.plans import create_plan, plan_communities, refresh_plan
from gis.grids.publishing import publish_plan
from gis.grids.suggesting import suggest_plan
from gis.grids.validation import community_polygons
from tests.grids_world import add_residents, load_liechtenstein

ADMIN = Scope.system("cli:test")
CONFIG = ClassConfig()
TOWNSHIP = "980101001000"


def _geojson(geom: Any) -> dict[str, Any]:
    """A polygon in EPSG:4490 as GeoJSON in EPSG:4326 (what the page sends)."""
    geoms = np.array([geom], dtype=object)
    return dict(mapping(transform_geometries(geoms, SourceCrs(epsg=STORAGE_SRID), WGS84_SRID)[0]))


def _largest(geom: Any) -> Any:
    parts = shapely.get_parts(geom)
    return max(parts, key=lambda part: shapely.area(part))


def _problems(impact: PlanImpact | EditImpact) -> list[tuple[Any, ...]]:
    """The problems as comparable rows. A gap is compared by its area, its message and its
    polygon (:func:`_same_gaps`), not by its location: found in a window or in its whole
    community, the same polygon may have more vertices on its edges, and its inner point
    moves."""
    rows = []
    for feature in impact.problems["features"]:
        p = feature["properties"]
        gap = not p["grids"] and not p["building_code"]
        rows.append(
            (p["kind"], p["severity"], p["community_code"], tuple(p["grids"]),
             p["building_code"], p["message"], p["area_m2"], None if gap else p["location"])
        )  # fmt: skip
    return sorted(rows, key=repr)


def _same_gaps(one: PlanImpact, other: PlanImpact) -> bool:
    def gaps(impact: PlanImpact) -> list[tuple[str, Any]]:
        return sorted(
            (f["properties"]["message"], shapely.from_geojson(json.dumps(f["geometry"])))
            for f in impact.problems["features"]
            if not f["properties"]["grids"] and not f["properties"]["building_code"]
        )

    pairs = list(zip(gaps(one), gaps(other), strict=True))
    return all(
        a == b and shapely.area(shapely.symmetric_difference(x, y)) < 1e-6 * shapely.area(x)
        for (a, x), (b, y) in pairs
    )


def _whole(db: Session, plan_id: int) -> PlanImpact:
    """The impact recomputed from scratch (rolled back afterwards)."""
    with db.begin_nested() as nested:
        plan = db.get(GridPlan, plan_id)
        assert plan is not None
        plan.problems = {}
        ids = [row.id for row in plan_queries.select_plan_grids(db, plan_id=plan_id)]
        refresh_plan(db, plan=plan, grid_ids=ids, communities=plan_communities(db, plan))
        impact = plan_impact(db, plan_id=plan_id, scope=ADMIN, config=CONFIG)
        nested.rollback()
    return impact


def _applied(previous: PlanImpact, edit: EditImpact) -> PlanImpact:
    """What the planner page does with an edit's answer."""
    rows = {row.id: row for row in previous.grids}
    for removed in edit.removed:
        rows.pop(removed)
    rows.update({row.id: row for row in edit.grids})
    return previous.model_copy(
        update={
            "grids": [rows[i] for i in sorted(rows)],
            "diff": edit.diff,
            "problems": edit.problems,
            "errors": edit.errors,
            "warnings": edit.warnings,
            "publishable": edit.publishable,
            "notes": edit.notes,
        }
    )


def test_the_impact_after_each_edit_is_the_impact_checked_whole(
    db: Session, factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    names = load_liechtenstein(db, factory, shared_data, tmp_path)
    suggested = suggest_plan(db, division_code=TOWNSHIP, scope=ADMIN, target_households=400)
    publish_plan(db, plan_id=suggested.id, effective=today_in_china(), scope=ADMIN, config=CONFIG)
    for code in db.scalars(text("SELECT code FROM buildings ORDER BY code LIMIT 40")).all():
        add_residents(db, building_code=code, residents=6, floating=2)
    plan = create_plan(db, division_code=TOWNSHIP, scope=ADMIN)
    remember_predictions(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
    outlines = community_polygons(db, codes=sorted(names))
    start = {row.id: row for row in plan_queries.select_plan_grids(db, plan_id=plan.id)}
    used: set[int] = set()

    def pick(test: Any = lambda row: True) -> plan_queries.PlanGridRow:
        """A grid no edit has touched yet (as it is now)."""
        rows = plan_queries.select_plan_grids(db, plan_id=plan.id)
        row = next(r for r in rows[3:] if r.id in start and r.id not in used and test(r))
        used.add(row.id)
        return row

    def geom(row: plan_queries.PlanGridRow) -> Any:
        return shapely.from_wkb(row.wkb)

    def reaching_out(row: plan_queries.PlanGridRow) -> bool:
        grown = shapely.buffer(geom(row), 0.0004)
        return any(
            shapely.area(shapely.intersection(grown, polygon)) > 1e-8
            for code, polygon in outlines.items()
            if code != row.community_code and polygon is not None
        )

    def grow_within(session: Session, **kw: Any) -> list[int]:
        """~30 m within its community, its neighbours give way (as the benchmark)."""
        row = pick()
        grown = shapely.buffer(geom(row), 0.0003, join_style="mitre")
        inside = _largest(shapely.intersection(grown, outlines[row.community_code]))
        return plan_edits.edit_grid(session, grid_id=row.id, geometry=_geojson(inside), **kw)

    def reach_out(session: Session, **kw: Any) -> list[int]:
        """Into the next community; the neighbours on both sides give way."""
        row = pick(reaching_out)
        grown = _largest(shapely.buffer(geom(row), 0.0004))
        return plan_edits.edit_grid(session, grid_id=row.id, geometry=_geojson(grown), **kw)

    shrunk: list[plan_queries.PlanGridRow] = []

    def shrink(session: Session, **kw: Any) -> list[int]:
        """Alone: gaps, buildings in no grid."""
        row = pick()
        shrunk.append(row)
        small = _geojson(_largest(shapely.buffer(geom(row), -0.0006)))
        return plan_edits.edit_grid(
            session, grid_id=row.id, geometry=small, adjust_neighbours=False, **kw
        )

    def swell(session: Session, **kw: Any) -> list[int]:
        """Alone: overlaps, buildings in two grids."""
        row = pick()
        big = _geojson(_largest(shapely.buffer(geom(row), 0.0005)))
        return plan_edits.edit_grid(
            session, grid_id=row.id, geometry=big, adjust_neighbours=False, **kw
        )

    def restore(session: Session, **kw: Any) -> list[int]:
        """The shrunk grid as it was: its gaps close."""
        row = shrunk[0]
        return plan_edits.edit_grid(
            session,
            grid_id=row.id,
            geometry=_geojson(_largest(geom(start[row.id]))),
            adjust_neighbours=False,
            **kw,
        )

    def split(session: Session, **kw: Any) -> list[int]:
        row = pick()
        _, y0, _, y1 = shapely.bounds(geom(row)).tolist()
        x = shapely.point_on_surface(geom(row)).x
        line = {"type": "LineString", "coordinates": [[x, y0 - 1e-4], [x, y1 + 1e-4]]}
        return plan_edits.split_grid(session, grid_id=row.id, line=line, **kw)

    def merge(session: Session, **kw: Any) -> list[int]:
        rows = [r for r in plan_queries.select_plan_grids(db, plan_id=plan.id) if r.id not in used]
        a, b = next(
            (a, b)
            for a in rows
            for b in rows
            if a.id < b.id
            and a.community_code == b.community_code
            and shapely.length(shapely.intersection(geom(a), geom(b))) > 1e-4
        )
        used.update({a.id, b.id})
        return [plan_edits.merge_grids(session, grid_ids=[a.id, b.id], **kw)]

    def delete(session: Session, **kw: Any) -> list[int]:
        plan_edits.delete_grid(session, grid_id=pick().id, **kw)
        return []

    def add(session: Session, **kw: Any) -> list[int]:
        """A new grid across others, which give way."""
        spot = shapely.point_on_surface(geom(pick()))
        octagon = shapely.buffer(spot, 0.002, quad_segs=2)
        return [plan_edits.add_grid(session, geometry=_geojson(octagon), **kw)]

    edits = [grow_within, reach_out, shrink, swell, split, merge, delete, add, restore]
    impact = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
    seen: set[str] = set()
    for step, edit in enumerate(edits):
        answer = apply_edit(
            db,
            plan_id=plan.id,
            scope=ADMIN,
            config=CONFIG,
            edit=partial(edit, db, plan_id=plan.id, scope=ADMIN),
        )
        cached = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
        whole = _whole(db, plan.id)
        assert cached.grids == whole.grids, step
        assert cached.diff == whole.diff, step
        assert _problems(cached) == _problems(whole), step
        assert _same_gaps(cached, whole), step
        assert (cached.errors, cached.warnings, cached.publishable, cached.notes) == (
            whole.errors,
            whole.warnings,
            whole.publishable,
            whole.notes,
        ), step
        assert _applied(impact, answer).model_dump() == cached.model_dump(), step
        impact = cached
        seen |= {f["properties"]["kind"] for f in cached.problems["features"]}
    assert {
        "overlap",
        "gap",
        "outside_community",
        "building_unassigned",
        "building_in_several_grids",
    } <= seen


def _unassigned(impact: PlanImpact) -> tuple[dict[str, int], set[str]]:
    """The counts of the communities whose buildings are summed up (they have no grid), and
    the communities whose buildings in no grid are listed one by one."""
    summed: dict[str, int] = {}
    listed: set[str] = set()
    for feature in impact.problems["features"]:
        p = feature["properties"]
        if p["kind"] != "building_unassigned":
            continue
        if p["building_code"]:
            listed.add(p["community_code"])
        else:
            assert p["message"].endswith("lie in no grid: it has none"), p["message"]
            summed[p["community_code"]] = int(p["message"].split()[0].replace(",", ""))
    return summed, listed


def test_a_community_without_grids_counts_its_buildings_in_one_problem(
    db: Session, factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    """A township drafted before its first grid: one problem per community, not one per
    building; its first grid lists the buildings left outside it, as a whole check does."""
    names = load_liechtenstein(db, factory, shared_data, tmp_path)
    plan = create_plan(db, division_code=TOWNSHIP, scope=ADMIN)
    first = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
    summed, listed = _unassigned(first)
    assert listed == set()
    bounds = (-180.0, -90.0, 180.0, 90.0)
    points = snapshot_queries.select_snapshot_points(
        db, plan_id=plan.id, communities=sorted(names), bounds=bounds
    )
    expected: dict[str, int] = {}
    for _, _, _, community in points:
        expected[community] = expected.get(community, 0) + 1
    assert summed == expected
    assert sum(summed.values()) == len(points) > 1000

    community = max(expected, key=lambda code: expected[code])
    spot = next(shapely.Point(x, y) for _, x, y, c in points if c == community)
    octagon = shapely.buffer(spot, 0.002, quad_segs=2)
    inside = _largest(
        shapely.intersection(octagon, community_polygons(db, codes=[community])[community])
    )

    def add(session: Session, **kw: Any) -> list[int]:
        return [plan_edits.add_grid(session, geometry=_geojson(inside), **kw)]

    added = apply_edit(
        db, plan_id=plan.id, scope=ADMIN, config=CONFIG,
        edit=partial(add, db, plan_id=plan.id, scope=ADMIN),
    )  # fmt: skip
    cached = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
    assert _problems(cached) == _problems(_whole(db, plan.id))
    summed, listed = _unassigned(cached)
    assert listed == {community}
    assert community not in summed
    assert summed == {code: n for code, n in expected.items() if code != community}

    grid_id = added.grids[0].id

    def delete(session: Session, **kw: Any) -> list[int]:
        plan_edits.delete_grid(session, grid_id=grid_id, **kw)
        return []

    apply_edit(
        db, plan_id=plan.id, scope=ADMIN, config=CONFIG,
        edit=partial(delete, db, plan_id=plan.id, scope=ADMIN),
    )  # fmt: skip
    cached = plan_impact(db, plan_id=plan.id, scope=ADMIN, config=CONFIG)
    assert _problems(cached) == _problems(_whole(db, plan.id))
    assert _unassigned(cached) == (expected, set())
