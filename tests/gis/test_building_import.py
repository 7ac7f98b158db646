"""Importing real footprints: rejects, repair, CRS handling, communities, codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from stdnum.iso7064 import mod_11_2

from gis.audit.models import AuditEntry
from gis.audit.schemas import Actor
from gis.buildings.importing import ImportSummary, import_buildings
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.buildings.resurvey import resurvey_buildings
from gis.crs import parse_crs
from gis.errors import Conflict, CrsRequired, InvalidInput

NANSHAN_INVALID = {"1367", "1715", "4585"}
TEST_COMMUNITY = "990101001001"


def run(
    factory: sessionmaker[Session],
    path: Path,
    tmp_path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    community: str | None = None,
    repair: bool = False,
    actor: Actor | None = None,
) -> ImportSummary:
    source = open_footprints(path, layer=layer, crs=parse_crs(crs) if crs else None)
    return import_buildings(
        factory,
        actor=actor,
        source=source,
        community_code=community,
        repair=repair,
        rejects_file=tmp_path / "rejects.csv",
        batch_size=2000,
    )


@pytest.fixture
def test_community(db: Session) -> str:
    """A community of our own (no polygon) for data outside China."""
    db.execute(
        text(
            "INSERT INTO divisions (code, name, level, rank, parent_code) VALUES "
            "('990000000000', 'test province', 'province', 1, NULL), "
            "(:code, 'test community', 'village', 5, '990000000000')"
        ),
        {"code": TEST_COMMUNITY},
    )
    db.commit()
    return TEST_COMMUNITY


@pytest.mark.usefixtures("nanshan_communities")
def test_nanshan_import(
    factory: sessionmaker[Session], db: Session, shared_data: Path, tmp_path: Path
) -> None:
    summary = run(factory, shared_data / "shenzhen-nanshan.gpkg", tmp_path, crs="GCJ02")
    assert (summary.read, summary.imported, summary.rejected) == (5438, 5435, 3)
    assert {r.source_id for r in summary.rejections} == NANSHAN_INVALID
    assert all("Self-intersection" in r.reason for r in summary.rejections)
    with (tmp_path / "rejects.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["source_id"] for row in rows} == NANSHAN_INVALID
    assert all(row["row"] and row["reason"] for row in rows)
    codes = list(db.scalars(select(Building.code)))
    assert len(codes) == len(set(codes)) == 5435
    assert all(len(code) == 25 and mod_11_2.is_valid(code) for code in codes)
    # each code's community is the one holding the point on surface, and seqs run 1..n
    mismatched = db.scalar(
        text(
            "SELECT count(*) FROM buildings b JOIN divisions d ON d.code = b.community_code "
            "WHERE NOT ST_Contains(d.geom, ST_PointOnSurface(b.geom)) "
            "OR left(b.code, 12) <> b.community_code"
        )
    )
    assert mismatched == 0
    gaps = db.scalar(
        text(
            "SELECT count(*) FROM (SELECT community_code, max(seq) - count(*) AS gap "
            "FROM buildings GROUP BY 1) g WHERE gap <> 0"
        )
    )
    assert gaps == 0


@pytest.mark.usefixtures("nanshan_communities")
def test_nanshan_repair(
    factory: sessionmaker[Session], db: Session, shared_data: Path, tmp_path: Path
) -> None:
    summary = run(
        factory, shared_data / "shenzhen-nanshan.gpkg", tmp_path, crs="GCJ02", repair=True
    )
    assert (summary.imported, summary.rejected, summary.repaired) == (5438, 0, 3)
    assert set(summary.repaired_ids) == NANSHAN_INVALID
    repaired = db.scalars(
        select(func.ST_IsValid(Building.geom)).where(Building.source_id.in_(NANSHAN_INVALID))
    ).all()
    assert repaired == [True, True, True]


@pytest.mark.usefixtures("nanshan_communities")
def test_gcj02_is_converted_on_input(
    factory: sessionmaker[Session], db: Session, shared_data: Path, tmp_path: Path
) -> None:
    raw = gpd.read_file(shared_data / "shenzhen-nanshan.gpkg", layer="buildings", rows=1)
    run(factory, shared_data / "shenzhen-nanshan.gpkg", tmp_path, crs="GCJ02")
    stored = db.scalar(
        text(
            "SELECT ST_Distance(ST_PointOnSurface(geom)::geography, "
            "ST_SetSRID(ST_GeomFromText(:wkt), 4490)::geography) "
            "FROM buildings WHERE source_id = :id"
        ),
        {
            "wkt": shapely.point_on_surface(raw.geometry.iloc[0]).wkt,
            "id": str(raw.source_id.iloc[0]),
        },
    )
    assert 200 < stored < 700


@pytest.mark.parametrize(
    ("name", "layer"),
    [("liechtenstein-2013.gpkg", "buildings"), ("liechtenstein-2013.osm.pbf", None)],
)
def test_liechtenstein_gpkg_and_pbf_give_the_same_count(
    factory: sessionmaker[Session],
    db: Session,
    shared_data: Path,
    tmp_path: Path,
    test_community: str,
    name: str,
    layer: str | None,
) -> None:
    summary = run(factory, shared_data / name, tmp_path, layer=layer, community=test_community)
    # OpenStreetMap has one building twice (ways 1176 and the one two rows before it, the same
    # outline): it gets one code, the second row is a rejected duplicate
    assert (summary.read, summary.imported) == (3723, 3722)
    [duplicate] = summary.rejections
    assert duplicate.source_id in ("1176", "w1176")
    assert duplicate.reason.startswith("the same footprint as row ")
    assert db.scalar(select(func.count()).select_from(Building)) == 3722


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")  # the point of it
def test_a_file_without_crs_is_refused(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"source_id": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=None)
    path = tmp_path / "no-crs.shp"
    frame.to_file(path)
    with pytest.raises(CrsRequired, match="declares no CRS") as error:
        open_footprints(path, layer=None, crs=None)
    assert error.value.field == "--crs"
    assert open_footprints(path, layer=None, crs=parse_crs("EPSG:4490")).crs.epsg == 4490


def _nan_polygon() -> shapely.Polygon:
    with np.errstate(invalid="ignore"):  # a coordinate that is not a number, on purpose
        return shapely.Polygon([(9.5, 47.1), (float("nan"), 47.1), (9.5, 47.2)])


def test_bad_rows_are_rejected_with_reasons(
    factory: sessionmaker[Session], db: Session, tmp_path: Path, test_community: str
) -> None:
    good = shapely.box(9.5, 47.1, 9.5001, 47.1001)
    rows = {
        "good": good,
        "empty": shapely.Polygon(),
        "line": shapely.LineString([(9.5, 47.1), (9.6, 47.2)]),
        "swapped": shapely.box(47.1, 9.5, 47.1001, 9.5001).union(
            shapely.box(47.1, 95.5, 47.1001, 95.5001)
        ),
        "bowtie": shapely.Polygon([(9.5, 47.1), (9.51, 47.11), (9.51, 47.1), (9.5, 47.11)]),
        "nan": _nan_polygon(),
    }
    # polygons that are fine, with attributes or a size no building has, or twice in the file
    box = [shapely.box(9.5 + i * 0.001, 47.2, 9.5001 + i * 0.001, 47.2001) for i in range(5)]
    rows |= {"class9": box[0], "tall": box[1], "storeys": box[2], "twice": good,
             "speck": shapely.box(9.6, 47.2, 9.6000001, 47.2000001)}  # fmt: skip
    attributes = {"class9": ("9", None, None), "tall": (None, 1e9, None),
                  "storeys": (None, None, 32767)}  # fmt: skip
    frame = gpd.GeoDataFrame(
        {
            "source_id": list(rows),
            "structure_class": [attributes.get(k, (None,) * 3)[0] for k in rows],
            "height_m": [attributes.get(k, (None,) * 3)[1] for k in rows],
            "floors": [attributes.get(k, (None,) * 3)[2] for k in rows],
        },
        geometry=list(rows.values()),
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.gpkg"
    frame.to_file(path, layer="buildings")
    summary = run(factory, path, tmp_path, community=test_community)
    reasons = {r.source_id: r.reason for r in summary.rejections}
    assert summary.imported == 1
    assert reasons["empty"] == "empty geometry"
    assert reasons["line"].startswith("not a polygon")
    assert "swapped" in reasons["swapped"]
    assert "Self-intersection" in reasons["bowtie"]
    assert "NaN" in reasons["nan"]
    assert reasons["class9"] == "structure_class is not 1, 2 or 3"  # was stored as 1
    assert reasons["tall"] == "height_m 1e+09 is more than 1000 m"
    assert reasons["storeys"] == "floors 32767 is more than 200"
    assert reasons["twice"] == "the same footprint as row 1"  # would have had two codes
    assert reasons["speck"].endswith("m², under 1 m²")


def test_degrees_given_a_crs_in_metres_are_refused_naming_the_option(
    factory: sessionmaker[Session], db: Session, tmp_path: Path, test_community: str
) -> None:
    """Each footprint became a speck near the CRS's origin, refused as 'under 1 m²' one by
    one, with nothing to say the CRS was wrong."""
    path = tmp_path / "degrees.geojson"
    path.write_text(json.dumps(shapely.geometry.mapping(shapely.box(9.5, 47.2, 9.5002, 47.2002))))
    before = db.scalar(select(func.count()).select_from(Building))
    with pytest.raises(InvalidInput) as refused:
        run(factory, path, tmp_path, community=test_community, crs="EPSG:3857")
    assert refused.value.field == "--crs"
    assert "look like degrees (lon/lat), but EPSG:3857 is in metres" in str(refused.value)
    assert db.scalar(select(func.count()).select_from(Building)) == before


def test_attributes_that_are_no_number_are_refused_not_dropped(
    factory: sessionmaker[Session], db: Session, tmp_path: Path, test_community: str
) -> None:
    """A height of "tall", -3 floors or "1_0" (which Python's float reads as 10) were stored as
    unknown or as a number the file never said; a source id of 5,000 characters was cut to
    100 (it would name another row). 0 or blank is unknown, as before."""
    rows: dict[str, dict[str, str | int]] = {
        "tall": {"height_m": "tall"},
        "below": {"floors": -3},
        "under": {"height_m": "1_0"},
        "nan": {"height_m": "nan"},
        "x" * 5000: {},
        "zero": {"height_m": "0", "floors": ""},
        "fine": {"height_m": " 12.5 ", "floors": "4"},
    }
    features = [
        {"type": "Feature", "properties": {"source_id": key, **props},
         "geometry": shapely.geometry.mapping(
             shapely.box(9.5 + i * 0.001, 47.2, 9.5002 + i * 0.001, 47.2002))}
        for i, (key, props) in enumerate(rows.items())
    ]  # fmt: skip
    path = tmp_path / "attributes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    summary = run(factory, path, tmp_path, community=test_community)
    reasons = {(r.source_id or "")[:10]: r.reason for r in summary.rejections}
    assert reasons == {
        "tall": "height_m 'tall' is not a positive number",
        "below": "floors '-3' is not a positive number",
        "under": "height_m '1_0' is not a positive number",
        "nan": "height_m 'nan' is not a positive number",
        "x" * 10: "source id of 5,000 characters: at most 100",
    }
    stored = db.execute(
        select(Building.source_id, Building.height_m, Building.floors).where(
            Building.source_id.in_(["zero", "fine"])
        )
    ).all()
    assert sorted(tuple(row) for row in stored) == [("fine", 12.5, 4), ("zero", None, None)]


@pytest.mark.usefixtures("nanshan_communities")
def test_importing_over_existing_buildings_needs_resurvey(
    factory: sessionmaker[Session], db: Session, shared_data: Path, tmp_path: Path
) -> None:
    path = shared_data / "shenzhen-nanshan.gpkg"
    run(factory, path, tmp_path, crs="GCJ02")
    with pytest.raises(Conflict, match="--resurvey"):
        run(factory, path, tmp_path, crs="GCJ02")
    assert db.scalar(select(func.count()).select_from(Building)) == 5435


def test_community_option_is_checked(
    factory: sessionmaker[Session], shared_data: Path, tmp_path: Path, test_community: str
) -> None:
    with pytest.raises(InvalidInput, match="no division has the code") as error:
        run(
            factory,
            shared_data / "liechtenstein-2013.gpkg",
            tmp_path,
            layer="buildings",
            community="990101001999",
        )
    assert error.value.field == "--community"
    with pytest.raises(InvalidInput, match="not a community"):
        run(
            factory,
            shared_data / "liechtenstein-2013.gpkg",
            tmp_path,
            layer="buildings",
            community="990000000000",
        )


@pytest.mark.usefixtures("divisions_loaded")
def test_buildings_outside_every_community_are_rejected(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    frame = gpd.GeoDataFrame(
        {"source_id": ["far"]},
        geometry=[shapely.box(100.0, 30.0, 100.0001, 30.0001)],
        crs="EPSG:4490",
    )
    path = tmp_path / "far.geojson"
    frame.to_file(path)
    summary = run(factory, path, tmp_path)
    assert summary.imported == 0
    assert summary.rejections[0].reason == "no community polygon holds its point on surface"
    assert np.isfinite(summary.seconds)


@pytest.mark.usefixtures("nanshan_communities")
def test_a_file_that_breaks_off_is_refused_saying_what_was_stored(
    factory: sessionmaker[Session], db: Session, shared_data: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "nanshan.fgb"
    frame = pyogrio.read_dataframe(shared_data / "shenzhen-nanshan.gpkg", layer="buildings")
    pyogrio.write_dataframe(frame, whole, driver="FlatGeobuf", spatial_index=False)
    broken = tmp_path / "broken.fgb"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size * 3 // 4])
    with pytest.raises(InvalidInput, match="cannot be read after feature") as refused:
        run(factory, broken, tmp_path, crs="GCJ02", actor=Actor(name="cli:test", role="admin"))
    stored = db.scalar(select(func.count()).select_from(Building))
    assert stored and stored < 5435  # one transaction a batch: the batches before stay
    # each stored batch wrote its audit row with it (there was none: it came after the job)
    audited = db.execute(
        select(func.count(), func.sum(AuditEntry.row_count)).where(
            AuditEntry.action == "buildings.import"
        )
    ).one()
    assert audited[0] >= 1 and audited[1] == stored
    message = str(refused.value)
    assert f"{stored:,} buildings of the batches before are stored" in message, message
    assert message.startswith("FILE: broken.fgb") and "--resurvey" in message
    # the rows refused before the break are in the rejects file all the same
    with (tmp_path / "rejects.csv").open() as handle:
        rejected = {row["source_id"] for row in csv.DictReader(handle)}
    assert rejected and rejected <= NANSHAN_INVALID
    # and the advice holds: the whole file with --resurvey keeps the stored codes
    codes = set(db.scalars(select(Building.code)))
    source = open_footprints(whole, layer=None, crs=parse_crs("GCJ02"))
    resurvey_buildings(
        factory, source=source, community_code=None, repair=False, rejects_file=tmp_path / "r.csv"
    )
    db.expire_all()
    assert codes <= set(db.scalars(select(Building.code)))
