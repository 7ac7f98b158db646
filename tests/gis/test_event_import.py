"""``import events``: every good row kept with its grid and deadline, every bad row reported with
its row, column and reason; a second run of a file with source ids adds nothing; CSV (English or
Chinese headers), XLSX and GeoJSON; GCJ-02 and BD-09 converted on input; audited."""

from __future__ import annotations

import csv
import doctest
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

import gis.events.import_files
import gis.events.import_rows
import gis.events.places
from gis.audit.schemas import Actor
from gis.buildings.models import ImportBatch
from gis.clock import CHINA
from gis.crs import SourceCrs, gcj02_to_bd09, parse_crs, transform_xy, wgs84_to_gcj02
from gis.errors import CrsRequired, InvalidInput
from gis.events.importing import EventImportResult, import_events
from gis.events.lifecycle import DEADLINES
from gis.events.models import Event, EventKind, EventSource, EventStep
from tests.access_world import GRID_FAR, GRID_OTHER, GRID_OWN, World

ACTOR = Actor(name="cli:test", role="admin")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEADER = ["source_id", "kind", "title", "description", "lon", "lat", "building_code",
          "house_code", "reported_at", "reporter"]  # fmt: skip
CHINESE = ["来源编号", "事件类型", "标题", "描述", "经度", "纬度", "楼栋编码", "房屋编码",
           "上报时间", "上报人"]  # fmt: skip


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(factory: sessionmaker[Session], path: Path, crs: str | None = "EPSG:4326",
            **extra: Any) -> EventImportResult:  # fmt: skip
    return import_events(
        factory, path=path, crs=parse_crs(crs) if crs else None, actor=ACTOR, now=NOW,
        rejects_file=path.with_suffix(".rejects.csv"), **extra,
    )  # fmt: skip


def _good_and_bad(world: World) -> tuple[list[list[str]], dict[int, tuple[str, str]]]:
    """Rows under HEADER, and for each bad one (by line) the field and a part of the reason."""
    own, other = world.buildings["own"], world.buildings["other"]
    house = world.objects["houses"]["own"]
    wrong_check = own[:-1] + ("0" if own[-1] != "0" else "1")
    rows = [
        # lines 2..6: good — a point, a building, a house, Chinese kind and a date alone
        # (A-2's description holds a line break: its row takes lines 3 and 4)
        ["A-1", "rented_fire_risk", "楼道堆物", "三楼楼道", "113.905", "22.505", "", "",
         "2026-05-31 09:30", "张网格"],
        ["A-2", "dispute", "", "邻里噪音\n第二行", "", "", other, "", "2026-05-20T10:00:00+08:00",
         ""],
        ["A-3", "安全隐患", "电线老化", "", "", "", "", house, "2026/5/3 14:30", ""],
        ["A-4", "其他", "", "", "113.955", "22.505", "", "", "2026-05-01", ""],
        # line 7..: bad, each numbered by the line it starts on
        ["B-1", "flood", "x", "", "113.905", "22.505", "", "", "2026-05-01", ""],
        ["B-2", "dispute", "x", "", "113.905", "22.505", "", "", "", ""],
        ["B-3", "dispute", "x", "", "113.905", "22.505", "", "", "2026-07-01 08:00", ""],
        ["B-4", "dispute", "x", "", "113.905", "22.505", own, "", "2026-05-01", ""],
        ["B-5", "dispute", "x", "", "", "", "", "", "2026-05-01", ""],
        ["B-6", "dispute", "x", "", "", "", wrong_check, "", "2026-05-01", ""],
        ["B-7", "dispute", "x", "", "", "", world.missing_building, "", "2026-05-01", ""],
        ["B-8", "dispute", "x", "", "nan", "22.505", "", "", "2026-05-01", ""],
        ["B-9", "dispute", "x", "", "22.505", "113.905", "", "", "2026-05-01", ""],
        ["B-10", "dispute", "x", "", "113.985", "22.505", "", "", "2026-05-01", ""],
        ["A-1", "dispute", "x", "", "113.905", "22.505", "", "", "2026-05-01", ""],
        ["B-12", "dispute", "x\x00y", "", "113.905", "22.505", "", "", "2026-05-01", ""],
        ["B-13", "dispute", "x" * 201, "", "113.905", "22.505", "", "", "2026-05-01", ""],
        ["B-14", "dispute", "x", "", "113.905", "", "", "", "2026-05-01", ""],
        ["B-15", "dispute", "x", "", "113.905", "22.505", "", "", "2026-02-30", ""],
        ["B-16", "dispute", "x", "", "", "", "", own, "2026-05-01", ""],
        ["B-17", "dispute", "x", "", "", "", house, "", "2026-05-01", ""],
    ]  # fmt: skip
    bad = {
        7: ("kind (事件类型)", "'flood' is not one of"),
        8: ("reported_at (上报时间)", "the report time is required"),
        9: ("reported_at (上报时间)", "is in the future"),
        10: ("building_code (楼栋编码)", "give exactly one place"),
        11: ("lon (经度)", "give exactly one place"),
        12: ("building_code (楼栋编码)", "check character"),
        13: ("building_code (楼栋编码)", "no building has the code"),
        14: ("lon (经度)", "must be a finite number"),
        15: ("lon (经度)", "look swapped"),
        16: ("lon (经度)", "the place lies in no grid (check --crs)"),
        17: ("source_id (来源编号)", "row 2 has the same source id"),
        18: ("title (标题)", "holds a NUL byte"),
        19: ("title (标题)", "201 characters; at most 200"),
        20: ("lat (纬度)", "lon and lat go together"),
        21: ("reported_at (上报时间)", "not a real date"),
        22: ("house_code (房屋编码)", "a building's code"),
        23: ("building_code (楼栋编码)", f"{house} is a house code, not a building code"),
    }
    return rows, bad


