"""``gridhouse events|permits|exchange …`` as a user runs them: exit 0 on success, 1 with a
one-line reason on failure (an illegal step among them)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.api.test_cli import external_url, run  # noqa: F401 - the fixture is used by name


def test_event_permit_and_exchange_commands(external_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {"GRIDHOUSE_DATABASE_URL": external_url, "GRIDHOUSE_DATA_DIR": str(tmp_path)}
    assert run("migrate", env=env).returncode == 0
    with psycopg.connect(external_url) as conn:
        event_id = conn.execute(
            "INSERT INTO events (kind, status, title, geom, source, reported_by, due_at) VALUES "
            "('dispute', 'reported', '纠纷', ST_SetSRID(ST_MakePoint(113.9, 22.5), 4490), "
            "'import', 'cli', now() - interval '1 day') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
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
    assert actions[-2:] == ["events.step", "events.list"]
    bad = tmp_path / "outflow.csv"
    bad.write_text("citizen_id,name\n110105199001010010,甲\n", encoding="utf-8")
    refused_file = run("exchange", "reconcile", str(bad), "--region", "990101000000",
                       "--other-region", "110105000000", "--from", "2025-01-01",
                       "--to", "2025-12-31", env=env)  # fmt: skip
    assert refused_file.returncode == 1
    assert "the CSV lacks the columns hukou_division, residence_division, since" in (
        refused_file.stderr
    )
