"""The ``gridhouse`` command as a user runs it: a real process, real exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from gis import cluster
from tests.databases import own_database

GRIDHOUSE = Path(sys.executable).parent / "gridhouse"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRIDHOUSE), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


@pytest.fixture
def external_url(pg_cluster: cluster.Cluster) -> Iterator[str]:
    with own_database(pg_cluster, "external", migrate=False) as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")


def test_migrate_an_external_server(external_url: str, tmp_path: Path) -> None:
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    # before: each command says what to do (it was ProgrammingError: (psycopg.errors…)
    _refused(run("users", "list", env=env), "the database lacks gridhouse's schema (relation ",
             "does not exist): run gridhouse migrate")  # fmt: skip
    checked = run("code", "check", "4403050050011000001000001", env=env)
    assert checked.returncode == 0, checked.stderr  # well formed; its status unknown
    assert "status: unknown (the database has no gridhouse schema" in checked.stdout
    result = run("migrate", env=env)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(external_url) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None
    assert row[0]
    assert not (tmp_path / "pg").exists()  # no embedded cluster was created
    assert run("db", "url", env=env).stdout.strip() == external_url
    # a WKT GDAL cannot read: the row refused, without GDAL's two-line warning beside it
    cut = tmp_path / "cut.csv"
    cut.write_text('code,wkt\n440305005001001,"POLYGON ((113.9 22.5, 113.91"\n', encoding="utf-8")
    _refused(run("import", "grids", str(cut), "--crs", "EPSG:4490", env=env),
             "row 1: unreadable or missing geometry")  # fmt: skip


def test_failures_are_one_line_and_non_zero(tmp_path: Path) -> None:
    env = {
        "GRIDHOUSE_DATABASE_URL": f"postgresql://x:y@127.0.0.1:{cluster.free_port()}/none",
        "GRIDHOUSE_DATA_DIR": str(tmp_path),
    }
    result = run("migrate", env=env)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: the database cannot be reached")
    started = run("db", "start", env=env)
    assert started.returncode == 1
    assert "error: GRIDHOUSE_DATABASE_URL: it is set: gridhouse uses that server" in started.stderr


def test_import_divisions_rejects_a_missing_folder(tmp_path: Path, external_url: str) -> None:
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    result = run("import", "divisions", str(tmp_path / "nope"), env=env)
    assert result.returncode == 1
    assert "PATH" in result.stderr
    assert "not a folder" in result.stderr


def test_code_check(external_url: str, tmp_path: Path) -> None:
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    good = run("code", "check", "440305005001-1-000001-00000-1", env=env)
    assert good.returncode == 0, good.stderr
    assert "check character correct" in good.stdout
    assert "status: not issued" in good.stdout
    typo = run("code", "check", "4403050050011000001000002", env=env)
    assert typo.returncode == 1
    assert "wrong check character '2' (expected '1')" in typo.stderr
    offline = run(
        "code", "check", "4403050050011000001000001",
        env={"GRIDHOUSE_DATABASE_URL": f"postgresql://x:y@127.0.0.1:{cluster.free_port()}/none"},
    )  # fmt: skip
    assert offline.returncode == 0
    assert "status: unknown" in offline.stdout


def _offline(tmp_path: Path) -> dict[str, str]:
    """An environment whose database cannot be reached: these failures come before it."""
    return {
        "GRIDHOUSE_DATABASE_URL": f"postgresql://x:y@127.0.0.1:{cluster.free_port()}/none",
        "GRIDHOUSE_DATA_DIR": str(tmp_path / "data"),
    }


def _refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit 1 with one line on stderr holding every expected piece, and no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    for piece in expected:
        assert piece in result.stderr, (piece, result.stderr)


def test_unreadable_files_are_one_line_errors(tmp_path: Path) -> None:
    env = _offline(tmp_path)
    code = "440305005001-1-000001-00000-1"
    garbage = tmp_path / "fix.geojson"
    garbage.write_bytes(b"\x00\x01 not a vector file")
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    gbk = tmp_path / "outflow.csv"
    gbk.write_bytes("citizen_id,name,hukou_division,residence_division,since\n1,王\n".encode("gbk"))
    folder = tmp_path / "houses.csv"
    folder.mkdir()
    plain = tmp_path / "plain.csv"  # a table with no geometry (it was AttributeError: … 'crs')
    plain.write_text("a,b\n1,2\n", encoding="utf-8")
    weights = tmp_path / "weights.json"
    weights.write_text('{"weights": {"x": 1}}', encoding="utf-8")
    two = tmp_path / "two.geojson"
    two.write_text(
        '{"type": "FeatureCollection", "features": ['
        + ", ".join(
            f'{{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Polygon", '
            f'"coordinates": [[[{x}, 22.5], [{x + 0.0002}, 22.5], [{x + 0.0002}, 22.5002], '
            f"[{x}, 22.5002], [{x}, 22.5]]]}}}}"
            for x in (113.9, 113.901)
        )
        + "]}",
        encoding="utf-8",
    )
    cases = [
        (("buildings", "correct", code, "--geometry", str(garbage)), ["--geometry", "fix.geojson"]),
        (("buildings", "correct", code, "--geometry", str(empty)), ["holds no footprint"]),
        (("buildings", "correct", code, "--geometry", str(tmp_path)), ["is not a file"]),
        # the service's fields are the command's options and arguments (it said "reason: …")
        (("buildings", "retire", code, "--reason", "split"), ["error: --reason: reason must be"]),
        (("buildings", "retire", code[:-1] + "2"), ["error: CODE: wrong check character"]),
        (("buildings", "merge", code, code), ["error: CODES: a merge needs at least two"]),
        (("buildings", "merge", code, code[:-1] + "2"), ["error: CODES: wrong check character"]),
        # a merge given several footprints merged into the first one (the others unread)
        (("buildings", "merge", code, "440305005001-1-000002-00000-3", "--geometry", str(two)),
         ["--geometry: the file must hold exactly one footprint (two.geojson holds 2)"]),
        (("exchange", "reconcile", str(tmp_path / "missing.json"), "--region", "440305"),
         ["file: ", "missing.json does not exist"]),
        (("exchange", "reconcile", str(gbk), "--region", "440305", "--other-region", "110105",
          "--from", "2026-01-01", "--to", "2026-02-01"), ["outflow.csv line 2: not UTF-8"]),
        (("exchange", "reconcile", str(tmp_path / "of1.json"), "--region", "440305",
          "--other-region", "110105"), ["--other-region: for CSV files only"]),
        (("import", "houses", str(folder)), ["FILE: ", "is not a file"]),
        (("buildings", "correct", code, "--geometry", str(plain)),
         ["--geometry: plain.csv has no geometry column"]),
        (("import", "grids", str(plain), "--crs", "EPSG:4490"),
         ["FILE: plain.csv has no geometry column"]),
        (("import", "events", str(empty), "--crs", "EPSG:4326"),
         ["FILE: the FeatureCollection holds no events"]),
        # an option that would be ignored is refused (the run had ended 0)
        (("import", "divisions", str(tmp_path), "--crs", "EPSG:4490"),
         ["--crs: it is the CRS of a --boundaries file, and none is given"]),
        (("quality", "--grid", "440305005001001", "--division", "440305"),
         ["--division: give --grid or --division, not both"]),
        (("quality", "--overdue", "--grid", "abc"), ["--grid: a grid code has 15 digits"]),
        (("grids", "classify", "--config", str(weights)),
         ["--config: weights: unknown indicators ['x']"]),
        # a value a request schema refuses names the option (it was "ValidationError: 1
        # validation error for EventStepRequest")
        (("events", "step", "5", "accepted", "--note", "x" * 5000),
         ["--note: String should have at most 2000 characters"]),
        (("events", "step", "5", "dispatched", "--department", "部" * 500),
         ["--department: String should have at most 100 characters"]),
    ]  # fmt: skip
    for args, expected in cases:
        _refused(run(*args, env=env), *expected)
    # a bad setting names its environment variable (it said --session-idle-minutes)
    unset = {**env, "GRIDHOUSE_SESSION_IDLE_MINUTES": "0"}
    _refused(run("users", "list", env=unset), "GRIDHOUSE_SESSION_IDLE_MINUTES: ")


def test_export_into_a_folder_nobody_may_write_in(external_url: str, tmp_path: Path) -> None:
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    _refused(run("export", "buildings", "--out", "/proc/x.gpkg", env=env), "--out", "/proc")


def _stderr_of_failing(
    app: Callable[..., None], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """What ``gridhouse`` prints on stderr when its command fails as ``app`` does (exit 1)."""
    from api.cli import main

    monkeypatch.setattr(main, "app", app)
    with pytest.raises(SystemExit) as exited:
        main.main()
    assert exited.value.code == 1
    return capsys.readouterr().err


def test_an_unforeseen_failure_is_one_line_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    def broken(**options: object) -> None:
        raise IsADirectoryError(21, "Is a directory", "houses")

    monkeypatch.delenv(main.DEBUG_VARIABLE, raising=False)
    assert _stderr_of_failing(broken, monkeypatch, capsys) == (
        "error: IsADirectoryError: [Errno 21] Is a directory: 'houses'; "
        "run with GRIDHOUSE_DEBUG=1 for the traceback\n"
    )
    monkeypatch.setenv(main.DEBUG_VARIABLE, "1")
    with pytest.raises(IsADirectoryError):
        main.main()


def test_a_deadlock_says_run_it_again_not_that_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL's deadlock error is an OperationalError, like a refused connection: the CLI
    said "the database cannot be reached: deadlock detected"."""
    from psycopg import errors as pg_errors
    from sqlalchemy.exc import OperationalError

    def deadlocked(**options: object) -> None:
        orig = pg_errors.DeadlockDetected("deadlock detected\nDETAIL:  Process 1 waits for …")
        raise OperationalError("INSERT INTO building_code_counters …", {}, orig)

    assert _stderr_of_failing(deadlocked, monkeypatch, capsys) == (
        "error: deadlock detected: a command running at the same time changed the same rows; "
        "this one's open transaction was rolled back: run it again\n"
    )


