"""Exports: files GDAL reads back, scope and roles, audit rows, and the round trip of a
buildings export re-imported with ``--resurvey`` (codes and geometries kept)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TypedDict

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
import shapely.affinity
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.audit.models import AuditEntry
from gis.audit.schemas import Actor
from gis.buildings.models import Building
from gis.buildings.reading import open_footprints
from gis.buildings.resurvey import resurvey_buildings
from gis.crs import SourceCrs, parse_crs
from gis.errors import Forbidden, InvalidInput, NotFound
from gis.exports import service as export_service
from gis.exports.service import ExportFormat, ExportLayer, ExportResult, export_layer
from gis.grids.importing import read_grid_file
from gis.grids.models import Grid
from gis.grids.switch import same_shape
from gis.people.crypto import PeopleCipher
from gis.users.models import Role
from tests.access_world import GRID_OWN, World
from tests.nanshan_sample import import_nanshan_sample
from tests.people_world import CANARY

TODAY = date(2026, 6, 1)
ADMIN = Actor(name="cli:test", role="admin")
SAMPLE = 200


def _export(
    db: Session,
    layer: ExportLayer,
    out: Path,
    scope: Scope | None = None,
    *,
    crs: SourceCrs | None = None,
    grid_code: str | None = None,
    division_code: str | None = None,
    cipher: PeopleCipher | None = None,
) -> ExportResult:
    scope = scope or Scope.system("cli:test")
    file_format = ExportFormat.from_path(out)
    return export_layer(
        db, layer=layer, out=out, file_format=file_format, scope=scope, actor=scope.actor,
        today=TODAY, crs=crs, grid_code=grid_code, division_code=division_code, cipher=cipher,
    )  # fmt: skip


class _Options(TypedDict, total=False):
    grid_code: str
    division_code: str


def _stored(db: Session) -> dict[str, shapely.Geometry]:
    rows = db.execute(select(Building.code, func.ST_AsBinary(Building.geom))).all()
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


@pytest.mark.usefixtures("nanshan_communities")
def test_buildings_round_trip_through_gpkg_and_geojson(
    db: Session,
    factory: sessionmaker[Session],
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Export, read back, and re-import with --resurvey: every code is kept, nothing added.

    GeoPackage keeps EPSG:4490 and the very coordinates; GeoJSON is EPSG:4326 (RFC 7946) and
    GDAL writes 15 significant digits, so footprints come back within 1e-9° (0.1 mm): both are
    every footprint "unchanged" (GeoJSON's were "changed", their versions bumped by noise).
    Files are written in chunks of 64 rows here (4 chunks), as a province is in chunks of 50,000.
    """
    monkeypatch.setattr(export_service, "CHUNK_ROWS", 64)
    codes = import_nanshan_sample(factory, db, shared_data=shared_data, tmp_path=tmp_path,
                                  count=SAMPLE)  # fmt: skip
    stored = _stored(db)
    for name, layer_name in (("b.gpkg", "buildings"), ("b.geojson", None)):
        out = tmp_path / name
        result = _export(db, ExportLayer.BUILDINGS, out)
        assert result.rows == SAMPLE
        frame = pyogrio.read_dataframe(out)
        assert sorted(frame["code"]) == codes
        assert frame["height_m"].dtype.kind == "f" and frame["version"].dtype.kind == "i"
        assert frame.crs.to_epsg() == (4490 if name.endswith("gpkg") else 4326)
        back = dict(zip(frame["code"], frame.geometry.values, strict=True))
        distance = max(shapely.hausdorff_distance(back[c], stored[c]) for c in codes)
        if name.endswith("gpkg"):
            assert all(shapely.equals_exact(back[c], stored[c], tolerance=0) for c in codes)
        assert distance < 1e-9

        source = open_footprints(out, layer=layer_name, crs=None)
        summary = resurvey_buildings(
            factory, source=source, community_code=None, repair=False,
            rejects_file=tmp_path / f"{name}.rejects.csv",
        )  # fmt: skip
        assert (summary.added, summary.review, summary.pending_removal) == (0, 0, 0)
        assert (summary.unchanged, summary.changed) == (SAMPLE, 0)
        assert sorted(db.scalars(select(Building.code))) == codes

    table = pd.read_csv(_export(db, ExportLayer.BUILDINGS, tmp_path / "b.csv").path, dtype=str,
                        encoding="utf-8-sig")  # fmt: skip
    assert sorted(table["code"]) == codes  # one header, every chunk


