"""Indicators of live grids, counted for every grid of a district in one pass: people once per
grid (whatever number of their homes lie in it), households, rentals, organizations; stored by
classification."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.audit.models import AuditEntry
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.importing import import_grids
from gis.grids.indicators import measure_live_grids
from gis.grids.models import Grid
from tests.grids_world import (
    COMMUNITY_WEST,
    SmallWorld,
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
