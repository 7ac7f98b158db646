"""Re-survey: codes survive re-imports, shifts and edits; removals and additions are exact."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.models import Building, BuildingFootprint, BuildingStatus, ImportChange
from gis.buildings.reading import open_footprints
from gis.buildings.resurvey import ResurveySummary, resurvey_buildings
from gis.crs import parse_crs, transform_geometries

METRE_LON = 1 / 102_800  # degrees of longitude per metre at 22.5° N


@pytest.fixture(scope="module")
def base(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> gpd.GeoDataFrame:
    """Nanshan in EPSG:4490, the three invalid footprints left out."""
    frame = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings")
    frame = frame[shapely.is_valid(frame.geometry.values)].reset_index(drop=True)
    converted = transform_geometries(np.asarray(frame.geometry.values), parse_crs("GCJ02"))
    frame = frame.set_geometry(list(converted), crs="EPSG:4490")
    return frame[shapely.is_valid(frame.geometry.values)].reset_index(drop=True)


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame.to_file(path, layer="buildings")
    return path


def first_import(factory: sessionmaker[Session], path: Path, tmp_path: Path) -> None:
    source = open_footprints(path, layer="buildings", crs=None)
    import_buildings(
        factory, source=source, community_code=None, repair=False, rejects_file=tmp_path / "r0.csv"
    )


def resurvey(factory: sessionmaker[Session], path: Path, tmp_path: Path) -> ResurveySummary:
    source = open_footprints(path, layer="buildings", crs=None)
    return resurvey_buildings(
        factory, source=source, community_code=None, repair=False, rejects_file=tmp_path / "r1.csv"
    )


def codes_by_source(db: Session) -> dict[str, str]:
    rows = db.execute(select(Building.source_id, Building.code)).all()
    return {str(source_id): str(code) for source_id, code in rows}


pytestmark = pytest.mark.usefixtures("nanshan_communities")


def test_same_file_twice_changes_nothing(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = write(base, tmp_path / "base.gpkg")
    first_import(factory, path, tmp_path)
    before = codes_by_source(db)
    for _ in range(2):
        summary = resurvey(factory, path, tmp_path)
        assert summary.changes == 0 and summary.review == 0
        assert summary.unchanged == len(base)
    assert codes_by_source(db) == before
    assert db.scalar(select(func.max(Building.version))) == 1


def test_shift_of_one_metre_keeps_every_code(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    before = codes_by_source(db)
    shifted = base.copy()
    shifted.geometry = shapely.transform(base.geometry.values, lambda xy: xy + [METRE_LON, 0.0])
    summary = resurvey(factory, write(shifted, tmp_path / "shifted.gpkg"), tmp_path)
    assert summary.changed == len(base)
    assert (summary.added, summary.pending_removal, summary.review) == (0, 0, 0)
    assert codes_by_source(db) == before
    assert set(db.scalars(select(Building.version))) == {2}
    assert db.scalar(select(func.count()).select_from(BuildingFootprint)) == len(base)
    logged = db.scalar(
        select(func.count()).where(
            ImportChange.batch_id == summary.batch_id, ImportChange.change == "changed"
        )
    )
    assert logged == len(base)


def test_ten_percent_removed_five_percent_new(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    rng = np.random.default_rng(3)
    removed = rng.choice(len(base), size=len(base) // 10, replace=False)
    kept = base.drop(index=removed)
    occupied = shapely.STRtree(shapely.buffer(base.geometry.values, 0.00003))
    extent = shapely.total_bounds(base.geometry.values)
    new_squares: list[shapely.Geometry] = []
    while len(new_squares) < len(base) // 20:
        x, y = rng.uniform(extent[0], extent[2]), rng.uniform(extent[1], extent[3])
        square = shapely.box(x, y, x + 0.00005, y + 0.00005)
        if not occupied.query(square, predicate="intersects").size and not any(
            square.intersects(other) for other in new_squares[-50:]
        ):
            new_squares.append(square)
    added = gpd.GeoDataFrame(
        {"source_id": [f"new-{i}" for i in range(len(new_squares))], "height_m": 18},
        geometry=new_squares,
        crs="EPSG:4490",
    )
    survey = gpd.GeoDataFrame(
        {
            "source_id": [*kept.source_id.astype(str), *added.source_id],
            "height_m": [*kept.height_m, *added.height_m],
        },
        geometry=[*kept.geometry.values, *added.geometry.values],
        crs="EPSG:4490",
    )
    summary = resurvey(factory, write(survey, tmp_path / "survey.gpkg"), tmp_path)
    assert summary.pending_removal == len(removed)
    assert summary.added == len(new_squares)
    assert summary.unchanged == len(kept)
    assert (summary.changed, summary.review) == (0, 0)
    statuses = dict(
        db.execute(select(Building.status, func.count()).group_by(Building.status)).all()
    )
    assert statuses[BuildingStatus.PENDING_REMOVAL] == len(removed)
    assert statuses[BuildingStatus.PROVISIONAL] == len(new_squares)
    assert BuildingStatus.RETIRED not in statuses  # the import never retires


def test_a_split_goes_to_review(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    biggest = int(np.argmax(shapely.area(base.geometry.values)))
    footprint = base.geometry.values[biggest]
    minx, miny, maxx, maxy = footprint.bounds
    middle = (minx + maxx) / 2
    halves = [
        footprint.intersection(shapely.box(minx, miny, middle, maxy)),
        footprint.intersection(shapely.box(middle, miny, maxx, maxy)),
    ]
    split = base.drop(index=[biggest])
    parts = gpd.GeoDataFrame(
        {"source_id": ["half-a", "half-b"], "height_m": 18}, geometry=halves, crs="EPSG:4490"
    )
    survey = gpd.GeoDataFrame(
        {
            "source_id": [*split.source_id.astype(str), *parts.source_id],
            "height_m": [*split.height_m, *parts.height_m],
        },
        geometry=[*split.geometry.values, *parts.geometry.values],
        crs="EPSG:4490",
    )
    summary = resurvey(factory, write(survey, tmp_path / "split.gpkg"), tmp_path)
    assert summary.review == 1 and summary.changes == 0
    (item,) = summary.review_items
    assert item["proposed"] == "split"
    assert item["new_source_ids"] == ["half-a", "half-b"]
    parent = db.scalar(select(Building).where(Building.source_id == str(base.source_id[biggest])))
    assert parent is not None and item["old_codes"] == [parent.code]
    assert parent.status is BuildingStatus.ACTIVE


def test_planar_iou_is_the_iou_in_metres(db: Session) -> None:
    """The matching computes IoU from areas in degrees²; over a footprint that equals the IoU
    from areas on the spheroid (a ratio of areas survives the local affine map to metres)."""
    row = db.execute(
        text(
            "WITH p AS (SELECT ST_GeomFromText('POLYGON((113.92 22.52, 113.9204 22.52, "
            "113.9204 22.5203, 113.92 22.5203, 113.92 22.52))', 4490) AS a, "
            "ST_GeomFromText('POLYGON((113.92012 22.52008, 113.92055 22.52008, "
            "113.92055 22.52031, 113.92012 22.52031, 113.92012 22.52008))', 4490) AS b) "
            "SELECT ST_Area(ST_Intersection(a, b)) / ST_Area(ST_Union(a, b)), "
            "ST_Area(ST_Intersection(a, b)::geography) / ST_Area(ST_Union(a, b)::geography) "
            "FROM p"
        )
    ).one()
    planar, metric = row
    assert 0.2 < metric < 0.8
    assert abs(planar - metric) < 1e-4


def _square_over(
    base: gpd.GeoDataFrame, *, share: float, inside: bool = False
) -> tuple[int, shapely.Geometry, float]:
    """A 6 m square over one rectangular building of the base: across its right edge so that
    about ``share`` of the square lies over it (or, ``inside``, wholly over it), touching no
    other building. Returns the building's index, the square and the share it really has."""
    geoms = base.geometry.values
    tree = shapely.STRtree(geoms)
    side = 6 * METRE_LON
    for i in np.argsort(-shapely.area(geoms)).tolist():
        footprint = geoms[i]
        minx, miny, maxx, maxy = footprint.bounds
        if footprint.area < 0.98 * shapely.box(minx, miny, maxx, maxy).area:
            continue  # not an axis-aligned rectangle
        if maxy - miny < 2 * side or maxx - minx < 2 * side:
            continue
        cy = (miny + maxy) / 2
        left = minx + side / 2 if inside else maxx - share * side
        square = shapely.box(left, cy - side / 2, left + side, cy + side / 2)
        others = [j for j in tree.query(square, predicate="intersects").tolist() if j != i]
        if not others:
            real = square.intersection(footprint).area / square.area
            return i, square, real
    raise AssertionError("no rectangular building with room beside it")


