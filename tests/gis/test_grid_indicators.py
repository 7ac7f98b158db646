"""Indicators of live grids, counted for every grid of a district in one pass: people once per
grid (whatever number of their homes lie in it), households, rentals, organizations; stored by
classification."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import select, text, true
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.audit.models import AuditEntry
from gis.grids.building_counts import FLOATING_PRIMARY
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.importing import import_grids
from gis.grids.indicator_queries import COUNTS
from gis.grids.indicators import measure_live, measure_live_grids
from gis.grids.models import Grid
from gis.grids.placing import place_buildings
from gis.tiles.queries import floating_points
from tests.grids_world import (
    COMMUNITY_EAST,
    COMMUNITY_WEST,
    SmallWorld,
    add_building,
    add_residents,
    build_small_world,
    grid_file,
)

ADMIN = Scope.system("cli:test")
ON = date(2025, 6, 1)
NW, NE = box(113.80, 22.61, 113.81, 22.62), box(113.81, 22.61, 113.82, 22.62)
SW, SE = box(113.80, 22.60, 113.81, 22.61), box(113.81, 22.60, 113.82, 22.61)
EW, EE = box(113.82, 22.60, 113.83, 22.62), box(113.83, 22.60, 113.84, 22.62)


def _house(db: Session, building_code: str, unit: int) -> Any:
    return db.execute(
        text(
            "SELECT h.uid FROM houses h JOIN buildings b ON b.uid = h.building_uid "
            "WHERE b.code = :code AND h.unit = :unit"
        ),
        {"code": building_code, "unit": unit},
    ).scalar_one()


def _person(db: Session, *, category: str, key: bool, homes: list[tuple[Any, str]]) -> None:
    """A person with one residence per ``(house, period)``, the first one primary."""
    person = db.execute(
        text(
            "INSERT INTO people (name, category, is_key_person) VALUES ('测试', :c, :k) "
            "RETURNING uid"
        ),
        {"c": category, "k": key},
    ).scalar_one()
    for index, (house, period) in enumerate(homes):
        db.execute(
            text(
                "INSERT INTO residences "
                "(person_uid, house_uid, period, kind, declared_by, is_primary) "
                "VALUES (:p, :h, CAST(:period AS daterange), 'tenant', 'self', :primary)"
            ),
            {"p": person, "h": house, "period": period, "primary": index == 0},
        )


@pytest.fixture
def world(db: Session, tmp_path: Path) -> SmallWorld:
    """Six live grids; in the north-west grid (buildings 3, 4, 7, 8 of the west community):
    5 residents of buildings 3 and 4, a floating key person living in buildings 7 and 8, a
    person living in building 7 and in the north-east grid, a past resident, 15 rented rooms
    in building 3 and an organization."""
    small = build_small_world(db)
    path = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, EW, EE])
    import_grids(db, path=path, valid_from=date(2025, 1, 1), actor=ADMIN.actor)
    west = small.buildings[COMMUNITY_WEST]
    b3, b4, b7, b8, b11 = west[2], west[3], west[6], west[7], west[10]
    add_residents(db, building_code=b3, residents=3, floating=2)
    add_residents(db, building_code=b4, residents=2, floating=0)
    now = "[2024-01-01,)"
    _person(
        db,
        category="floating",
        key=True,
        homes=[(_house(db, b7, 40), now), (_house(db, b8, 40), now)],
    )
    _person(
        db,
        category="hukou",
        key=False,
        homes=[(_house(db, b7, 39), now), (_house(db, b11, 40), now)],
    )
    _person(
        db, category="floating", key=True, homes=[(_house(db, b8, 38), "[2024-01-01,2025-01-01)")]
    )
    db.execute(
        text(
            "UPDATE houses SET is_rented = true, rooms = 1 FROM buildings b "
            "WHERE b.uid = houses.building_uid AND b.code = :code AND houses.unit <= 15"
        ),
        {"code": b3},
    )
    db.execute(
        text(
            "INSERT INTO organizations (name, house_uid, district_code) "
            "VALUES ('测试单位', :h, '970101')"
        ),
        {"h": _house(db, b3, 20)},
    )
    db.flush()
    return small


def _live(db: Session) -> dict[str, Grid]:
    rows = db.scalars(select(Grid).where(Grid.valid_to.is_(None))).all()
    return {row.code: row for row in rows}


def test_people_are_counted_once_per_grid_and_every_count_is_right(
    db: Session, world: SmallWorld
) -> None:
    grids = _live(db)
    nw, ne, sw = (grids[f"{COMMUNITY_WEST}00{i}"] for i in (1, 2, 3))
    measured = measure_live_grids(
        db, grids=[(g.uid, g.community_code) for g in grids.values()], on=ON
    )
    north_west = measured[str(nw.uid)]
    assert north_west.buildings == 4 and north_west.houses == 4 * 40
    # 3 + 2 residents, the key person once (two homes in the grid), the person of two grids;
    # the past resident is not counted
    assert north_west.resident_count == 7
    assert north_west.floating_count == 3 and north_west.key_person_count == 1
    assert north_west.households == 3 + 2 + 2 + 1  # houses with a current resident
    assert north_west.rented_houses == 15 and north_west.large_rentals == 1
    assert north_west.organizations == 1
    assert not north_west.households_estimated
    north_east = measured[str(ne.uid)]
    assert north_east.resident_count == 1 and north_east.households == 1
    assert north_east.floating_count == 0 and north_east.organizations == 0
    south_west = measured[str(sw.uid)]
    assert south_west.buildings == 4 and south_west.resident_count == 0
    assert south_west.households == 0 and south_west.rented_houses == 0


def test_one_grid_alone_is_counted_as_in_the_whole_district(db: Session, world: SmallWorld) -> None:
    grids = _live(db)
    every = measure_live_grids(db, grids=[(g.uid, g.community_code) for g in grids.values()], on=ON)
    for grid in grids.values():
        alone = measure_live_grids(db, grids=[(grid.uid, grid.community_code)], on=ON)
        assert alone[str(grid.uid)] == every[str(grid.uid)]


def test_classification_stores_the_counts_classes_and_one_audit_row(
    db: Session, world: SmallWorld
) -> None:
    report = classify_grids(db, on=ON, config=ClassConfig(), actor=ADMIN.actor, prefix="970101")
    assert report.grids == 6 and sum(report.by_class.values()) == 6
    db.expire_all()
    grids = _live(db)
    stored = grids[f"{COMMUNITY_WEST}001"]
    assert stored.indicators["resident_count"] == 7
    assert stored.indicators["households"] == 8
    assert stored.classified_on == ON
    assert all(g.grid_class is not None and g.class_explanation for g in grids.values())
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "grids.classify")).all()
    assert len(audit) == 1 and audit[0].row_count == 6


# -- kept building counts (migration 0010_counts) against a count from scratch ------------------

# the count every classification made before building counts were kept: residences per house
# summed per grid, a person's extra residences in one grid taken off; grids and buildings paired
# by ST_Covers of the building's point on surface, in SQL
_FROM_SCRATCH = text(
    """
    WITH bg AS (
        SELECT g.uid::text AS grid, b.uid AS building_uid
        FROM grids g JOIN buildings b ON ST_Covers(g.geom, ST_PointOnSurface(b.geom))
        WHERE g.valid_to IS NULL AND b.status <> 'retired'
    ), hs AS (
        SELECT bg.grid, h.uid, h.building_uid, h.is_rented,
               h.use IN ('residential', 'mixed', 'dorm') AS is_dwelling,
               coalesce(h.rooms, 1) AS rooms
        FROM bg JOIN houses h ON h.building_uid = bg.building_uid
        WHERE h.status = 'active'
    ), rh AS (
        SELECT hs.grid, count(*) AS residents,
               count(*) FILTER (WHERE p.category = 'floating') AS floating,
               count(*) FILTER (WHERE p.is_key_person) AS key_persons
        FROM hs
        JOIN residences r ON r.house_uid = hs.uid AND r.period @> CAST(:on AS date)
        JOIN people p ON p.uid = r.person_uid
        GROUP BY hs.grid, r.house_uid
    ), rc AS (
        SELECT grid, count(*) AS households, sum(residents) AS residents,
               sum(floating) AS floating, sum(key_persons) AS key_persons
        FROM rh GROUP BY grid
    ), extra AS (
        SELECT grid, sum(n - 1) AS residents,
               coalesce(sum(n - 1) FILTER (WHERE floating), 0) AS floating,
               coalesce(sum(n - 1) FILTER (WHERE key_person), 0) AS key_persons
        FROM (
            SELECT hs.grid, r.person_uid, count(*) AS n,
                   bool_or(p.category = 'floating') AS floating,
                   bool_or(p.is_key_person) AS key_person
            FROM residences r
            JOIN hs ON hs.uid = r.house_uid
            JOIN people p ON p.uid = r.person_uid
            WHERE r.period @> CAST(:on AS date)
            GROUP BY hs.grid, r.person_uid HAVING count(*) > 1
        ) repeated GROUP BY grid
    ), bc AS (
        SELECT grid, count(*) AS buildings FROM bg GROUP BY grid
    ), hc AS (
        SELECT grid, count(*) AS houses, count(*) FILTER (WHERE is_dwelling) AS dwellings,
               count(*) FILTER (WHERE is_rented) AS rented_houses
        FROM hs GROUP BY grid
    ), lc AS (
        SELECT grid, count(*) AS large_rentals FROM (
            SELECT grid, building_uid FROM hs WHERE is_rented
            GROUP BY grid, building_uid HAVING sum(rooms) >= 15
        ) large GROUP BY grid
    ), oc AS (
        SELECT hs.grid, count(*) AS organizations
        FROM hs JOIN organizations o ON o.house_uid = hs.uid GROUP BY hs.grid
    )
    SELECT bc.grid, bc.buildings,
           coalesce(hc.houses, 0) AS houses, coalesce(hc.dwellings, 0) AS dwellings,
           coalesce(hc.rented_houses, 0) AS rented_houses,
           coalesce(lc.large_rentals, 0) AS large_rentals,
           coalesce(rc.households, 0) AS households,
           coalesce(rc.residents, 0) - coalesce(extra.residents, 0) AS residents,
           coalesce(rc.floating, 0) - coalesce(extra.floating, 0) AS floating,
           coalesce(rc.key_persons, 0) - coalesce(extra.key_persons, 0) AS key_persons,
           coalesce(oc.organizations, 0) AS organizations
    FROM bc
    LEFT JOIN hc ON hc.grid = bc.grid LEFT JOIN lc ON lc.grid = bc.grid
    LEFT JOIN rc ON rc.grid = bc.grid LEFT JOIN extra ON extra.grid = bc.grid
    LEFT JOIN oc ON oc.grid = bc.grid
    """
)


def _from_scratch(db: Session, on: date) -> dict[str, dict[str, int]]:
    rows = db.execute(_FROM_SCRATCH, {"on": on}).mappings()
    return {row["grid"]: {name: int(row[name]) for name in COUNTS} for row in rows}


def _kept(db: Session, on: date) -> dict[str, dict[str, int]]:
    grids = _live(db)
    raw = measure_live(db, uids=[g.uid for g in grids.values()], on=on)
    return {key: {name: counts[name] for name in COUNTS} for key, counts in raw.items()}


def _current_rows(db: Session, on: date) -> int:
    return int(
        db.execute(
            text(
                "SELECT count(*) FROM building_counts WHERE counted_generation = generation "
                "AND valid_from <= :on AND (valid_until IS NULL OR :on < valid_until)"
            ),
            {"on": on},
        ).scalar_one()
    )


def _run(db: Session, sql: str, **params: Any) -> None:
    db.execute(text(sql), params)


def _changes(db: Session, world: SmallWorld) -> list[tuple[str, str, dict[str, Any]]]:
    """Every kind of change of what a building holds: ``(what, SQL, parameters)``."""
    west = world.buildings[COMMUNITY_WEST]
    b3, b4, b7 = west[2], west[3], west[6]
    return [
        ("a resident arrives", "WITH p AS (INSERT INTO people (name, category) VALUES "
         "('新来', 'floating') RETURNING uid) INSERT INTO residences (person_uid, house_uid, "
         "period, kind, declared_by) SELECT p.uid, :h, daterange('2025-03-01', NULL), "
         "'tenant', 'self' FROM p", {"h": _house(db, b4, 30)}),
        ("a resident leaves", "UPDATE residences SET period = daterange(lower(period), "
         "'2025-05-01') WHERE house_uid = :h", {"h": _house(db, b3, 1)}),
        ("a resident becomes floating", "UPDATE people SET category = 'floating' WHERE uid IN "
         "(SELECT person_uid FROM residences WHERE house_uid = :h)", {"h": _house(db, b4, 1)}),
        ("a person's phone changes (nothing counted)", "UPDATE people SET occupation = 'x' "
         "WHERE uid IN (SELECT person_uid FROM residences WHERE house_uid = :h)",
         {"h": _house(db, b4, 2)}),
        ("a key person", "UPDATE people SET is_key_person = true WHERE uid IN "
         "(SELECT person_uid FROM residences WHERE house_uid = :h)", {"h": _house(db, b4, 2)}),
        ("rooms let", "UPDATE houses SET is_rented = true, rooms = 20 WHERE uid = :h",
         {"h": _house(db, b4, 5)}),
        ("a house retired", "UPDATE houses SET status = 'retired' WHERE uid = :h",
         {"h": _house(db, b3, 2)}),
        ("a house moved to another building", "UPDATE houses SET building_uid = "
         "(SELECT uid FROM buildings WHERE code = :to), unit = 999 WHERE uid = :h",
         {"h": _house(db, b7, 39), "to": b4}),
        ("an organization closes", "DELETE FROM organizations", {}),
        ("an organization opens", "INSERT INTO organizations (name, house_uid, district_code) "
         "VALUES ('新单位', :h, '970101')", {"h": _house(db, b7, 1)}),
        ("a residence deleted", "DELETE FROM residences WHERE house_uid = :h",
         {"h": _house(db, b3, 3)}),
        ("a primary residence made secondary", "UPDATE residences SET is_primary = false "
         "WHERE house_uid = :h", {"h": _house(db, b7, 40)}),
        ("a floating resident arrives after the date", "WITH p AS (INSERT INTO people "
         "(name, category) VALUES ('后来', 'floating') RETURNING uid) INSERT INTO residences "
         "(person_uid, house_uid, period, kind, declared_by) SELECT p.uid, :h, "
         "daterange('2025-07-01', NULL), 'tenant', 'self' FROM p", {"h": _house(db, b4, 31)}),
    ]  # fmt: skip


def test_kept_counts_equal_a_count_from_scratch_after_every_kind_of_change(
    db: Session, world: SmallWorld
) -> None:
    b3 = world.buildings[COMMUNITY_WEST][2]
    changes = _changes(db, world)
    assert _kept(db, ON) == _from_scratch(db, ON)
    counted = _current_rows(db, ON)
    assert counted > 0
    for what, sql, params in changes:
        _run(db, sql, **params)
        db.flush()
        stale = _current_rows(db, ON)
        assert _kept(db, ON) == _from_scratch(db, ON), what
        if "nothing counted" in what:
            assert stale == counted, "a change that counts nothing made rows stale"
        else:
            assert stale < counted, f"{what}: no building was counted again"
        counted = _current_rows(db, ON)
    # a building without a row (never given houses since the migration) is counted on the spot
    _run(
        db,
        "DELETE FROM building_counts WHERE building_uid = (SELECT uid FROM buildings "
        "WHERE code = :code)",
        code=b3,
    )
    assert _kept(db, ON) == _from_scratch(db, ON)


_FLOATING_FROM_SCRATCH = text(
    """
    SELECT floor(ST_X(ST_PointOnSurface(b.geom)) / :snap) AS ix,
           floor(ST_Y(ST_PointOnSurface(b.geom)) / :snap) AS iy, count(*) AS n
    FROM buildings b
    JOIN houses h ON h.building_uid = b.uid AND h.status = 'active'
    JOIN residences r ON r.house_uid = h.uid AND r.is_primary AND r.period @> :on
    JOIN people p ON p.uid = r.person_uid AND p.category = 'floating'
    WHERE b.status <> 'retired'
    GROUP BY 1, 2
    """
)
SNAP = 0.0001  # finer than the world's buildings lie apart: one lattice point a building


def _floating_map(db: Session, on: date) -> dict[tuple[float, float], int]:
    """The floating residents' map layer around the world, as the tiles count it."""
    x, y = 1671, 891  # the zoom-11 tile holding the world (113.80-113.84 E, 22.60-22.62 N)
    points = floating_points(db, z=11, x=x, y=y, margin=0.1, snap_deg=SNAP, where=true(), on=on)
    return {(round(lon, 6), round(lat, 6)): n for lon, lat, n in points}


