"""Six small squares in a test community, the files that hold them and their import."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.reading import open_footprints

COMMUNITY = "990101001001"
SQUARES = [shapely.box(9.5 + i * 0.001, 47.1, 9.5 + i * 0.001 + 0.0002, 47.1002) for i in range(6)]


def seed_community(session: Session) -> None:
    session.execute(
        text(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990000000000', 'test', 'province', 1), (:c, 'community', 'village', 5) "
            "ON CONFLICT DO NOTHING"
        ),
        {"c": COMMUNITY},
    )


def write_footprints(path: Path, geoms: Sequence[shapely.Geometry], offset: float = 0.0) -> Path:
    moved = [shapely.transform(g, lambda xy: xy + [offset, 0.0]) for g in geoms]
    frame = gpd.GeoDataFrame(
        {"source_id": [f"s{i}" for i in range(len(geoms))]}, geometry=moved, crs="EPSG:4490"
    )
    frame.to_file(path, layer="buildings")
    return path


def import_footprints(factory: sessionmaker[Session], path: Path) -> None:
    source = open_footprints(path, layer="buildings", crs=None)
    import_buildings(
        factory,
        source=source,
        community_code=COMMUNITY,
        repair=False,
        rejects_file=path.with_suffix(".rejects.csv"),
    )