def test_a_command_line_not_understood_is_one_line_naming_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], shared_data: Path
) -> None:
    """Typer printed a six-line box (usage, a hint, a framed message) for a wrong option."""
    from api.cli import main

    for argv, line in (
        (["export", "nope", "--format", "shp", "--out", "x"],
         "error: Invalid value for '--format': 'shp' is not one of 'gpkg', 'geojson', 'csv', "
         "'xlsx'. (see gridhouse export --help)\n"),
        (["nosuch"], "error: No such command 'nosuch'. (see gridhouse --help)\n"),
        (["code", "check"], "error: Missing argument 'code'. (see gridhouse code check --help)\n"),
    ):  # fmt: skip
        monkeypatch.setattr(sys, "argv", ["gridhouse", *argv])
        with pytest.raises(SystemExit) as exited:
            main.main()
        assert exited.value.code == 2
        assert capsys.readouterr().err == line
    # an empty --crs was the file's own CRS, silently
    empty = ["import", "buildings", str(shared_data / "liechtenstein-2013.gpkg"), "--crs", ""]
    monkeypatch.setattr(sys, "argv", ["gridhouse", *empty])
    with pytest.raises(SystemExit) as exited:
        main.main()
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "error: --crs: a CRS is required (an EPSG code, GCJ02 or BD09)\n"
    )
    monkeypatch.setattr(sys, "argv", ["gridhouse", "import"])  # a group alone: its help
    with pytest.raises(SystemExit) as exited:
        main.main()
    assert exited.value.code == 2 and "import buildings" not in capsys.readouterr().err