def _with_squares(frame: gpd.GeoDataFrame, squares: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "source_id": [*frame.source_id.astype(str), *(f"sq-{i}" for i in range(len(squares)))],
            "height_m": [*frame.height_m, *(18 for _ in squares)],
        },
        geometry=[*frame.geometry.values, *squares],
        crs="EPSG:4490",
    )


def test_a_new_footprint_over_a_coded_building_goes_to_review(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """A footprint that matches no building (IoU and cover below 0.5) but lies over one by
    more than 5% of itself is not given a second code over it: the building keeps its code,
    status and footprint, the footprint is a review item naming both."""
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    under, square, share = _square_over(base, share=0.3)
    assert 0.2 < share < 0.4
    survey = _with_squares(base, [square])
    summary = resurvey(factory, write(survey, tmp_path / "over.gpkg"), tmp_path)
    assert (summary.added, summary.changed, summary.pending_removal) == (0, 0, 0)
    assert summary.unchanged == len(base) and summary.review == 1
    (item,) = summary.review_items
    building = db.scalar(select(Building).where(Building.source_id == str(base.source_id[under])))
    assert building is not None and building.status is BuildingStatus.ACTIVE
    assert item["proposed"] == "overlap"
    assert item["old_codes"] == [building.code] and item["new_source_ids"] == ["sq-0"]
    ((key, covered),) = item["covered"].items()
    assert key.startswith(building.code + ":") and covered == pytest.approx(share, abs=1e-3)
    assert db.scalar(select(func.count()).where(Building.source_id == "sq-0")) == 0
    logged = db.scalars(
        select(ImportChange.detail).where(
            ImportChange.batch_id == summary.batch_id, ImportChange.change == "review"
        )
    ).all()
    assert [detail["proposed"] for detail in logged] == ["overlap"]


def test_a_building_under_a_new_footprint_is_not_flagged_while_it_is_reviewed(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """The file lacks a building and has a footprint lying over a part of it: a rebuilt
    building, or the same one drawn anew. Neither is applied (no code issued, none flagged) until
    a person resolves the review item; the rest of the file is."""
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    under, square, _ = _square_over(base, share=0.3)
    survey = _with_squares(base.drop(index=[under, (under + 1) % len(base)]), [square])
    summary = resurvey(factory, write(survey, tmp_path / "rebuilt.gpkg"), tmp_path)
    assert (summary.added, summary.pending_removal, summary.review) == (0, 1, 1)
    assert summary.review_items[0]["proposed"] == "overlap"
    statuses = dict(db.execute(select(Building.source_id, Building.status)).all())
    assert statuses[str(base.source_id[under])] is BuildingStatus.ACTIVE
    assert statuses[str(base.source_id[(under + 1) % len(base)])] is (
        BuildingStatus.PENDING_REMOVAL
    )


def test_a_new_footprint_with_a_sliver_over_a_neighbour_is_added(
    factory: sessionmaker[Session], db: Session, base: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """A new building against a coded one's wall, drawn a little over it (a few percent of
    the new footprint, the survey's slack), is a new building: it gets its provisional code."""
    first_import(factory, write(base, tmp_path / "base.gpkg"), tmp_path)
    _, square, share = _square_over(base, share=0.03)
    assert 0.01 < share < 0.05
    summary = resurvey(factory, write(_with_squares(base, [square]), tmp_path / "s.gpkg"), tmp_path)
    assert (summary.added, summary.review, summary.pending_removal) == (1, 0, 0)
    added = db.scalar(select(Building).where(Building.source_id == "sq-0"))
    assert added is not None and added.status is BuildingStatus.PROVISIONAL