def test_scope_roles_and_audit(db: Session, world: World, tmp_path: Path,
                               cipher: PeopleCipher) -> None:  # fmt: skip
    officer = Scope(user_name="t_officer", role=Role.OFFICER, grid_codes=frozenset({GRID_OWN}))
    planner = Scope(user_name="t_planner", role=Role.PLANNER)
    admin = Scope.system("cli:test")

    mine = _export(db, ExportLayer.BUILDINGS, tmp_path / "officer.gpkg", officer)
    assert list(pyogrio.read_dataframe(mine.path)["code"]) == [world.buildings["own"]]
    every = _export(db, ExportLayer.BUILDINGS, tmp_path / "planner.csv", planner)
    table = pd.read_csv(every.path, dtype=str)
    assert set(table["code"]) == set(world.buildings.values())
    assert table["wkt"].str.startswith("MULTIPOLYGON").all()

    with pytest.raises(Forbidden):
        _export(db, ExportLayer.HOUSES, tmp_path / "h.gpkg", planner)
    with pytest.raises(Forbidden):
        _export(db, ExportLayer.PEOPLE, tmp_path / "p.xlsx", officer, cipher=cipher)
    assert not list(tmp_path.glob("[hp].*"))

    houses = _export(db, ExportLayer.HOUSES, tmp_path / "houses.geojson", officer)
    frame = pyogrio.read_dataframe(houses.path)
    assert set(frame["building_code"]) == {world.buildings["own"]}
    assert (frame.geometry.geom_type == "Point").all()

    before = db.scalar(select(func.max(AuditEntry.id))) or 0
    people = _export(db, ExportLayer.PEOPLE, tmp_path / "people.xlsx", admin, cipher=cipher)
    assert people.path.stat().st_mode & 0o777 == 0o600  # full ID numbers: the owner only
    assert houses.path.stat().st_mode & 0o077 != 0  # no personal data: as the umask says
    sheet = openpyxl.load_workbook(people.path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:3] == ("name", "id_number", "phone")
    assert (CANARY.name, CANARY.id_number, CANARY.phone) in {row[:3] for row in body}
    assert "lon" in header and "lat" in header
    audit = db.scalars(select(AuditEntry).where(AuditEntry.id > before)).one()
    assert (audit.action, audit.row_count, audit.user_name) == ("export.people", len(body),
                                                                "cli:test")  # fmt: skip


def test_grids_divisions_crs_and_filters(db: Session, world: World, tmp_path: Path) -> None:
    grids = _export(db, ExportLayer.GRIDS, tmp_path / "g.gpkg", division_code="990101")
    frame = pyogrio.read_dataframe(grids.path)
    assert set(frame["code"]) == {GRID_OWN, "990101001002001"}
    assert frame.loc[frame["code"] == GRID_OWN, "version"].item() == 2  # live today, not v1

    own = _export(db, ExportLayer.BUILDINGS, tmp_path / "own.geojson", grid_code=GRID_OWN)
    assert list(pyogrio.read_dataframe(own.path)["code"]) == [world.buildings["own"]]

    plain = pyogrio.read_dataframe(
        _export(db, ExportLayer.BUILDINGS, tmp_path / "wgs.gpkg", crs=parse_crs("EPSG:4326")).path
    )
    shifted = pd.read_csv(
        _export(db, ExportLayer.BUILDINGS, tmp_path / "gcj.csv", crs=parse_crs("GCJ02")).path
    )
    offset_deg = shapely.distance(
        shapely.centroid(np.asarray(plain.geometry.values)),
        shapely.centroid(shapely.from_wkt(shifted["wkt"].to_numpy())),
    )
    assert ((offset_deg > 0.002) & (offset_deg < 0.01)).all()  # GCJ-02 moves Shenzhen ~500 m
    # a workbook says its CRS on a sheet of its own; metres are x and y (they were lon, lat)
    for crs, columns in (("EPSG:32650", ("x", "y")), ("GCJ02", ("lon", "lat"))):
        path = tmp_path / f"b-{crs.replace(':', '')}.xlsx"
        _export(db, ExportLayer.BUILDINGS, path, crs=parse_crs(crs))
        book = openpyxl.load_workbook(path)
        header = next(book["buildings"].iter_rows(values_only=True))
        assert header[-2:] == columns
        assert list(book["crs"].iter_rows(values_only=True))[1][0] == crs
    # a file that names its CRS cannot name GCJ-02 (it said WGS 84): CSV or XLSX only
    for name in ("gcj.gpkg", "bd.geojson"):
        web_crs = parse_crs("GCJ02" if name.startswith("gcj") else "BD09")
        with pytest.raises(InvalidInput, match="has no EPSG code") as refused:
            _export(db, ExportLayer.BUILDINGS, tmp_path / name, crs=web_crs)
        assert refused.value.field == "--crs" and not (tmp_path / name).exists()

    with pytest.raises(NotFound):
        _export(db, ExportLayer.DIVISIONS, tmp_path / "d.gpkg", division_code="990101")


