"""The demo district: real Nanshan (Shekou/Houhai) footprints on stand-in community polygons.

Every step is idempotent, so ``gridhouse demo`` can run any number of times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.buildings import importing
from gis.buildings import queries as building_queries
from gis.buildings.reading import open_footprints
from gis.clock import today_in_china
from gis.crs import parse_crs, transform_geometries
from gis.db import transaction
from gis.demo_users import DemoUser, add_demo_users
from gis.divisions import queries as division_queries
from gis.divisions.derive import MAJOR_ROADS, derive_communities
from gis.divisions.models import Division
from gis.divisions.service import attach_boundaries, import_divisions
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.demo import DemoGrids, build_demo_grids
from gis.houses.service import estimate_houses
from gis.people.demo import PopulateReport, populate_demo

NANSHAN_FILE = "shenzhen-nanshan.gpkg"
NANSHAN_CRS = "GCJ02"  # the data README: evidence points to GCJ-02; the demo says so explicitly
DEMO_STREET = "440305005"  # 蛇口街道, Nanshan
DEMO_COMMUNITIES = 8


@dataclass
class DemoReport:
    divisions_inserted: int
    communities: list[tuple[str, str]]
    buildings_imported: int
    buildings_skipped: bool
    houses_estimated: int
    grids: DemoGrids | None = None
    users: list[DemoUser] = field(default_factory=list)
    residents: PopulateReport | None = None
    classes_with_residents: dict[str, int] | None = None
    """Grids per class once the residents are in (when they were loaded by this run)."""


def demo_community_codes(session: Session, *, street: str, count: int) -> list[tuple[str, str]]:
    """The first ``count`` community codes (and names) of a township, in code order."""
    rows = session.execute(
        select(Division.code, Division.name)
        .where(Division.parent_code == street.ljust(12, "0"))
        .order_by(Division.code)
        .limit(count)
    ).all()
    return [(code, name) for code, name in rows]


def derive_nanshan_communities(session: Session, *, data: Path) -> list[tuple[str, str]]:
    """Cut the Nanshan area along its major roads into communities and store their polygons."""
    gcj = parse_crs(NANSHAN_CRS)
    roads = pyogrio.read_dataframe(data / NANSHAN_FILE, layer="roads")
    major = roads[roads["highway"].isin(MAJOR_ROADS)]
    road_geoms = transform_geometries(np.asarray(major.geometry.values), gcj)
    buildings = pyogrio.read_dataframe(data / NANSHAN_FILE, layer="buildings", columns=[])
    footprints = transform_geometries(np.asarray(buildings.geometry.values), gcj)
    points = shapely.point_on_surface(shapely.make_valid(footprints))
    extent = shapely.box(*shapely.total_bounds(footprints)).buffer(0.002, join_style="mitre")
    blocks = derive_communities(road_geoms, points=points, extent=extent, count=DEMO_COMMUNITIES)
    communities = demo_community_codes(session, street=DEMO_STREET, count=len(blocks))
    for (code, _), block in zip(communities, blocks, strict=False):
        multi = shapely.multipolygons(shapely.get_parts(block))
        division_queries.update_boundary(session, code=code, wkb=bytes(shapely.to_wkb(multi)))
    session.flush()
    return communities


def build_demo(
    factory: sessionmaker[Session],
    *,
    data: Path,
    rejects_dir: Path,
    on_progress: Callable[[str], None] = lambda _: None,
    people_key: Path | None = None,
) -> DemoReport:
    """Divisions, Shenzhen districts, Nanshan communities and buildings; skip what exists."""
    with transaction(factory) as session:
        on_progress("divisions")
        divisions = import_divisions(session, path=data / "divisions")
        attach_boundaries(session, path=data / "shenzhen-districts.geojson", crs=None)
        on_progress("communities")
        communities = derive_nanshan_communities(session, data=data)
    source = open_footprints(data / NANSHAN_FILE, layer="buildings", crs=parse_crs(NANSHAN_CRS))
    on_progress("buildings")
    with transaction(factory) as session:
        existing = building_queries.count_buildings_in_communities(
            session, communities=[code for code, _ in communities]
        )
    imported = 0
    if existing == 0:
        summary = importing.import_buildings(
            factory,
            source=source,
            community_code=None,
            repair=False,
            rejects_file=rejects_dir / "demo-nanshan-rejects.csv",
        )
        imported = summary.imported
    on_progress("houses")
    with transaction(factory) as session:
        houses = estimate_houses(session, communities=[code for code, _ in communities])
    on_progress("grids")
    grids = build_demo_grids(
        factory,
        data=data,
        file=NANSHAN_FILE,
        crs=NANSHAN_CRS,
        township=DEMO_STREET.ljust(12, "0"),
        communities=[code for code, _ in communities],
    )
    on_progress("users")
    with transaction(factory) as session:
        users = add_demo_users(
            session, township=DEMO_STREET.ljust(12, "0"), community=communities[0][0]
        )
    residents = None
    if people_key is not None:
        on_progress("residents")
        residents = populate_demo(factory, data=data, people_key=people_key,
                                  communities=[code for code, _ in communities])  # fmt: skip
    classes = None
    if residents is not None and not residents.skipped:
        # the grids were classified before anyone lived in them (households from the houses,
        # floating share 0): classify them again with the residents
        on_progress("classes")
        with transaction(factory) as session:
            classes = classify_grids(
                session, on=today_in_china(), config=ClassConfig(),
                actor=Scope.system("cli:demo").actor, prefix=DEMO_STREET[:6],
            ).by_class  # fmt: skip
    return DemoReport(
        residents=residents,
        users=users,
        divisions_inserted=divisions.inserted,
        communities=communities,
        buildings_imported=imported,
        buildings_skipped=existing > 0,
        houses_estimated=houses,
        grids=grids,
        classes_with_residents=classes,
    )