def _floating_from_scratch(db: Session, on: date) -> dict[tuple[float, float], int]:
    rows = db.execute(_FLOATING_FROM_SCRATCH, {"on": on, "snap": SNAP})
    return {
        (round((float(i) + 0.5) * SNAP, 6), round((float(j) + 0.5) * SNAP, 6)): int(n)
        for i, j, n in rows
    }


def test_the_floating_map_layer_counts_from_kept_rows_what_a_count_from_scratch_finds(
    db: Session, world: SmallWorld
) -> None:
    """Floating residents by primary residence, building by building, after every kind of
    change and on dates either side of one; the rows the layer reads are then kept current."""
    later = date(2025, 8, 1)
    first = _floating_map(db, ON)
    assert first == _floating_from_scratch(db, ON)
    # b3's 2, and the floating key person once (by the primary residence, in b7)
    assert sum(first.values()) == 3
    assert _current_rows(db, ON) >= len(world.buildings[COMMUNITY_WEST])
    for what, sql, params in _changes(db, world):
        _run(db, sql, **params)
        db.flush()
        for on in (ON, later):
            assert _floating_map(db, on) == _floating_from_scratch(db, on), (what, on)
    assert _floating_map(db, later) != _floating_map(db, ON)  # the late arrival
    # a building without a row is given one, counted and kept
    b4 = world.buildings[COMMUNITY_WEST][3]
    _run(db, "DELETE FROM building_counts WHERE building_uid = "
             "(SELECT uid FROM buildings WHERE code = :code)", code=b4)  # fmt: skip
    assert _floating_map(db, later) == _floating_from_scratch(db, later)
    kept = db.execute(
        text(
            "SELECT c.counts[:at] FROM building_counts c JOIN buildings b "
            "ON b.uid = c.building_uid WHERE b.code = :code AND c.counted_generation = c.generation"
        ),
        {"code": b4, "at": FLOATING_PRIMARY},
    ).scalar_one()
    # the arrival of March, the resident who became floating, the arrival of July
    assert kept == 3