def test_bad_requests_name_the_option(db: Session, world: World, tmp_path: Path) -> None:
    existing = tmp_path / "there.gpkg"
    existing.write_bytes(b"")
    cases: list[tuple[Path, _Options, str]] = [
        (existing, {}, "--out"),
        (tmp_path / "missing" / "b.gpkg", {}, "--out"),
        (Path("/proc/b.gpkg"), {}, "--out"),  # a folder nobody may write in, even root
        (tmp_path / "b.gpkg", {"grid_code": "12"}, "--grid"),
        (tmp_path / "b.gpkg", {"division_code": "44030"}, "--division"),
    ]
    for out, options, field in cases:
        with pytest.raises(InvalidInput) as caught:
            _export(db, ExportLayer.BUILDINGS, out, **options)
        assert caught.value.field == field
    # an unknown division is not "no buildings in your scope"
    with pytest.raises(NotFound) as missing:
        _export(db, ExportLayer.BUILDINGS, tmp_path / "b.gpkg", division_code="999999")
    assert missing.value.field == "--division" and not (tmp_path / "b.gpkg").exists()
    with pytest.raises(InvalidInput) as caught:
        ExportFormat.from_path(tmp_path / "b.shp")
    assert caught.value.field == "--format"
    assert existing.read_bytes() == b""


def test_what_rounding_would_make_invalid_is_written_valid_and_comes_back_the_same() -> None:
    """A notch 3e-10° deep is valid in the database; rounded to the 9 decimals of a CSV or
    GeoJSON file it touches the edge below it (5 of the demo's 834 grids were written
    self-intersecting, and an import of the export refused them)."""
    notched = shapely.Polygon([(113.9, 22.5), (113.91, 22.5), (113.91, 22.51),
                               (113.905, 22.5000000003), (113.9, 22.51)])  # fmt: skip
    assert shapely.is_valid(notched)
    plain = shapely.transform(notched, lambda xy: np.round(xy, 9))
    assert not shapely.is_valid(plain)
    (written,) = export_service._rounded(np.array([notched]))
    assert shapely.is_valid(written)
    assert shapely.is_valid(shapely.from_wkt(shapely.to_wkt(written, rounding_precision=9)))
    # and a grid import takes it for the grid it was (not a new version)
    assert same_shape(notched, written)
    assert not same_shape(notched, shapely.affinity.translate(notched, xoff=1e-6))


# Pieces of the demo's grids, valid in EPSG:4490, that ST_Transform to EPSG:4547 leaves
# self-intersecting by a last-bit difference (a vertex within 1e-7 m of an edge)
TURN_INVALID_IN_METRES = [
    "POLYGON ((113.91790638967815 22.536887502048156, 113.91787980000001 22.536868161776585, "
    "113.91779905 22.536826319582776, 113.91782091892186 22.536837651392894, "
    "113.91790638967815 22.536887502048156))",
    "POLYGON ((113.9191337606292 22.53421062063613, 113.91923584939457 22.53409977200722, "
    "113.91916857779842 22.533733943513635, 113.91917035555318 22.53374361109081, "
    "113.9191337606292 22.53421062063613))",
    "POLYGON ((113.91889022699318 22.521940028453354, 113.91895684065962 22.521800097388983, "
    "113.91896120062404 22.521802375732182, 113.91889840067849 22.521769558989835, "
    "113.91889022699318 22.521940028453354))",
]


@pytest.mark.usefixtures("nanshan_communities")
def test_grids_exported_in_a_projected_crs_come_back_unchanged(db: Session, tmp_path: Path) -> None:
    """Snapping what a change of CRS left invalid to 1e-9 (a degree's 0.1 mm) on metre
    coordinates of ~2,500,000 failed in GEOS ("side location conflict"): every export of the
    demo's grids in EPSG:4547, 3857 or 32650 did. The snap is 0.1 mm in the file's units."""
    community = "440305005001"
    stored = {f"{community}{900 + i}": shapely.from_wkt(w)
              for i, w in enumerate(TURN_INVALID_IN_METRES, start=1)}  # fmt: skip
    for code, geom in stored.items():
        assert shapely.is_valid(geom)
        db.add(Grid(code=code, version=1, community_code=community, district_code=code[:6],
                    valid_from=date(2026, 1, 1), geom=f"SRID=4490;{geom.wkt}"))  # fmt: skip
    db.flush()
    for name, crs in (("g.gpkg", "EPSG:4547"), ("g.geojson", "EPSG:4547"),
                      ("m.gpkg", "EPSG:3857"), ("u.gpkg", "EPSG:32650")):  # fmt: skip
        out = tmp_path / name
        _export(db, ExportLayer.GRIDS, out, crs=parse_crs(crs), division_code=community)
        # the grid import's reader: valid single polygons, back in EPSG:4490
        back = read_grid_file(out, layer=None, crs=None)
        assert back.crs.label == crs
        unchanged = {c for c, g in zip(back.codes, back.geoms, strict=True)
                     if c is not None and same_shape(stored[c], g)}  # fmt: skip
        assert unchanged == set(stored), name
    csv = _export(db, ExportLayer.GRIDS, tmp_path / "g.csv", crs=parse_crs("EPSG:4547"),
                  division_code=community)  # fmt: skip
    table = pd.read_csv(csv.path)
    written = shapely.from_wkt(table["wkt"].to_numpy())
    assert shapely.is_valid(written).all()
    assert (shapely.get_type_id(written) == shapely.GeometryType.POLYGON).all()
