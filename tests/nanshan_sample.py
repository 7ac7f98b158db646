"""A few hundred real Nanshan footprints imported into the test's transaction (for tests that
need real buildings but not all 5,438)."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.crs import parse_crs


def import_nanshan_sample(
    factory: sessionmaker[Session], db: Session, *, shared_data: Path, tmp_path: Path, count: int
) -> list[str]:
    """Import the first ``count`` valid footprints of the Nanshan file (GCJ-02) and return the
    codes issued, in code order. Needs the ``nanshan_communities`` fixture."""
    frame = pyogrio.read_dataframe(
        shared_data / "shenzhen-nanshan.gpkg", layer="buildings", max_features=count + 10
    )
    frame = frame[shapely.is_valid(frame.geometry.values)].head(count)
    path = tmp_path / "nanshan-sample.gpkg"
    pyogrio.write_dataframe(frame, path, layer="buildings")
    source = open_footprints(path, layer="buildings", crs=parse_crs("GCJ02"))
    summary = import_buildings(
        factory, source=source, community_code=None, repair=False,
        rejects_file=tmp_path / "rejects.csv",
    )  # fmt: skip
    assert summary.imported == count, summary.counts()
    return list(db.scalars(select(Building.code).order_by(Building.code)))
