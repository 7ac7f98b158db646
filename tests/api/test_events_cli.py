"""``gridhouse events|permits|exchange …`` as a user runs them: exit 0 on success, 1 with a
one-line reason on failure (an illegal step among them)."""

from __future__ import annotations

import doctest
from pathlib import Path

import psycopg
from typer.testing import CliRunner

import gis.clock
from api.cli.main import app as cli_app
from gis.clock import today_in_china
from gis.errors import InvalidInput, NotFound
from tests.api.test_cli import external_url, run  # noqa: F401 - the fixture is used by name
from tests.api.test_quality import cli  # noqa: F401 - the fixture is used by name


def test_event_permit_and_exchange_commands(external_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    with psycopg.connect(external_url) as conn:
        inserted = conn.execute(
            "INSERT INTO events (kind, status, title, geom, source, reported_by, due_at) VALUES "
            "('dispute', 'reported', '纠纷', ST_SetSRID(ST_MakePoint(113.9, 22.5), 4490), "
            "'import', 'cli', now() - interval '1 day') RETURNING id"
        ).fetchone()
        assert inserted is not None
        event_id = inserted[0]
    refused = run("events", "step", str(event_id), "closed", "--note", "结案", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"error: status: event {event_id} is reported and cannot be closed: only a checked "
        "event can be closed (next steps from reported: accepted, rejected)"
    ]
    accepted = run("events", "step", str(event_id), "accepted", env=env)
    assert accepted.returncode == 0 and f"event {event_id} is accepted" in accepted.stdout
    overdue = run("events", "list", "--overdue", env=env)
    assert (
        overdue.returncode == 0 and "OVERDUE" in overdue.stdout and "1 event(s)" in overdue.stdout
    )
    with psycopg.connect(external_url) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
        inserted = conn.execute(
            "INSERT INTO events (kind, status, title, geom, source, reported_by, due_at) VALUES "
            "('dispute', 'reported', '噪音', ST_SetSRID(ST_MakePoint(113.9, 22.5), 4490), "
            "'import', 'cli', now() + interval '1 day') RETURNING id"
        ).fetchone()
        assert inserted is not None
        second_id = inserted[0]
    assert actions[-2:] == ["events.step", "events.list"]
    # a page at a time: the first names the option that gives the next
    first = run("events", "list", "--limit", "1", env=env)
    assert first.returncode == 0 and "纠纷" in first.stdout and "噪音" not in first.stdout
    assert f"more: add --after {event_id} for the next page" in first.stdout
    following = run("events", "list", "--limit", "1", "--after", str(event_id), env=env)
    assert following.returncode == 0 and "噪音" in following.stdout
    assert "纠纷" not in following.stdout and f"{second_id:>8}" in following.stdout
    bad = tmp_path / "outflow.csv"
    bad.write_text("citizen_id,name\n110105199001010010,甲\n", encoding="utf-8")
    refused_file = run("exchange", "reconcile", str(bad), "--region", "990101000000",
                       "--other-region", "110105000000", "--from", "2025-01-01",
                       "--to", "2025-12-31", env=env)  # fmt: skip
    assert refused_file.returncode == 1
    assert "the CSV lacks the columns hukou_division, residence_division, since" in (
        refused_file.stderr
    )
    # an exchange file holds full ID numbers: the owner's only, never written over
    with psycopg.connect(external_url) as conn:
        conn.execute(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990101000000', '测试区', 'county', 3) ON CONFLICT DO NOTHING"
        )
    out = tmp_path / "inflow.json"
    period = ("--region", "990101000000", "--from", "2025-01-01", "--to", "2025-12-31")
    exported = run("exchange", "export", *period, "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    again = run("exchange", "export", *period, "--out", str(out), env=env)
    assert again.returncode == 1 and f"--out: {out} exists" in again.stderr
    # a typo in the folder: refused, nothing made (it made the folder and wrote full ID numbers)
    astray = tmp_path / "no-such-folder" / "inflow.json"
    refused = run("exchange", "export", *period, "--out", str(astray), env=env)
    assert refused.returncode == 1, refused.stdout
    assert f"--out: the folder {astray.parent} does not exist" in refused.stderr
    assert not astray.parent.exists()
    # the service's errors name the command's options (it said period_to)
    backwards = run("exchange", "export", "--region", "990101000000", "--from", "2025-12-31",
                    "--to", "2025-01-01", "--out", str(tmp_path / "b.json"), env=env)  # fmt: skip
    assert backwards.returncode == 1
    assert backwards.stderr.startswith("error: --to: the period ends before it starts")


def test_import_events_twice_adds_nothing_the_second_time(
    external_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    with psycopg.connect(external_url) as conn:
        conn.execute(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990101001001', '测试社区', 'village', 5)"
        )
        conn.execute(
            "INSERT INTO grids (code, community_code, district_code, valid_from, geom) VALUES "
            "('990101001001001', '990101001001', '990101', '2024-01-01', "
            "ST_GeomFromText('POLYGON((113.9 22.5,113.91 22.5,113.91 22.51,113.9 22.51,"
            "113.9 22.5))', 4490))"
        )
    file = tmp_path / "events.csv"
    file.write_text(
        "来源编号,事件类型,标题,经度,纬度,上报时间\n"
        "110-1,矛盾纠纷,楼上漏水,113.905,22.505,2026-05-01 10:00\n"
        "110-2,安全隐患,电动车楼道充电,113.905,22.505,2026-05-02 10:00\n"
        "110-3,洪水,?,113.905,22.505,2026-05-02 10:00\n",
        encoding="utf-8",
    )
    refused = run("import", "events", str(file), env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: --crs: events.csv has lon/lat columns: name their CRS with --crs "
        "(EPSG:4326, EPSG:4490, GCJ02 or BD09)"
    ]
    rejects = tmp_path / "rejects.csv"
    first = run("import", "events", str(file), "--crs", "EPSG:4326", "--rejects", str(rejects),
                env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0].strip(), first.stdout  # no empty line from a progress bar
    assert "rejected row 4: kind (事件类型): '洪水' is not one of" in first.stdout
    assert "read 3, imported 2, already imported 0, rejected 1" in first.stdout
    assert rejects.exists()
    again = run("import", "events", str(file), "--crs", "EPSG:4326", env=env)
    assert again.returncode == 0, again.stderr
    assert "read 3, imported 0, already imported 2, rejected 1" in again.stdout
    with psycopg.connect(external_url) as conn:
        stored = conn.execute("SELECT count(*) FROM events").fetchone()
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert stored == (2,)
    assert actions == ["events.import", "events.import"]


def test_dates_on_the_command_line_are_written_as_the_api_reads_them(
    cli: CliRunner,  # noqa: F811
    tmp_path: Path,
) -> None:
    """YYYY-MM-DD only: ``date.fromisoformat`` read an ISO week date (``2026-W01-1`` as
    2025-12-29), an ordinal date or a date without dashes."""
    outflow = tmp_path / "outflow.csv"
    outflow.write_text("citizen_id,name,hukou_division,residence_division,since\n", "utf-8")
    export = ["exchange", "export", "--region", "990101000000", "--out", str(tmp_path / "x.json")]
    reconcile = ["exchange", "reconcile", str(outflow), "--region", "990101000000",
                 "--other-region", "110105000000"]  # fmt: skip
    for args, option, value in (
        ([*export, "--from", "2026-W01-1", "--to", "2026-01-31"], "--from", "2026-W01-1"),
        ([*export, "--from", "2026-01-01", "--to", "20260131"], "--to", "20260131"),
        ([*reconcile, "--from", "2025-001", "--to", "2025-12-31"], "--from", "2025-001"),
        (["grids", "validate", "--at", "20260101"], "--at", "20260101"),
        (["grids", "classify", "--at", "2026-W01"], "--at", "2026-W01"),
        (["grids", "publish", "1", "--effective", "2026-W01-1"], "--effective", "2026-W01-1"),
        (["import", "grids", str(tmp_path / "g.geojson"), "--valid-from", "2026-1-5"],
         "--valid-from", "2026-1-5"),
    ):  # fmt: skip
        result = cli.invoke(cli_app, args)
        assert result.exit_code == 1 and isinstance(result.exception, InvalidInput), (
            args, result.output)  # fmt: skip
        assert str(result.exception) == (
            f"{option}: a date is written YYYY-MM-DD (e.g. 2026-01-05), not {value!r}"
        )
    impossible = cli.invoke(cli_app, ["grids", "validate", "--at", "2026-02-30"])
    assert str(impossible.exception) == "--at: 2026-02-30 is not a date of the calendar"


def test_permit_reminders_name_the_grid_option_and_check_its_form(
    cli: CliRunner,  # noqa: F811
) -> None:
    """``--grid abc`` was looked up as it was and refused as ``code: no grid abc``."""
    today = today_in_china()
    for grid, error, reason in (
        ("abc", InvalidInput, "a grid code has 15 digits"),
        ("990101001001000", InvalidInput, "the grid sequence (positions 13-15) cannot be 000"),
        ("999999999999999", NotFound, f"no grid 999999999999999 on {today}"),
    ):
        result = cli.invoke(cli_app, ["permits", "reminders", "--grid", grid])
        assert result.exit_code == 1 and isinstance(result.exception, error), result.output
        assert str(result.exception) == f"--grid: {reason}"


def test_doctests_of_the_date_checks() -> None:
    failures, _ = doctest.testmod(gis.clock, raise_on_error=False)
    assert failures == 0