def test_good_rows_are_kept_and_every_bad_row_is_reported(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    rows, bad = _good_and_bad(world)
    path = _write_csv(tmp_path / "events.csv", HEADER, rows)
    start = int(db.scalar(text("SELECT coalesce(max(id), 0) FROM audit_log")) or 0)
    result = _import(factory, path)
    assert (result.read, result.imported, result.already_imported) == (len(rows), 4, 0)
    assert {r.row: (r.field, r.reason) for r in result.rejected}.keys() == bad.keys()
    for item in result.rejected:
        field, reason = bad[item.row]
        assert item.field == field and reason in item.reason, (item.row, item)
    events = {
        e.source_id: e for e in db.scalars(select(Event).where(Event.batch_id == result.batch_id))
    }
    assert events.keys() == {"A-1", "A-2", "A-3", "A-4"}
    fire, dispute, hazard, far = (events[k] for k in ("A-1", "A-2", "A-3", "A-4"))
    assert (fire.grid_code, dispute.grid_code, hazard.grid_code, far.grid_code) == (
        GRID_OWN, GRID_OTHER, GRID_OWN, GRID_FAR)  # fmt: skip
    assert fire.reported_at == datetime(2026, 5, 31, 9, 30, tzinfo=CHINA)
    assert fire.due_at == fire.reported_at + DEADLINES[EventKind.RENTED_FIRE_RISK]
    assert (fire.reported_by, fire.source, fire.kind) == (
        "张网格", EventSource.IMPORT, EventKind.RENTED_FIRE_RISK)  # fmt: skip
    assert (dispute.title, dispute.reported_by) == ("邻里噪音", "cli:test")  # from the description
    assert hazard.kind is EventKind.SAFETY_HAZARD and hazard.house_uid is not None
    assert hazard.reported_at == datetime(2026, 5, 3, 14, 30, tzinfo=CHINA)
    assert (far.title, far.reported_at) == ("其他", datetime(2026, 5, 1, tzinfo=CHINA))
    steps = db.scalars(select(EventStep).where(EventStep.event_id == fire.id)).all()
    assert [(s.to_status, s.actor, s.role, s.at) for s in steps] == [
        ("reported", "张网格", "import", fire.reported_at)]  # fmt: skip
    batch = db.get(ImportBatch, result.batch_id)
    assert batch is not None and (batch.kind, batch.status) == ("events", "done")
    assert batch.counts["imported"] == 4 and batch.counts["rejected"] == len(bad)
    audit = db.execute(
        text("SELECT action, target_codes, row_count FROM audit_log WHERE id > :id"), {"id": start}
    ).all()
    assert [(a, list(t), n) for a, t, n in audit] == [
        ("events.import", [f"batch:{result.batch_id}"], 4)]  # fmt: skip
    assert result.rejects_file is not None
    with result.rejects_file.open(encoding="utf-8-sig") as handle:
        written = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in written] == sorted(bad)
    assert written[0]["field"] == "kind (事件类型)" and written[0]["kind"] == "flood"