def _squares_file(path: Path, corners: dict[str, float]) -> Path:
    """A GeoJSON file of 0.0002° squares at 47.1° N, by source id and west edge."""
    features = [
        f'{{"type": "Feature", "properties": {{"source_id": "{source_id}"}}, "geometry": '
        f'{{"type": "Polygon", "coordinates": [[[{x}, 47.1], [{x + 0.0002}, 47.1], '
        f"[{x + 0.0002}, 47.1002], [{x}, 47.1002], [{x}, 47.1]]]}}}}"
        for source_id, x in corners.items()
    ]
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}")
    return path


def _two_buildings(external_url: str, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """A migrated database, community 990101001001 and two squares imported into it (s0, s1
    by ``gridhouse import buildings``): the commands' environment and the two codes."""
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    with psycopg.connect(external_url) as conn:
        conn.execute(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990000000000', 'test', 'province', 1), ('990101001001', 'community', 'village', 5)"
        )
    footprints = _squares_file(tmp_path / "two.geojson", {"s0": 9.5, "s1": 9.501})
    imported = run("import", "buildings", str(footprints), "--community", "990101001001", env=env)
    assert imported.returncode == 0, imported.stderr
    with psycopg.connect(external_url) as conn:
        codes = [row[0] for row in conn.execute("SELECT code FROM buildings ORDER BY seq")]
    return env, codes


def test_changes_from_the_command_line_are_audited(external_url: str, tmp_path: Path) -> None:
    """An import and every change of a building's life write an audit row naming the operator
    and what changed (none did)."""
    env, codes = _two_buildings(external_url, tmp_path)
    retired = run("buildings", "retire", codes[0], "--reason", "error", env=env)
    assert retired.returncode == 0, retired.stderr
    # a refused change names the option (it said "geometry: …", "code: …"), and is not audited
    bow = tmp_path / "bow.geojson"
    bow.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[9.501, 47.1], [9.5012, 47.1002], '
        "[9.5012, 47.1], [9.501, 47.1002], [9.501, 47.1]]]}}]}"
    )
    _refused(run("buildings", "correct", codes[1], "--geometry", str(bow), env=env),
             "error: --geometry: ")  # fmt: skip
    _refused(run("buildings", "correct", codes[0], "--geometry", str(bow), env=env),
             "error: CODE: building ", "is retired")  # fmt: skip
    # unknown or malformed codes are errors, not empty answers (neither is audited as a change)
    _refused(run("grids", "validate", "--division", "999999", env=env),
             "--division: no division 999999000000")  # fmt: skip
    _refused(run("events", "list", "--grid", "12", env=env), "--grid: a grid code has 15 digits")
    with psycopg.connect(external_url) as conn:
        rows = conn.execute(
            "SELECT action, target_codes, row_count, user_name FROM audit_log ORDER BY id"
        ).fetchall()
    assert [(action, count) for action, _, count, _ in rows] == [
        ("buildings.import", 2),
        ("buildings.retire", 1),
    ]
    assert rows[0][1][1] == "two.geojson" and rows[1][1] == [codes[0]]
    assert all(user.startswith("cli:") for *_, user in rows)


