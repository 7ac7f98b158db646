"""``gridhouse export`` as a user runs it: a real process on the test database, real exit codes.

The successful run commits one audit row (``export.divisions``) to the test database: the
audit log is append-only, and other tests count only rows they make.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
from sqlalchemy import create_engine, text

GRIDHOUSE = Path(sys.executable).parent / "gridhouse"
SHENZHEN = {"440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310",
            "440311"}  # fmt: skip


def _run(*args: str, database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRIDHOUSE_DATABASE_URL": database_url.replace("+psycopg", ""),
        "GRIDHOUSE_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [str(GRIDHOUSE), "export", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.usefixtures("divisions_loaded")
def test_export_divisions_and_refusals(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "shenzhen.gpkg"
    done = _run("divisions", "--division", "4403", "--out", str(out),
                database_url=database_url, tmp_path=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(EPSG:4490)" in done.stdout
    frame = pyogrio.read_dataframe(out)
    assert {code[:6] for code in frame["code"] if code.endswith("000000")} >= SHENZHEN
    assert frame.crs.to_epsg() == 4490

    refusals = [
        (["divisions", "--out", str(out)], "--out"),  # exists: never overwritten
        (["buildings", "--out", str(tmp_path / "b.gpkg"), "--as", "nobody"], "--as"),
        # a file named for one format written in another (a GeoPackage called .csv)
        (["buildings", "--out", str(tmp_path / "b.csv"), "--format", "gpkg"], "--format"),
        (["buildings", "--out", str(tmp_path / "b.shp")], "--format"),
    ]
    for args, option in refusals:
        refused = _run(*args, database_url=database_url, tmp_path=tmp_path)
        assert refused.returncode == 1, (args, refused.stdout)
        assert refused.stderr.strip().count("\n") == 0, refused.stderr
        assert refused.stderr.startswith(f"error: {option}: "), refused.stderr
    assert not (tmp_path / "b.gpkg").exists() and not (tmp_path / "b.csv").exists()
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            audited = connection.execute(
                text("SELECT purpose, outcome FROM audit_log WHERE action = 'export.buildings' "
                     "AND purpose LIKE 'export to b.%' ORDER BY id")
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    # a refused format is audited like every refused export (the --as refusal names no user)
    assert [tuple(row) for row in audited][-2:] == [
        ("export to b.csv (gpkg)", "failed"),
        ("export to b.shp (format unknown)", "failed"),
    ]


def test_a_refused_export_is_audited_too(database_url: str, tmp_path: Path) -> None:
    grid = "990101001001998"  # no such grid: nothing to export
    refused = _run("houses", "--grid", grid, "--out", str(tmp_path / "h.csv"),
                   database_url=database_url, tmp_path=tmp_path)  # fmt: skip
    assert refused.returncode == 1 and refused.stderr.startswith("error: "), refused.stderr
    assert refused.stderr.startswith("error: --grid: no houses to export"), refused.stderr
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT outcome, row_count, user_name FROM audit_log "
                     "WHERE action = 'export.houses' AND :grid = ANY(target_codes)"),
                {"grid": grid},
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    assert [(row.outcome, row.row_count) for row in rows] == [("not_found", 0)]
    assert rows[0].user_name.startswith("cli:")
    assert not (tmp_path / "h.csv").exists()