def test_importing_the_same_file_again_adds_nothing(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    rows, _ = _good_and_bad(world)
    path = _write_csv(tmp_path / "events.csv", HEADER, rows)
    first = _import(factory, path)
    second = _import(factory, path)
    assert (second.imported, second.already_imported) == (0, first.imported)
    assert len(second.rejected) == len(first.rejected)
    assert (
        db.scalar(select(func.count()).select_from(Event).where(Event.source_id.is_not(None))) == 4
    )
    changed = _write_csv(tmp_path / "changed.csv", HEADER, [
        ["A-1", "dispute", "另一事件", "", "113.905", "22.505", "", "", "2026-05-31 09:30", ""],
        ["A-9", "dispute", "新事件", "", "113.905", "22.505", "", "", "2026-05-31 09:30", ""],
    ])  # fmt: skip
    third = _import(factory, changed)
    assert third.imported == 1
    (refused,) = third.rejected
    assert (refused.row, refused.field) == (2, "source_id (来源编号)")
    assert "'A-1' was imported before as event" in refused.reason and "this row differs" in (
        refused.reason
    )


def test_retired_buildings_and_houses_are_refused_in_the_words_of_a_report(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    """The rule of ``POST /api/events`` (gis.events.places): a retired building is named as
    retired, a house that is not live (or in a retired building) as not live."""
    building, house = world.buildings["other"], world.objects["empty_houses"]["own"]
    db.execute(text("UPDATE buildings SET status = 'retired' WHERE code = :c"), {"c": building})
    db.execute(text("UPDATE houses SET status = 'retired' WHERE code = :c"), {"c": house})
    db.flush()
    inside = world.objects["house_other"]["own"]  # active, in the retired building
    path = _write_csv(tmp_path / "events.csv", HEADER, [
        ["R-1", "dispute", "x", "", "", "", building, "", "2026-05-01", ""],
        ["R-2", "dispute", "x", "", "", "", "", house, "2026-05-01", ""],
        ["R-3", "dispute", "x", "", "", "", "", inside, "2026-05-01", ""],
        ["R-4", "dispute", "x", "", "", "", world.buildings["own"], "", "2026-05-01", ""],
    ])  # fmt: skip
    result = _import(factory, path, crs="EPSG:4326")
    assert result.imported == 1
    assert [(r.row, r.field, r.reason) for r in result.rejected] == [
        (2, "building_code (楼栋编码)", f"building {building} is retired"),
        (3, "house_code (房屋编码)", f"no live house has the code {house}"),
        (4, "house_code (房屋编码)", f"no live house has the code {inside}"),
    ]


def test_rows_without_source_ids_are_counted_for_the_warning(
    factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    row = ["", "dispute", "x", "", "113.905", "22.505", "", "", "2026-05-01", ""]
    path = _write_csv(tmp_path / "events.csv", HEADER, [row, row])
    result = _import(factory, path)
    assert (result.imported, result.without_source_id) == (2, 2)


@pytest.mark.parametrize("offset", ["GCJ02", "BD09"])
def test_chinese_headers_and_offset_coordinates_are_converted(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path, offset: str
) -> None:
    lon, lat = np.array([113.905]), np.array([22.505])
    glon, glat = wgs84_to_gcj02(lon, lat)
    if offset == "BD09":
        glon, glat = gcj02_to_bd09(glon, glat)
    assert abs(glon[0] - lon[0]) > 0.002  # several hundred metres off: a real conversion
    lon_text, lat_text = repr(float(glon[0])), repr(float(glat[0]))
    path = _write_csv(tmp_path / "offset.csv", CHINESE, [
        ["G-1", "矛盾纠纷", "", "", lon_text, lat_text, "", "", "2026-05-01", ""]
    ])  # fmt: skip
    result = _import(factory, path, crs=offset)
    assert result.imported == 1 and result.crs == offset
    x, y = db.execute(
        select(func.ST_X(Event.geom), func.ST_Y(Event.geom)).where(Event.source_id == "G-1")
    ).one()
    expected = transform_xy(lon, lat, SourceCrs(epsg=4326))
    assert abs(x - expected[0][0]) < 1e-7 and abs(y - expected[1][0]) < 1e-7


def test_lon_lat_without_a_crs_refuses_the_file_and_stores_nothing(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    rows, _ = _good_and_bad(world)
    path = _write_csv(tmp_path / "events.csv", HEADER, rows)
    before = db.scalar(select(func.count()).select_from(ImportBatch))
    with pytest.raises(CrsRequired) as refused:
        _import(factory, path, crs=None)
    assert refused.value.field == "--crs" and "has lon/lat columns" in refused.value.message
    assert db.scalar(select(func.count()).select_from(ImportBatch)) == before
    codes_only = _write_csv(tmp_path / "codes.csv", ["kind", "building_code", "reported_at"],
                            [["dispute", world.buildings["own"], "2026-05-01"]])  # fmt: skip
    assert _import(factory, codes_only, crs=None).imported == 1


def test_files_that_cannot_be_read_are_refused_naming_what_is_wrong(
    factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    cases = [
        ("no_kind.csv", "title,reported_at\nx,2026-05-01\n", "the file lacks the column(s) kind"),
        ("gbk.csv", "kind,reported_at\n矛盾纠纷,2026-05-01\n", "gbk.csv line 2: not UTF-8"),
        ("long.csv", f'kind,reported_at\nx,2026-05-01\n"{"x" * 140_000}"\n', "line 3: a field"),
        ("damaged.xlsx", "PK\x03\x04 no zip", "not a readable .xlsx workbook"),
        ("events.txt", "kind\n", "events files are .csv, .xlsx or .geojson"),
        ("bad.geojson", "{not json", "not JSON"),
        ("list.geojson", "[]", "a FeatureCollection"),
    ]
    for name, content, reason in cases:
        path = tmp_path / name
        path.write_bytes(content.encode("gbk" if name == "gbk.csv" else "utf-8"))
        with pytest.raises(InvalidInput, match=reason.replace("(", r"\(").replace(")", r"\)")):
            _import(factory, path)
    with pytest.raises(InvalidInput, match="does not exist"):
        _import(factory, tmp_path / "missing.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(InvalidInput, match="is not a file"):
        _import(factory, tmp_path / "folder.csv")


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_geojson_points_codes_and_bad_features(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    point = {"type": "Point", "coordinates": [113.905, 22.505]}
    features = [
        _feature(point, source_id="J-1", kind="public_order", reported_at="2026-05-10 20:00"),
        _feature(None, source_id="J-2", kind="dispute", reported_at="2026-05-10",
                 building_code=world.buildings["other"]),
        _feature({"type": "Polygon", "coordinates": []}, source_id="J-3", kind="dispute",
                 reported_at="2026-05-10"),
        _feature({"type": "Point", "coordinates": ["x", 1]}, source_id="J-4", kind="dispute",
                 reported_at="2026-05-10"),
        {"type": "Nonsense"},
    ]  # fmt: skip
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": features,
    }
    path = tmp_path / "events.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    result = _import(factory, path, crs=None)
    assert (result.imported, result.crs) == (2, "EPSG:4490")
    assert [(r.row, r.field) for r in result.rejected] == [
        (3, "geometry"), (4, "geometry"), (5, "feature")]  # fmt: skip
    assert "an event is a Point, not Polygon" in result.rejected[0].reason
    statement = select(Event.source_id, Event.grid_code).where(Event.batch_id == result.batch_id)
    grids = {row.source_id: row.grid_code for row in db.execute(statement)}
    assert grids == {"J-1": GRID_OWN, "J-2": GRID_OTHER}
    # --crs overrides the file's own: the same coordinates as GCJ-02 land elsewhere
    collection["features"] = [_feature(point, source_id="J-5", kind="other",
                                       reported_at="2026-05-10")]  # fmt: skip
    path.write_text(json.dumps(collection), encoding="utf-8")
    assert _import(factory, path, crs="GCJ02").crs == "GCJ02"


def test_an_old_event_lands_in_the_grid_of_its_day_and_xlsx_is_read(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    """Box D was grid OWN's area until 2024: an event reported there in 2023 belongs to it; the
    same place reported today lies in no grid."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["事件类型", "经度", "纬度", "上报时间", "来源编号"])
    sheet.append(["纠纷", 113.905, 22.525, datetime(2023, 6, 1, 9, 0), "X-1"])
    sheet.append(["纠纷", 113.905, 22.525, datetime(2026, 5, 1, 9, 0), "X-2"])
    path = tmp_path / "events.xlsx"
    book.save(path)
    result = _import(factory, path, crs="EPSG:4490")
    assert result.imported == 1
    assert [(r.row, r.reason) for r in result.rejected] == [
        (3, "the place lies in no grid (check --crs)")]  # fmt: skip
    old = db.scalars(select(Event).where(Event.source_id == "X-1")).one()
    assert old.grid_code == GRID_OWN
    assert old.reported_at == datetime(2023, 6, 1, 9, 0, tzinfo=CHINA)
    assert old.due_at < NOW - timedelta(days=365)  # long overdue, as it should be


def test_small_batches_commit_each_and_count_right(
    db: Session, factory: sessionmaker[Session], world: World, tmp_path: Path
) -> None:
    rows, bad = _good_and_bad(world)
    path = _write_csv(tmp_path / "events.csv", HEADER, rows)
    result = _import(factory, path, batch_size=1)
    assert (result.imported, len(result.rejected)) == (4, len(bad))
    audited = db.execute(
        text("SELECT count(*), sum(row_count) FROM audit_log WHERE action = 'events.import' "
             "AND :t = ANY(target_codes)"), {"t": f"batch:{result.batch_id}"}
    ).one()  # fmt: skip
    # one audited transaction per batch that reached the database (6 rows passed the checks
    # of the file; 2 of them name a missing building or a place in no grid)
    assert tuple(audited) == (6, 4)


@pytest.mark.parametrize(
    "module", [gis.events.import_files, gis.events.import_rows, gis.events.places]
)
def test_doctests(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module, raise_on_error=False)
    assert failures == 0
