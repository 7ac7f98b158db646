"""The browser tests' world: real Nanshan footprints in one stand-in community cut into two
grids, estimated houses, a few residents and one user per role, committed to a database of its
own (the server under test runs in another thread and must see it).

::

    community 440305005001 (a box around an urban-village block of Shekou)
    ┌────────────────────┬────────────────────┐
    │ grid WEST (…001)   │ grid EAST (…002)   │
    │ class key          │ class regular      │
    │ officer's grid     │                    │
    └────────────────────┴────────────────────┘
              SPLIT_LON ─┘
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.crs import parse_crs, transform_geometries
from gis.db import transaction
from gis.divisions.models import Division, DivisionLevel
from gis.grids.models import Grid, GridClass, GridCodeCounter
from gis.houses.models import House
from gis.houses.service import estimate_houses
from gis.people.crypto import PeopleCipher
from gis.people.models import PersonCategory
from gis.roads.models import Road
from gis.users.models import Role, User
from tests.access_world import password_hash
from tests.people_world import add_person, add_residence, citizen_id

BOX = (113.9110, 22.5350, 113.9160, 22.5390)
"""The community, EPSG:4490 (min_lon, min_lat, max_lon, max_lat)."""
SPLIT_LON = 113.9135
COMMUNITY = "440305005001"
TOWNSHIP = "440305005000"
GRID_WEST = "440305005001001"
GRID_EAST = "440305005001002"
USERS = {
    Role.OFFICER: "e2e_officer",
    Role.POLICE: "e2e_police",
    Role.PLANNER: "e2e_planner",
    Role.ADMIN: "e2e_admin",
    Role.AUDITOR: "e2e_auditor",
}
RESIDENT = ("陈测试", citizen_id("440305", date(1991, 4, 12), 17), "13911112222")
"""Lives in the clicked building; their full ID number and phone must never reach a page."""


@dataclass(frozen=True)
class E2EWorld:
    building_code: str
    """A building in grid WEST (the officer's) with houses and one resident."""
    building_point: tuple[float, float]
    """Its point on surface, ``(lon, lat)``."""
    house_code: str
    """The house the resident lives in (and where the officer registers someone)."""
    building_count: int


def _divisions(db: Session) -> None:
    community = shapely.MultiPolygon([shapely.box(*BOX)])
    rows = [
        ("440000000000", "广东省", DivisionLevel.PROVINCE, None, None),
        ("440300000000", "深圳市", DivisionLevel.CITY, "440000000000", None),
        ("440305000000", "南山区", DivisionLevel.COUNTY, "440300000000", None),
        (TOWNSHIP, "蛇口街道", DivisionLevel.TOWNSHIP, "440305000000", None),
        (COMMUNITY, "东角头社区", DivisionLevel.VILLAGE, TOWNSHIP, community),
    ]
    for code, name, level, parent, geom in rows:
        db.add(
            Division(code=code, name=name, level=level, rank=level.rank, parent_code=parent,
                     geom=f"SRID=4490;{geom.wkt}" if geom is not None else None)
        )  # fmt: skip
    db.flush()


def _grids(db: Session) -> None:
    min_lon, min_lat, max_lon, max_lat = BOX
    halves = {
        GRID_WEST: (shapely.box(min_lon, min_lat, SPLIT_LON, max_lat), GridClass.KEY, "西网格"),
        GRID_EAST: (
            shapely.box(SPLIT_LON, min_lat, max_lon, max_lat),
            GridClass.REGULAR,
            # a name that is markup: every page must show it as text
            '东网格<img src=x onerror="document.body.dataset.xss=1">',
        ),
    }
    for code, (polygon, grid_class, name) in halves.items():
        db.add(
            Grid(code=code, version=1, name=name, community_code=COMMUNITY,
                 district_code=COMMUNITY[:6], grid_class=grid_class,
                 valid_from=date(2024, 1, 1), geom=f"SRID=4490;{polygon.wkt}")
        )  # fmt: skip
    db.add(GridCodeCounter(community_code=COMMUNITY, last_seq=2))
    db.flush()


def _footprints(shared_data: Path, folder: Path) -> Path:
    """The Nanshan footprints whose point on surface lies in :data:`BOX`, as EPSG:4490."""
    frame = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings")
    frame = frame[shapely.is_valid(frame.geometry.values)]
    geoms = transform_geometries(np.asarray(frame.geometry.values), parse_crs("GCJ02"))
    inside = shapely.contains(shapely.box(*BOX), shapely.point_on_surface(geoms))
    subset = gpd.GeoDataFrame(
        frame[inside].drop(columns="geometry"), geometry=list(geoms[inside]), crs="EPSG:4490"
    )
    path = folder / "e2e-buildings.gpkg"
    subset.to_file(path, layer="buildings")
    return path


def _roads(db: Session, shared_data: Path) -> None:
    """The Nanshan road centrelines near the box (the offline base map draws them)."""
    frame = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="roads")
    geoms = transform_geometries(np.asarray(frame.geometry.values), parse_crs("GCJ02"))
    near = shapely.intersects(shapely.box(*BOX).buffer(0.004), geoms)
    for highway, geom in zip(frame["highway"][near], geoms[near], strict=True):
        multi = shapely.multilinestrings(shapely.get_parts(geom))
        assert isinstance(multi, shapely.MultiLineString)  # one geometry's parts: one, not an array
        db.add(Road(highway=highway, source="e2e", geom=f"SRID=4490;{multi.wkt}"))
    db.flush()


