"""Worlds for grid tests: two small communities with buildings and houses, and Liechtenstein's
real municipalities loaded as communities.

The small world lives under the fictitious province 97 (the access world uses 99, Liechtenstein
98), inside the test's rolled-back transaction::

    community 970101001001 (west)        community 970101001002 (east)
    113.80 … 113.82 E, 22.60 … 22.62 N   113.82 … 113.84 E, 22.60 … 22.62 N
    16 buildings (4 × 4), 30 m squares   16 buildings

Each building gets ``HOUSES`` estimated-style flats; no residences unless a test adds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyogrio
import shapely
from shapely.geometry import MultiPolygon, box
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building, BuildingStatus
from gis.buildings.reading import open_footprints
from gis.codes import format_code
from gis.divisions.models import Division, DivisionLevel
from gis.houses.models import House, HouseUse

if TYPE_CHECKING:
    from tests.access_world import World

WEST = box(113.80, 22.60, 113.82, 22.62)
EAST = box(113.82, 22.60, 113.84, 22.62)
COMMUNITY_WEST = "970101001001"
# six grids over the two communities: four quarters of the west one, two halves of the east one
NW, NE = box(113.80, 22.61, 113.81, 22.62), box(113.81, 22.61, 113.82, 22.62)
SW, SE = box(113.80, 22.60, 113.81, 22.61), box(113.81, 22.60, 113.82, 22.61)
EW, EE = box(113.82, 22.60, 113.83, 22.62), box(113.83, 22.60, 113.84, 22.62)
COMMUNITY_EAST = "970101001002"
HOUSES = 40
LIECHTENSTEIN = "liechtenstein-2013.gpkg"

SMALL_DIVISIONS = [
    ("970000000000", DivisionLevel.PROVINCE, None),
    ("970100000000", DivisionLevel.CITY, "970000000000"),
    ("970101000000", DivisionLevel.COUNTY, "970100000000"),
    ("970101001000", DivisionLevel.TOWNSHIP, "970101000000"),
    (COMMUNITY_WEST, DivisionLevel.VILLAGE, "970101001000"),
    (COMMUNITY_EAST, DivisionLevel.VILLAGE, "970101001000"),
]


@dataclass
class SmallWorld:
    communities: dict[str, Any] = field(default_factory=dict)
    buildings: dict[str, list[str]] = field(default_factory=dict)
    """Building codes per community, west→east then south→north."""


def _ewkt(geom: Any) -> str:
    return f"SRID=4490;{geom.wkt}"


def add_divisions(
    db: Session, rows: list[tuple[str, DivisionLevel, str | None]], polygons: dict[str, Any]
) -> None:
    db.execute(
        insert(Division),
        [
            {
                "code": code,
                "name": f"测试{code}",
                "level": level,
                "rank": level.rank,
                "parent_code": parent,
                "geom": _ewkt(MultiPolygon([polygons[code]])) if code in polygons else None,
            }
            for code, level, parent in rows
        ],
    )


def add_building(db: Session, *, community: str, seq: int, footprint: Any) -> Building:
    building = Building(
        uid=uuid.uuid4(),
        code=format_code(community_code=community, structure_class=1, seq=seq),
        district_code=community[:6],
        community_code=community,
        seq=seq,
        status=BuildingStatus.ACTIVE,
        geom=_ewkt(MultiPolygon([footprint])),
        height_m=30.0,
    )
    db.add(building)
    return building


def add_houses(db: Session, building: Building, count: int, *, rented: bool = False) -> None:
    for unit in range(1, count + 1):
        code = format_code(
            community_code=building.community_code, structure_class=1, seq=building.seq, unit=unit
        )
        db.add(
            House(
                uid=uuid.uuid4(),
                code=code,
                building_uid=building.uid,
                district_code=building.district_code,
                unit=unit,
                floor=unit // 4 + 1,
                use=HouseUse.RESIDENTIAL,
                area_m2=90.0,
                is_rented=rented,
                rooms=1,
            )
        )


def build_small_world(db: Session, *, houses: int = HOUSES) -> SmallWorld:
    """Two communities with 16 buildings each (``houses`` flats a building)."""
    add_divisions(db, SMALL_DIVISIONS, {COMMUNITY_WEST: WEST, COMMUNITY_EAST: EAST})
    world = SmallWorld(communities={COMMUNITY_WEST: WEST, COMMUNITY_EAST: EAST})
    for community, area in world.communities.items():
        min_x, min_y, _, _ = area.bounds
        codes = []
        for i in range(4):
            for j in range(4):
                x, y = min_x + 0.0025 + i * 0.005, min_y + 0.0025 + j * 0.005
                footprint = box(x - 0.00015, y - 0.00015, x + 0.00015, y + 0.00015)
                building = add_building(
                    db, community=community, seq=4 * i + j + 1, footprint=footprint
                )
                codes.append(building.code)
                db.flush()
                add_houses(db, building, houses)
        world.buildings[community] = codes
    db.flush()
    return world


def add_residents(
    db: Session,
    *,
    building_code: str,
    residents: int,
    floating: int,
    since: date = date(2024, 1, 1),
) -> None:
    """People living in the first houses of a building (one each), ``floating`` of them
    floating."""
    houses = (
        db.execute(
            text(
                "SELECT h.uid FROM houses h JOIN buildings b ON b.uid = h.building_uid "
                "WHERE b.code = :code ORDER BY h.unit LIMIT :n"
            ),
            {"code": building_code, "n": residents},
        )
        .scalars()
        .all()
    )
    for index, house in enumerate(houses):
        person = db.execute(
            text("INSERT INTO people (name, category) VALUES ('测试', :category) RETURNING uid"),
            {"category": "floating" if index < floating else "hukou"},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO residences (person_uid, house_uid, period, kind, declared_by) "
                "VALUES (:p, :h, daterange(:since, NULL), 'tenant', 'self')"
            ),
            {"p": person, "h": house, "since": since},
        )


def grid_file(path: Path, polygons: list[Any], codes: Sequence[str | None] | None = None) -> Path:
    """A GeoJSON file of grids (EPSG:4326; 4490 and 4326 agree to the metre)."""
    import geopandas as gpd

    names = [f"网格{i}" for i in range(len(polygons))]
    frame = gpd.GeoDataFrame(
        {"code": codes or [None] * len(polygons), "name": names}, geometry=polygons, crs="EPSG:4326"
    )
    frame.to_file(path, driver="GeoJSON")
    return path


# -- Liechtenstein ---------------------------------------------------------------------------

LI_DIVISIONS = [
    ("980000000000", DivisionLevel.PROVINCE, None),
    ("980100000000", DivisionLevel.CITY, "980000000000"),
    ("980101000000", DivisionLevel.COUNTY, "980100000000"),
    ("980101001000", DivisionLevel.TOWNSHIP, "980101000000"),
]


def load_liechtenstein(
    db: Session, factory: sessionmaker[Session], data: Path, tmp_path: Path
) -> dict[str, str]:
    """The municipalities (admin_level 8) as communities 980101001001…, their buildings imported
    with codes and estimated houses, their roads loaded. Returns code → municipality name."""
    from gis.houses.service import estimate_houses
    from gis.roads.service import import_roads

    path = data / LIECHTENSTEIN
    frame = pyogrio.read_dataframe(path, layer="boundaries")
    frame = frame[frame["admin_level"].astype(str) == "8"].sort_values("name")
    names: dict[str, str] = {}
    polygons: dict[str, Any] = {}
    rows = list(LI_DIVISIONS)
    for index, (name, geom) in enumerate(zip(frame["name"], frame.geometry, strict=True), 1):
        code = f"980101001{index:03d}"
        names[code] = str(name)
        rows.append((code, DivisionLevel.VILLAGE, "980101001000"))
        polygons[code] = geom
    db.execute(
        insert(Division),
        [
            {
                "code": code,
                "name": names.get(code, f"测试{code}"),
                "level": level,
                "rank": level.rank,
                "parent_code": parent,
                "geom": _ewkt(shapely.multipolygons(shapely.get_parts(polygons[code])))
                if code in polygons
                else None,
            }
            for code, level, parent in rows
        ],
    )
    db.commit()  # releases the savepoint: the import's sessions see the communities
    summary = import_buildings(
        factory,
        source=open_footprints(path, layer="buildings", crs=None),
        community_code=None,
        repair=True,
        rejects_file=tmp_path / "rejects.csv",
    )
    assert summary.imported > 3000, summary
    estimate_houses(db, communities=sorted(names))
    import_roads(db, path=path, layer="roads")
    db.flush()
    db.execute(text("ANALYZE buildings, houses, divisions"))  # plans fit for the rows just added
    return names


def points_of(polygons: list[Any]) -> np.ndarray:
    return np.asarray(shapely.point_on_surface(np.array(polygons, dtype=object)))


# -- the access world's plans ----------------------------------------------------------------

MISSING_ID = "999999999"


def add_grids_world(db: Session, world: World) -> World:
    """Two draft plans of county 990101 in the access world (tests/access_world.py), each a
    copy of its live grids: ``world.objects["plans"]`` and ``["plan_grids"]`` (the copy of
    GRID_OWN in each plan; in the own plan it is cut in two halves, ``own`` and ``own_b``)."""
    from gis.grids.models import GridPlan, PlanStatus
    from gis.grids.plan_queries import (
        copy_live_grids,
        insert_plan_grid,
        select_plan_grids,
        update_plan_grid_geometry,
    )
    from tests.access_world import GRID_OTHER, GRID_OWN

    plans: dict[str, str] = {"missing": MISSING_ID}
    grids: dict[str, str] = {"missing": MISSING_ID}
    for variant in ("own", "other"):
        plan = GridPlan(
            name=f"plan {variant}",
            division_code="990101000000",
            district_code="990101",
            status=PlanStatus.DRAFT,
            created_by="t_planner",
            base_versions={GRID_OWN: 2, GRID_OTHER: 1},
        )
        db.add(plan)
        db.flush()
        copy_live_grids(db, plan_id=plan.id, communities=["990101001001", "990101001002"])
        copies = {row.code: row.id for row in select_plan_grids(db, plan_id=plan.id)}
        plans[variant] = str(plan.id)
        grids[variant] = str(copies[GRID_OWN])
        if variant == "own":  # GRID_OWN cut in two at 113.9075: halves to merge
            west, east = box(113.90, 22.50, 113.9075, 22.51), box(113.9075, 22.50, 113.91, 22.51)
            update_plan_grid_geometry(db, grid_id=copies[GRID_OWN], wkb=shapely.to_wkb(west))
            values = {"plan_id": plan.id, "community_code": "990101001001"}
            grids["own_b"] = str(insert_plan_grid(db, values=values, wkb=shapely.to_wkb(east)))
    world.objects["plans"] = plans
    world.objects["plan_grids"] = grids
    return world
