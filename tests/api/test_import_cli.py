"""``gridhouse import divisions`` refusing bad input as a user sees it: exit status, one
line on stderr and no Python warning, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis import cluster
from tests.api.test_cli import run
from tests.databases import own_database
from tests.gis.test_divisions import _boundary_file, _small_tables


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