def _placed(db: Session) -> int:
    """How many grids ``place_buildings`` found again (their kept buildings may have changed)."""
    return place_buildings(db, grids=[str(g.uid) for g in _live(db).values()])


def test_kept_grid_buildings_follow_every_change_of_buildings(
    db: Session, world: SmallWorld
) -> None:
    """Each grid's buildings are kept (migration 0011_places) and found again when a statement
    inserts, moves, retires or deletes buildings in its box (here in the transaction that
    placed them; ``test_building_counts`` has a writer of another transaction)."""
    b3 = world.buildings[COMMUNITY_WEST][2]  # in the north-west grid
    assert _kept(db, ON) == _from_scratch(db, ON)
    assert _placed(db) == 0, "nothing changed, yet grids were placed again"
    new = add_building(
        db, community=COMMUNITY_WEST, seq=90, footprint=box(113.8049, 22.6149, 113.8052, 22.6152)
    )
    db.flush()
    changes: list[tuple[str, str, dict[str, Any]]] = [
        ("a building retired", "UPDATE buildings SET status = 'retired' WHERE code = :c",
         {"c": b3}),
        ("a building back", "UPDATE buildings SET status = 'active' WHERE code = :c", {"c": b3}),
        ("a footprint corrected into the next grid", "UPDATE buildings SET geom = "
         "ST_Translate(geom, 0.01, 0), version = version + 1 WHERE code = :c", {"c": b3}),
        ("a building deleted", "DELETE FROM buildings WHERE uid = :u", {"u": new.uid}),
    ]  # fmt: skip
    north_west = str(_live(db)[f"{COMMUNITY_WEST}001"].uid)
    kept = _kept(db, ON)
    assert kept == _from_scratch(db, ON), "a building added"
    assert kept[north_west]["buildings"] == 5
    for what, sql, params in changes:
        _run(db, sql, **params)
        db.flush()
        assert _kept(db, ON) == _from_scratch(db, ON), what
    assert _kept(db, ON)[north_west]["buildings"] == 3  # b3 moved east, the new one deleted
    # a change outside every grid's box makes no grid stale
    add_building(
        db, community=COMMUNITY_EAST, seq=91, footprint=box(113.90, 22.70, 113.9003, 22.7003)
    )
    db.flush()
    assert _placed(db) == 0


