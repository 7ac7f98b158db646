"""``gridhouse import grids|roads`` and ``gridhouse grids …`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import psycopg
import shapely
from shapely.geometry import LineString, MultiPolygon, box

from tests.api.test_cli import external_url, run  # noqa: F401 - the fixture is used by name
from tests.grids_world import (
    COMMUNITY_EAST,
    COMMUNITY_WEST,
    EAST,
    NE,
    NW,
    SE,
    SMALL_DIVISIONS,
    SW,
    WEST,
    grid_file,
)


def _divisions(url: str) -> None:
    polygons = {COMMUNITY_WEST: WEST, COMMUNITY_EAST: EAST}
    with psycopg.connect(url) as conn:
        for code, level, parent in SMALL_DIVISIONS:
            geom = polygons.get(code)
            conn.execute(
                "INSERT INTO divisions (code, name, level, rank, parent_code, geom) VALUES "
                "(%s, %s, %s, %s, %s, ST_GeomFromText(%s, 4490))",
                (
                    code,
                    f"测试{code}",
                    str(level),
                    level.rank,
                    parent,
                    MultiPolygon([geom]).wkt if geom else None,
                ),
            )


def test_grid_commands(external_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    _divisions(external_url)
    east = box(113.82, 22.60, 113.84, 22.62)
    gap = grid_file(
        tmp_path / "gap.geojson", [NW, NE, SW, box(113.81, 22.60, 113.819, 22.61), east]
    )
    refused = run("import", "grids", str(gap), env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "breaks 1 hard rule" in refused.stderr
    assert "error: gap: a gap inside community 970101001001" in refused.stdout
    assert " at 113.819" in refused.stdout

    good = grid_file(tmp_path / "grids.geojson", [NW, NE, SW, SE, east])
    # a version from 9999 would leave no later date to change the grids on
    far = run("import", "grids", str(good), "--valid-from", "9999-12-31", env=env)
    assert far.returncode == 1
    assert far.stderr == "error: --valid-from: 9999-12-31 is outside 1900-01-01…2100-12-31\n"
    imported = run("import", "grids", str(good), "--valid-from", "2025-01-01", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "grids: 5 read, 5 added, 0 changed, 0 unchanged, 0 retired" in imported.stdout

    validated = run("grids", "validate", "--division", "970101", env=env)
    assert validated.returncode == 0 and "0 error(s)" in validated.stdout
    classified = run("grids", "classify", "--dry-run", env=env)
    assert classified.returncode == 0 and "5 grids on" in classified.stdout
    assert "would change" in classified.stdout

    roads = tmp_path / "roads.geojson"
    roads.write_text(shapely.to_geojson(LineString([(113.83, 22.59), (113.83, 22.63)])))
    loaded = run("import", "roads", str(roads), "--crs", "EPSG:4326", env=env)
    assert loaded.returncode == 0 and "1 loaded" in loaded.stdout, loaded.stderr
    # options that would be ignored are refused, naming them (nothing drafted)
    ignored = run("grids", "suggest", "--community", COMMUNITY_EAST, "--effective", "2026-01-01",
                  env=env)  # fmt: skip
    assert ignored.returncode == 1 and "--effective: --effective is the date of publishing" in (
        ignored.stderr
    )
    both = run("grids", "suggest", "--community", COMMUNITY_EAST, "--division", "970101", env=env)
    assert both.returncode == 1 and "--division: name a --community or a --division" in both.stderr
    suggested = run("grids", "suggest", "--community", COMMUNITY_EAST, "--publish", env=env)
    assert suggested.returncode == 0, suggested.stderr
    assert "1 grids suggested, 0 error(s)" in suggested.stdout
    assert "published from" in suggested.stdout