def test_a_command_stopped_with_ctrl_c_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typer turns Ctrl-C into exit status 130 and printed nothing: an import stopped part-way
    left the user guessing what was stored."""
    import typer

    from api.cli import main as cli

    stopped = typer.Typer()

    @stopped.command()
    def work() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "app", stopped)
    monkeypatch.setattr(sys, "argv", ["gridhouse"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted; what was committed")


def test_a_resurveys_changelog_is_read_again(external_url: str, tmp_path: Path) -> None:
    """The re-survey prints 20 review items; `gridhouse buildings changes BATCH` gives every
    line again, one kind with --change, all of them to a CSV file with --out."""
    env, codes = _two_buildings(external_url, tmp_path)
    # s0 again, s1 gone, s2 new, s3 over the east 30% of s0
    again = _squares_file(
        tmp_path / "again.geojson", {"s0": 9.5, "s2": 9.503, "s3": 9.5 + 0.7 * 0.0002}
    )
    surveyed = run("import", "buildings", str(again), "--resurvey", "--community", "990101001001",
                   env=env)  # fmt: skip
    assert surveyed.returncode == 0, surveyed.stderr
    assert "added 1, changed 0, unchanged 1, pending_removal 1, review 1" in surveyed.stdout
    with psycopg.connect(external_url) as conn:
        (batch,) = conn.execute("SELECT max(id) FROM import_batches").fetchone() or (None,)
    assert f"gridhouse buildings changes {batch}" in surveyed.stdout

    review = run("buildings", "changes", str(batch), "--change", "review", env=env)
    assert review.returncode == 0, review.stderr
    lines = review.stdout.strip().splitlines()
    assert lines[0].startswith(f"review (overlap): {codes[0]} ⇄ rows ")
    assert f"  {lines[0]}\n" in surveyed.stdout  # the re-survey printed the same line
    assert "(s3); covered " in lines[0] and lines[0].endswith(" 30%")
    assert lines[-1] == f"batch {batch}: review 1"
    every = run("buildings", "changes", str(batch), env=env)
    assert every.stdout.strip().splitlines()[-1] == (
        f"batch {batch}: added 1, pending_removal 1, review 1, unchanged 1"
    )
    out = tmp_path / "changes.csv"
    written = run("buildings", "changes", str(batch), "--out", str(out), env=env)
    assert written.returncode == 0 and f"4 lines of batch {batch} written" in written.stdout
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((row["change"], row["code"] in codes) for row in rows) == [
        ("added", False), ("pending_removal", True), ("review", False), ("unchanged", True),
    ]  # fmt: skip
    (overlap,) = (json.loads(row["detail"]) for row in rows if row["change"] == "review")
    assert overlap["old_codes"] == [codes[0]] and overlap["new_source_ids"] == ["s3"]
    _refused(run("buildings", "changes", str(batch), "--out", str(out), env=env),
             f"error: --out: {out} exists")  # fmt: skip
    _refused(run("buildings", "changes", "99999", env=env),
             "error: BATCH: no buildings import batch 99999")  # fmt: skip
