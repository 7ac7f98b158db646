"""``gridhouse import roads|divisions`` refusing bad input as a user sees it: exit status, one
line on stderr and no Python warning, nothing stored."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis import cluster
from tests.api.test_cli import _refused, run
from tests.databases import own_database
from tests.gis.test_divisions import _boundary_file, _small_tables
from tests.gis.test_roads import NANSHAN_LINE, feature, line, write_roads

NANSHAN = "POLYGON((113.90 22.50, 113.96 22.50, 113.96 22.56, 113.90 22.56, 113.90 22.50))"


@pytest.fixture
def env(pg_cluster: cluster.Cluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    with own_database(pg_cluster, "imports_cli") as url:
        yield {
            "GRIDHOUSE_DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
            "GRIDHOUSE_DATA_DIR": str(tmp_path / "data"),
        }


def count(env: dict[str, str], table: str) -> int:
    with psycopg.connect(env["GRIDHOUSE_DATABASE_URL"]) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - tests' own
    return int(row[0]) if row else 0


def test_import_roads_rejects_bad_rows_and_loads_the_rest(
    env: dict[str, str], tmp_path: Path
) -> None:
    roads = write_roads(
        tmp_path / "roads.geojson",
        [
            feature(line(NANSHAN_LINE), highway="primary"),
            feature(
                {"type": "MultiLineString", "coordinates": [[[22.53, 113.92], [22.54, 113.93]]]}
            ),
            feature(line([[113.92, 22.53], [float("nan"), 22.54]])),
            feature(line([[113.92, 22.53]])),
            feature(line(NANSHAN_LINE), highway="x" * 41),
        ],
    )
    # no division boundary yet: refused whole, one line, nothing stored
    refused = run("import", "roads", str(roads), env=env)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        "error: FILE: no division has a boundary to check the roads against: import them first "
        "(gridhouse import divisions PATH --boundaries FILE)\n"
    )
    assert count(env, "roads") == 0
    with psycopg.connect(env["GRIDHOUSE_DATABASE_URL"]) as conn:
        conn.execute(
            "INSERT INTO divisions (code, name, level, rank, geom) VALUES "
            "('970000000000', '测试省', 'province', 1, ST_Multi(ST_GeomFromText(%s, 4490)))",
            (NANSHAN,),
        )
    # a rejects file that cannot take the rows is refused before anything is read or stored
    # (it was written after the commit: the file itself overwritten, or a folder an error after
    # the good rows were in)
    before = roads.read_bytes()
    folder = tmp_path / "folder"
    folder.mkdir()
    for rejects_arg, expected in (
        (roads, "is the file being imported"),
        (folder, "is a folder"),
        (tmp_path / "missing" / "r.csv", "does not exist"),
    ):
        _refused(run("import", "roads", str(roads), "--rejects", str(rejects_arg), env=env),
                 "--rejects: ", expected)  # fmt: skip
    assert roads.read_bytes() == before and count(env, "roads") == 0
    houses = tmp_path / "houses.csv"
    houses.write_text("building_code,floor,room,use\n440305005001100001000001X,1,,住宅\n")
    _refused(run("import", "houses", str(houses), "--rejects", str(houses), env=env),
             "--rejects: ", "is the file being imported")  # fmt: skip
    people = tmp_path / "people.csv"
    people.write_text("姓名,公民身份号码,房屋编码,入住日期\n")
    _refused(run("import", "people", str(people), "--rejects", str(people), env=env),
             "--rejects: ", "is the file being imported")  # fmt: skip
    rejects = tmp_path / "rejects.csv"
    loaded = run("import", "roads", str(roads), "--rejects", str(rejects), env=env)
    assert (loaded.returncode, loaded.stderr) == (0, "")  # no RuntimeWarning
    assert loaded.stdout.splitlines() == [
        "  rejected row 2: latitude beyond ±90° (are longitude and latitude swapped?)",
        "  rejected row 3: coordinates are NaN or infinite",
        "  rejected row 4: a line needs at least 2 points",
        "  rejected row 5: highway is longer than 40 characters",
        f"roads: 5 read, 1 loaded, 4 rejected, 0 replaced, source roads.geojson:roads "
        f"(rejects: {rejects})",
    ]
    with rejects.open(encoding="utf-8") as handle:
        assert [row[0] for row in csv.reader(handle)] == ["row", "2", "3", "4", "5"]
    assert count(env, "roads") == 1

    empty = write_roads(tmp_path / "empty.geojson", [])
    nothing = run("import", "roads", str(empty), env=env)
    assert (nothing.returncode, nothing.stderr) == (0, "")
    assert (
        nothing.stdout
        == "roads: 0 read, 0 loaded, 0 rejected, 0 replaced, source empty.geojson:empty\n"
    )


def test_import_divisions_refuses_unreadable_files_before_storing_anything(
    env: dict[str, str], tmp_path: Path
) -> None:
    tables = _small_tables(tmp_path / "tables")
    gbk = _small_tables(tmp_path / "gbk")
    (gbk / "areas.csv").write_bytes(
        "code,name,provinceCode,cityCode\n970101,测试区,97,9701\n".encode("gbk")
    )
    ring = "[[113.8,22.6],[NaN,22.6],[113.84,22.62],[113.8,22.6]]"
    nan = _boundary_file(
        tmp_path / "nan.geojson",
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        f'{{"code":"970101"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}]}}',
    )
    empty = _boundary_file(tmp_path / "empty.geojson", [])
    cases = {
        (str(gbk),): "error: PATH: areas.csv line 2: not UTF-8 text (save the file as UTF-8)",
        (str(tables), "--boundaries", str(tmp_path / "nonexist.geojson")): (
            f"error: --boundaries: {tmp_path / 'nonexist.geojson'} does not exist"
        ),
        (str(tables), "--boundaries", str(tables)): f"error: --boundaries: {tables} is not a file",
        (
            str(tables),
            "--boundaries",
            str(empty),
        ): "error: --boundaries: empty.geojson has no features",
        (str(tables), "--boundaries", str(nan)): (
            "error: geometry: division 970101000000: "
            "a coordinate of the boundary is NaN or infinite"
        ),
    }
    for args, message in cases.items():
        result = run("import", "divisions", *args, env=env)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n"), args
    assert count(env, "divisions") == 0
    assert json.loads(empty.read_text())["features"] == []
