"""Draft plans: edits with live impact, refusals with locations, atomic publishing, as-of."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import LineString, box, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis import cluster
from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.db import make_engine, make_session_factory, transaction
from gis.errors import Conflict, Forbidden, InvalidGeometry, InvalidInput, TopologyViolation
from gis.grids import plan_edits, plan_queries
from gis.grids.classes import ClassConfig
from gis.grids.impact import PlanImpact, plan_impact
from gis.grids.importing import import_grids
from gis.grids.models import Grid
from gis.grids.plans import create_plan
from gis.grids.publishing import publish_plan
from gis.grids.queries import select_grid_lineage, select_grid_rows
from gis.grids.service import grid_page
from gis.users.models import Role
from tests.databases import own_database
from tests.grids_world import (
    COMMUNITY_EAST,
    COMMUNITY_WEST,
    EE,
    EW,
    NE,
    NW,
    SE,
    SW,
    SmallWorld,
    add_residents,
    build_small_world,
    grid_file,
)
from tests.races import race

ADMIN = Scope.system("cli:test")
PLANNER = Scope(user_name="planner", role=Role.PLANNER)
TOWNSHIP = "970101001000"
CONFIG = ClassConfig()


@pytest.fixture
def small(db: Session, tmp_path: Path) -> SmallWorld:
    """The small world with six live grids since 2025-01-01 (codes …001001-004, …002001-002)."""
    world = build_small_world(db)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
    return world


def _ids(db: Session, plan_id: int) -> dict[str, int]:
    impact = plan_impact(db, plan_id=plan_id, scope=ADMIN, config=CONFIG)
    return {grid.ref: grid.id for grid in impact.grids}


def _impact(db: Session, plan_id: int, scope: Scope = ADMIN) -> PlanImpact:
    return plan_impact(db, plan_id=plan_id, scope=scope, config=CONFIG)


def _geo(geom: Any) -> dict[str, Any]:
    return dict(mapping(geom))


def _kinds(impact: PlanImpact) -> set[str]:
    return {f["properties"]["kind"] for f in impact.problems["features"]}


def test_a_fresh_plan_copies_the_live_grids_and_changes_nothing(
    db: Session, small: SmallWorld
) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    impact = _impact(db, plan.id)
    assert {grid.ref for grid in impact.grids} == {
        f"{COMMUNITY_WEST}00{i}" for i in range(1, 5)
    } | {f"{COMMUNITY_EAST}00{i}" for i in (1, 2)}
    assert all(grid.status == "unchanged" for grid in impact.grids)
    assert impact.diff.buildings_moved == 0 and impact.diff.retired == []
    assert impact.errors == 0 and impact.publishable
    nw = next(g for g in impact.grids if g.ref == f"{COMMUNITY_WEST}001")
    assert nw.households == 4 * 40  # 4 buildings of 40 dwellings (no residences: estimated)
    assert nw.households_estimated
    assert nw.deviation == 160 - 300
    assert nw.contiguous and 0.7 < nw.polsby_popper < 0.8
    assert nw.officers_needed >= 1


def test_editing_a_boundary_moves_buildings_and_shows_the_impact(
    db: Session, small: SmallWorld
) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    nw, ne = f"{COMMUNITY_WEST}001", f"{COMMUNITY_WEST}002"
    wider = box(113.80, 22.61, 113.815, 22.62)  # takes NE's west column of buildings
    touched = plan_edits.edit_grid(
        db, plan_id=plan.id, grid_id=ids[nw], geometry=_geo(wider), scope=PLANNER
    )
    assert set(touched) == {ids[nw], ids[ne]}
    impact = _impact(db, plan.id)
    assert impact.errors == 0, impact.problems
    grids = {g.ref: g for g in impact.grids}
    assert grids[nw].status == grids[ne].status == "changed"
    assert grids[nw].households == 6 * 40 and grids[ne].households == 2 * 40
    assert grids[nw].moved_buildings == 2 and grids[ne].moved_buildings == 0
    assert impact.diff.changed == [nw, ne] and impact.diff.buildings_moved == 2
    assert impact.diff.households_moved == 80


def test_a_plan_with_an_overlap_is_refused_with_its_location(
    db: Session, small: SmallWorld
) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    over = box(113.80, 22.61, 113.813, 22.62)
    plan_edits.edit_grid(
        db,
        plan_id=plan.id,
        grid_id=ids[f"{COMMUNITY_WEST}001"],
        geometry=_geo(over),
        scope=PLANNER,
        adjust_neighbours=False,
    )
    impact = _impact(db, plan.id)
    assert "overlap" in _kinds(impact) and not impact.publishable
    overlap = next(f for f in impact.problems["features"] if f["properties"]["kind"] == "overlap")
    where = shapely.from_geojson(json.dumps(overlap["geometry"]))
    assert where.symmetric_difference(box(113.81, 22.61, 113.813, 22.62)).area < 1e-10
    assert overlap["properties"]["area_m2"] > 300_000
    with pytest.raises(TopologyViolation, match=r"overlap .* at 113\.81"):
        publish_plan(db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)


def test_a_plan_with_a_gap_is_refused_with_its_location(db: Session, small: SmallWorld) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    narrower = box(113.80, 22.61, 113.808, 22.62)
    plan_edits.edit_grid(
        db,
        plan_id=plan.id,
        grid_id=ids[f"{COMMUNITY_WEST}001"],
        geometry=_geo(narrower),
        scope=PLANNER,
        adjust_neighbours=False,
    )
    impact = _impact(db, plan.id)
    assert "gap" in _kinds(impact)
    with pytest.raises(TopologyViolation) as refused:
        publish_plan(db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)
    gap = next(f for f in refused.value.problems["features"] if f["properties"]["kind"] == "gap")
    lon, lat = map(float, gap["properties"]["location"].split(","))
    assert 113.808 < lon < 113.81 and 22.61 < lat < 22.62


def test_a_grid_across_two_communities_is_refused(db: Session, small: SmallWorld) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    across = box(113.815, 22.60, 113.83, 22.62)  # east community's west half, reaching west
    plan_edits.edit_grid(
        db,
        plan_id=plan.id,
        grid_id=ids[f"{COMMUNITY_EAST}001"],
        geometry=_geo(across),
        scope=PLANNER,
    )
    impact = _impact(db, plan.id)
    outside = [
        f for f in impact.problems["features"] if f["properties"]["kind"] == "outside_community"
    ]
    assert outside, impact.problems
    assert f"into {COMMUNITY_WEST}" in outside[0]["properties"]["message"]
    lon, _ = map(float, outside[0]["properties"]["location"].split(","))
    assert 113.815 < lon < 113.82
    with pytest.raises(TopologyViolation):
        publish_plan(db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)


def test_publishing_switches_atomically_and_as_of_answers_follow(
    db: Session, small: SmallWorld
) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    sw = f"{COMMUNITY_WEST}003"
    ew, ee = f"{COMMUNITY_EAST}001", f"{COMMUNITY_EAST}002"
    halves = plan_edits.split_grid(
        db,
        plan_id=plan.id,
        grid_id=ids[sw],
        scope=PLANNER,
        line=_geo(LineString([(113.805, 22.5999), (113.805, 22.6101)])),
    )
    assert len(halves) == 2
    merged = plan_edits.merge_grids(db, plan_id=plan.id, grid_ids=[ids[ew], ids[ee]], scope=PLANNER)
    impact = _impact(db, plan.id)
    assert impact.errors == 0, impact.problems
    assert sorted(impact.diff.retired) == sorted([sw, ew, ee])
    assert len(impact.diff.added) == 3
    effective = today_in_china() + timedelta(days=30)
    result = publish_plan(db, plan_id=plan.id, effective=effective, scope=PLANNER, config=CONFIG)
    assert sorted(result.retired) == sorted([sw, ew, ee])
    # new codes continue the counters: west 005 (west half) and 006 (east half), east 003
    assert sorted(result.added) == [
        f"{COMMUNITY_WEST}005",
        f"{COMMUNITY_WEST}006",
        f"{COMMUNITY_EAST}003",
    ]
    closed = db.scalar(select(Grid.valid_to).where(Grid.code == sw))
    opened = db.scalars(select(Grid.valid_from).where(Grid.code.in_(result.added))).all()
    assert closed == effective and set(opened) == {effective}
    building = small.buildings[COMMUNITY_WEST][1]  # x = 113.8025, y = 22.6075: in SW
    today, _ = grid_page(db, scope=ADMIN, on=today_in_china(), building_code=building)
    later, _ = grid_page(db, scope=ADMIN, on=effective, building_code=building)
    assert [f["id"] for f in json.loads(today)["features"]] == [sw]
    assert [f["id"] for f in json.loads(later)["features"]] == [f"{COMMUNITY_WEST}005"]
    lineage = {
        (r.parent_code, r.child_code, str(r.event))
        for r in select_grid_lineage(db, code=f"{COMMUNITY_EAST}003")
    }
    assert lineage == {(ew, f"{COMMUNITY_EAST}003", "merge"), (ee, f"{COMMUNITY_EAST}003", "merge")}
    assert merged not in ids.values()
    with pytest.raises(Conflict, match="only a draft"):
        plan_edits.delete_grid(db, plan_id=plan.id, grid_id=halves[0], scope=PLANNER)


def test_a_stale_plan_is_refused(db: Session, small: SmallWorld) -> None:
    first = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    second = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, first.id)
    plan_edits.merge_grids(
        db,
        plan_id=first.id,
        scope=PLANNER,
        grid_ids=[ids[f"{COMMUNITY_EAST}001"], ids[f"{COMMUNITY_EAST}002"]],
    )
    publish_plan(db, plan_id=first.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)
    with pytest.raises(Conflict, match="changed since"):
        publish_plan(
            db, plan_id=second.id, effective=today_in_china(), scope=PLANNER, config=CONFIG
        )


def test_planners_see_small_counts_suppressed(db: Session, small: SmallWorld) -> None:
    nw_building = small.buildings[COMMUNITY_WEST][3]  # x = 113.8025, y = 22.6175: in NW
    add_residents(db, building_code=nw_building, residents=3, floating=2)
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    for_admin = {g.ref: g for g in _impact(db, plan.id).grids}
    for_planner = {g.ref: g for g in _impact(db, plan.id, PLANNER).grids}
    nw = f"{COMMUNITY_WEST}001"
    assert for_admin[nw].resident_count == 3 and for_admin[nw].households == 3
    assert for_planner[nw].resident_count is None and for_planner[nw].households is None
    assert for_planner[nw].floating_share is None and for_planner[nw].deviation is None
    assert not any("3 households" in w for w in for_planner[nw].warnings)
    assert for_planner[f"{COMMUNITY_EAST}001"].households == 0


def test_bad_edits_are_refused(db: Session, small: SmallWorld) -> None:
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    grid = ids[f"{COMMUNITY_WEST}001"]
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[113.80, 22.61], [113.81, 22.62], [113.81, 22.61], [113.80, 22.62], [113.80, 22.61]]
        ],
    }
    with pytest.raises(InvalidGeometry, match="Self-intersection"):
        plan_edits.edit_grid(db, plan_id=plan.id, grid_id=grid, geometry=bowtie, scope=PLANNER)
    with pytest.raises(InvalidGeometry, match="does not cut"):
        plan_edits.split_grid(
            db,
            plan_id=plan.id,
            grid_id=grid,
            scope=PLANNER,
            line=_geo(LineString([(113.90, 22.0), (113.91, 22.1)])),
        )
    with pytest.raises(Forbidden):
        create_plan(db, division_code=TOWNSHIP, scope=Scope(user_name="o", role=Role.OFFICER))


def test_two_plans_published_at_once_the_second_is_refused_as_stale(
    pg_cluster: cluster.Cluster, tmp_path: Path
) -> None:
    """Two plans drafted from the same live grids, published at the same moment (committed
    data, two connections): the second waits for the first, then finds the grids it was drafted
    from changed, and is refused. (It used to compare before waiting, then overwrite the first
    plan's grids, or fail on a grid code with a 500.)"""
    with own_database(pg_cluster, "publishrace") as url:
        engine = make_engine(url, pool_size=2)
        try:
            with transaction(make_session_factory(engine)) as setup:
                build_small_world(setup)
                path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
                import_grids(setup, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
                plans = [create_plan(setup, division_code=TOWNSHIP, scope=PLANNER).id for _ in "ab"]
                east = [f"{COMMUNITY_EAST}001", f"{COMMUNITY_EAST}002"]
                for plan_id in plans:
                    ids = _ids(setup, plan_id)
                    plan_edits.merge_grids(
                        setup, plan_id=plan_id, scope=PLANNER, grid_ids=[ids[c] for c in east]
                    )
            effective = today_in_china() + timedelta(days=1)
            plan_ids = iter(plans)
            with Session(engine) as first, Session(engine) as second:
                outcome = race(first, second, lambda session: publish_plan(
                    session, plan_id=next(plan_ids), effective=effective, scope=PLANNER,
                    config=CONFIG,
                ))  # fmt: skip
            assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
            assert "the live grids changed since plan" in str(outcome[0])
        finally:
            engine.dispose()


def test_the_published_grids_are_the_ones_validated(db: Session, small: SmallWorld) -> None:
    """NE takes a sliver of NW (5 mm × 11 m, 0.055 m²) and gives its south strip to SE: NW's
    new outline is within the "same shape" tolerance of its old one, which the switch kept,
    while NE was published cut against the new one (0.055 m² of overlap once live)."""
    plan = create_plan(db, division_code=TOWNSHIP, scope=PLANNER)
    ids = _ids(db, plan.id)
    nw, ne = f"{COMMUNITY_WEST}001", f"{COMMUNITY_WEST}002"
    sliver = box(113.81 - 5e-8, 22.615, 113.81, 22.6151)
    new_ne = shapely.union(box(113.81, 22.612, 113.82, 22.62), sliver)
    plan_edits.edit_grid(db, plan_id=plan.id, grid_id=ids[ne], geometry=_geo(new_ne), scope=PLANNER)
    assert _impact(db, plan.id).errors == 0
    planned = {
        row.code: shapely.from_wkb(row.wkb)
        for row in plan_queries.select_plan_grids(db, plan_id=plan.id)
        if row.community_code == COMMUNITY_WEST
    }
    result = publish_plan(
        db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG
    )
    assert nw in result.changed and ne in result.changed
    live = {
        row.code: shapely.from_wkb(row.wkb)
        for row in select_grid_rows(db, communities=[COMMUNITY_WEST], on=today_in_china())
    }
    assert live.keys() == planned.keys()
    for code, geom in live.items():
        assert shapely.equals(geom, planned[code]), code
    assert shapely.area(shapely.intersection(live[nw], live[ne])) == 0


def test_publishing_refuses_what_the_impact_refuses(db: Session, small: SmallWorld) -> None:
    """A plan of the west community whose grid reaches 0.2 m into the east one (4.5 m²: a
    sliver of its own community, a warning): the impact checks every community the grid reaches
    and refuses ("… has no grid"), publishing checked the plan's own community only and took
    it. Less than 1 m² is noise of the outlines, for both."""
    plan = create_plan(db, division_code=COMMUNITY_WEST, scope=PLANNER)
    ids = _ids(db, plan.id)
    ne = f"{COMMUNITY_WEST}002"
    bump = box(113.82, 22.615, 113.82 + 2e-6, 22.615 + 2e-4)  # 0.2 m × 22 m
    reaching = shapely.union(box(113.81, 22.61, 113.82, 22.62), bump)
    plan_edits.edit_grid(
        db, plan_id=plan.id, grid_id=ids[ne], geometry=_geo(reaching), scope=PLANNER
    )
    impact = _impact(db, plan.id)
    assert not impact.publishable
    messages = {f["properties"]["message"] for f in impact.problems["features"]}
    assert f"community {COMMUNITY_EAST} has no grid" in messages
    with pytest.raises(TopologyViolation, match="has no grid") as refused:
        publish_plan(db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)
    refused_messages = {f["properties"]["message"] for f in refused.value.problems["features"]}
    assert f"community {COMMUNITY_EAST} has no grid" in refused_messages
    assert db.scalar(select(Grid.valid_to).where(Grid.code == ne)) is None  # nothing switched
    # drawn back to 0.2 m × 2.2 m (0.5 m²): no longer reaching, for the impact and publishing
    crumb = box(113.82, 22.615, 113.82 + 2e-6, 22.615 + 2e-5)
    plan_edits.edit_grid(
        db, plan_id=plan.id, grid_id=ids[ne], scope=PLANNER,
        geometry=_geo(shapely.union(box(113.81, 22.61, 113.82, 22.62), crumb)),
    )  # fmt: skip
    assert _impact(db, plan.id).publishable
    publish_plan(db, plan_id=plan.id, effective=today_in_china(), scope=PLANNER, config=CONFIG)


def test_a_new_grid_belongs_to_a_community_of_the_plan(db: Session, small: SmallWorld) -> None:
    """A district, a township or another plan's community was taken (201) and broke the rules
    only later."""
    plan = create_plan(db, division_code=COMMUNITY_WEST, scope=PLANNER)
    square = _geo(box(113.801, 22.601, 113.802, 22.602))
    for code, reason in (
        (TOWNSHIP, "is a township, not a community"),
        ("970101000000", "is a county, not a community"),
        (COMMUNITY_EAST, f"is not in the plan's division {COMMUNITY_WEST}"),
    ):
        with pytest.raises(InvalidInput, match=reason) as refused:
            plan_edits.add_grid(
                db, plan_id=plan.id, geometry=square, scope=PLANNER, community_code=code
            )
        assert refused.value.field == "community_code"
    # drawn in the east community, with none given: the east one is not the plan's either
    with pytest.raises(InvalidInput, match="not in the plan's division") as refused:
        plan_edits.add_grid(
            db, plan_id=plan.id, geometry=_geo(box(113.83, 22.601, 113.831, 22.602)),
            scope=PLANNER,
        )  # fmt: skip
    assert refused.value.field == "community_code"
    new_id = plan_edits.add_grid(
        db, plan_id=plan.id, geometry=square, scope=PLANNER, community_code=COMMUNITY_WEST
    )
    assert new_id in _ids(db, plan.id).values()