def _residents(db: Session, cipher: PeopleCipher, house: House) -> None:
    name, id_number, phone = RESIDENT
    person = add_person(
        db, cipher, name=name, id_number=id_number, phone=phone, birth=date(1991, 4, 12),
        district_code="440305",
    )  # fmt: skip
    db.flush()
    add_residence(db, person=person, house=house)
    # floating residents spread over the block, for the heat map
    houses = db.scalars(
        select(House)
        .join(Building)
        .where(Building.community_code == COMMUNITY)
        .order_by(House.code)
    ).all()
    for seq, other in enumerate(houses[::40][:60], start=100):
        resident = add_person(
            db, cipher, name=f"流动{seq}", id_number=citizen_id("360102", date(1995, 1, 1), seq),
            phone=None, birth=date(1995, 1, 1), category=PersonCategory.FLOATING,
            district_code="440305",
        )  # fmt: skip
        db.flush()
        add_residence(db, person=resident, house=other)
    db.flush()


def build_e2e_world(
    factory: sessionmaker[Session], *, shared_data: Path, cipher: PeopleCipher
) -> E2EWorld:
    """Everything the browser tests need, committed."""
    with transaction(factory) as db:
        _divisions(db)
        _grids(db)
        _roads(db, shared_data)
    with tempfile.TemporaryDirectory() as folder:
        source = open_footprints(_footprints(shared_data, Path(folder)), layer=None, crs=None)
        summary = import_buildings(
            factory, source=source, community_code=None, repair=False,
            rejects_file=Path(folder) / "rejects.csv",
        )  # fmt: skip
    with transaction(factory) as db:
        estimate_houses(db, communities=[COMMUNITY])
        west = shapely.box(BOX[0], BOX[1], SPLIT_LON, BOX[3]).wkt
        code, lon, lat = db.execute(
            text(
                """
                SELECT b.code, ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
                FROM buildings b
                WHERE ST_Covers(ST_GeomFromText(:west, 4490), ST_PointOnSurface(b.geom))
                  AND EXISTS (SELECT 1 FROM houses h WHERE h.building_uid = b.uid)
                ORDER BY ST_Area(b.geom) DESC, b.code
                LIMIT 1
                """
            ),
            {"west": west},
        ).one()
        house = db.scalars(
            select(House).join(Building).where(Building.code == code).order_by(House.unit)
        ).first()
        assert house is not None
        _residents(db, cipher, house)
        jurisdictions: dict[Role, dict[str, object]] = {
            Role.OFFICER: {"grid_codes": [GRID_WEST]},
            Role.POLICE: {"division_code": TOWNSHIP},
            Role.PLANNER: {},
            Role.ADMIN: {},
            Role.AUDITOR: {},
        }
        for role, name in USERS.items():
            db.add(User(name=name, role=role, password_hash=password_hash(), **jurisdictions[role]))
        house_code = house.code
        db.execute(text("ANALYZE buildings"))
    return E2EWorld(
        building_code=str(code), building_point=(float(lon), float(lat)),
        house_code=house_code, building_count=summary.imported,
    )  # fmt: skip
