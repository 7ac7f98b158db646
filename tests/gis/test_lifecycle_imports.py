"""Imports of a building file: concurrent importers and loaders, the community's boundary."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.crs import parse_crs
from gis.db import transaction
from gis.errors import Conflict, InvalidInput
from tests.gis.lifecycle_world import (
    COMMUNITY,
    SQUARES,
    import_footprints,
    seed_community,
    write_footprints,
)


def _shifted(dx: float) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """A coordinate transformation for :func:`shapely.transform`: ``dx`` degrees east."""
    return lambda xy: xy + [dx, 0.0]


def test_eight_concurrent_importers_issue_no_duplicate(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    with transaction(scratch_factory) as session:
        seed_community(session)
    nanshan = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings", rows=400)
    nanshan = nanshan[shapely.is_valid(nanshan.geometry.values)]
    files = []
    for worker in range(8):
        moved = nanshan.copy()
        moved.geometry = shapely.transform(nanshan.geometry.values, _shifted(worker * 0.1))
        path = tmp_path / f"worker-{worker}.gpkg"
        moved.set_crs("EPSG:4490", allow_override=True).to_file(path, layer="buildings")
        files.append(path)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(path: Path) -> None:
        try:
            source = open_footprints(path, layer="buildings", crs=None)
            barrier.wait()
            import_buildings(
                scratch_factory,
                source=source,
                community_code=COMMUNITY,
                repair=False,
                rejects_file=path.with_suffix(".csv"),
                batch_size=50,
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(scratch_factory) as session:
        codes = list(session.scalars(select(Building.code)))
        seqs = sorted(session.scalars(select(Building.seq)))
    assert len(codes) == 8 * len(nanshan) == len(set(codes))
    assert seqs == list(range(1, len(codes) + 1))  # no gaps either


def test_two_loaders_in_one_import(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    with transaction(scratch_factory) as session:
        seed_community(session)
    path = shared_data / "shenzhen-nanshan.gpkg"
    source = open_footprints(path, layer="buildings", crs=parse_crs("GCJ02"))
    summary = import_buildings(
        scratch_factory, source=source, community_code=COMMUNITY, repair=False,
        rejects_file=tmp_path / "r.csv", batch_size=500, loaders=2,
    )  # fmt: skip
    assert (summary.read, summary.imported, summary.rejected) == (5438, 5435, 3)
    with transaction(scratch_factory) as session:
        seqs = sorted(session.scalars(select(Building.seq)))
    assert seqs == list(range(1, 5436))


def test_an_import_given_a_community_keeps_to_its_boundary(
    factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    """``--community`` names the community of every footprint of the file; when it has a
    boundary, footprints far outside it (a file of elsewhere, a wrong --crs) are rejected rows,
    not buildings coded there."""
    seed_community(db)
    db.execute(
        text("UPDATE divisions SET geom = ST_Multi(ST_GeomFromText(:w, 4490)) WHERE code = :c"),
        {"w": shapely.box(9.49, 47.09, 9.52, 47.11).wkt, "c": COMMUNITY},
    )
    db.commit()
    source = open_footprints(write_footprints(tmp_path / "far.gpkg", SQUARES, offset=1.0),
                             layer="buildings", crs=None)  # fmt: skip
    far = import_buildings(factory, source=source, community_code=COMMUNITY, repair=False,
                           rejects_file=tmp_path / "far.csv")  # fmt: skip
    assert far.imported == 0 and far.rejected == len(SQUARES)
    assert "outside community 990101001001" in far.rejections[0].reason
    import_footprints(factory, write_footprints(tmp_path / "near.gpkg", SQUARES))
    assert db.scalar(select(func.count()).select_from(Building)) == len(SQUARES)


def test_new_buildings_between_coded_ones_are_imported(
    factory: sessionmaker[Session], db: Session, buildings: list[str], tmp_path: Path
) -> None:
    """A plain import is refused only when a footprint lies over a live building (the whole
    file's box holding one was enough: new buildings between coded ones needed --resurvey,
    which marks every building missing from the file for removal)."""
    between = [shapely.box(9.5005 + i * 0.001, 47.1, 9.5007 + i * 0.001, 47.1002) for i in range(3)]
    import_footprints(factory, write_footprints(tmp_path / "between.gpkg", between))
    assert db.scalar(select(func.count()).select_from(Building)) == len(SQUARES) + 3
    over = [shapely.transform(SQUARES[0], lambda xy: xy + [0.00005, 0.0])]
    with pytest.raises(Conflict, match="1 buildings already exist where this file's footprints"):
        import_footprints(factory, write_footprints(tmp_path / "over.gpkg", over))


def test_a_broken_off_import_with_two_loaders_records_what_is_stored(
    scratch_factory: sessionmaker[Session], shared_data: Path, tmp_path: Path
) -> None:
    """With two loaders a batch can commit before it is counted: the failed batch's record
    said 1,499 buildings where the database held 1,999."""
    with transaction(scratch_factory) as session:
        seed_community(session)
    frame = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings")
    whole = tmp_path / "nanshan.fgb"
    frame.to_file(whole, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    broken = tmp_path / "broken.fgb"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    source = open_footprints(broken, layer=None, crs=parse_crs("GCJ02"))
    with pytest.raises(InvalidInput, match="batches before are stored"):
        import_buildings(scratch_factory, source=source, community_code=COMMUNITY, repair=False,
                         rejects_file=tmp_path / "r.csv", batch_size=500, loaders=2)  # fmt: skip
    with transaction(scratch_factory) as session:
        stored = session.scalar(select(func.count()).select_from(Building))
        recorded = session.execute(
            text("SELECT status, counts->>'imported' FROM import_batches WHERE kind = 'buildings'")
        ).one()
    assert stored and recorded == ("failed", str(stored))