def test_edits_every_kept_grid_has_seen_are_pruned(db: Session, world: SmallWorld) -> None:
    _kept(db, ON)  # every grid's buildings kept
    db.execute(
        text(
            "INSERT INTO building_edits (xid, at, box) VALUES "
            "('3'::xid8, now() - interval '2 days', ST_MakeEnvelope(0, 0, 1, 1, 4490)), "
            "('3'::xid8, now(), ST_MakeEnvelope(0, 0, 1, 1, 4490))"
        )
    )
    assert _placed(db) == 0
    kept = db.execute(text("SELECT at > now() - interval '1 day' FROM building_edits "
                           "WHERE xid = '3'::xid8")).scalars().all()  # fmt: skip
    assert kept == [True], "the old edit every grid saw is kept, or the recent one is gone"


def test_kept_counts_hold_only_for_their_dates(db: Session, world: SmallWorld) -> None:
    # the past resident of building 8 lived there through 2024; residents arrived 2024-01-01
    days = [date(2023, 6, 1), date(2024, 1, 1), date(2024, 12, 31), date(2025, 1, 1), ON]
    for day in days + days[::-1]:
        assert _kept(db, day) == _from_scratch(db, day), day
    _kept(db, ON)
    # counted for 2025-01-01 on, a date of 2024 must not take those rows
    west8 = db.execute(
        text(
            "SELECT c.valid_from, c.valid_until FROM building_counts c "
            "JOIN buildings b ON b.uid = c.building_uid WHERE b.code = :code"
        ),
        {"code": world.buildings[COMMUNITY_WEST][7]},
    ).one()
    assert west8.valid_from == date(2025, 1, 1) and west8.valid_until is None
