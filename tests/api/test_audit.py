"""``GET /api/audit`` for auditors, and ``gridhouse audit verify`` on a real, committed log."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from api.cli.main import app as cli_app
from gis import cluster
from gis.audit.models import AuditEntry
from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.clock import CHINA
from gis.db import make_engine, make_session_factory, transaction
from gis.errors import InvalidInput
from gis.settings import get_settings
from gis.users.models import Role
from tests.access_world import PASSWORD, World, bearer, login
from tests.databases import own_database

GRIDHOUSE = Path(sys.executable).parent / "gridhouse"
Cli = Callable[..., Result]


def test_only_auditors_read_the_log_and_every_attempt_is_audited(
    client: TestClient, world: World, db: Session
) -> None:
    """A refused look at the log (an administrator probing it) leaves a ``denied`` row."""
    before = db.scalar(select(func.max(AuditEntry.id))) or 0
    for role in Role:
        token = login(client, world.users[role])
        response = client.get("/api/audit", headers=bearer(token))
        assert response.status_code == (200 if role is Role.AUDITOR else 403), role
    client.cookies.clear()
    assert client.get("/api/audit").status_code == 401
    reads = db.execute(
        select(AuditEntry.user_name, AuditEntry.outcome)
        .where(AuditEntry.id > before, AuditEntry.action == "audit.read")
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(read) for read in reads] == [
        (world.users[role], "ok" if role is Role.AUDITOR else "denied") for role in Role
    ]


def test_filters_paging_and_the_read_is_audited(client: TestClient, world: World) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    police = world.users[Role.POLICE]
    login(client, police)
    client.post("/api/auth/login", json={"name": police, "password": "not the password"})
    token = login(client, world.users[Role.AUDITOR])
    client.cookies.clear()
    params: dict[str, str | int] = {
        "user": police,
        "action": "auth.login",
        "from": since,
        "limit": 1,
    }
    first = client.get("/api/audit", params=params, headers=bearer(token))
    assert first.status_code == 200
    page = first.json()
    assert [item["outcome"] for item in page["items"]] == ["denied"]
    assert page["items"][0]["user_name"] == police
    assert page["items"][0]["role"] == "police"
    assert len(page["items"][0]["hash"]) == 64
    second = client.get(
        "/api/audit", params={**params, "before_id": page["next_before_id"]}, headers=bearer(token)
    )
    assert [item["outcome"] for item in second.json()["items"]] == ["ok"]
    reads = client.get(
        "/api/audit", params={"action": "audit.read", "from": since}, headers=bearer(token)
    ).json()["items"]
    assert len(reads) == 2
    assert {item["user_name"] for item in reads} == {world.users[Role.AUDITOR]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 100_000}, "limit"),
        ({"before_id": 2**70}, "before_id"),
        ({"from": "yesterday"}, "from"),
        ({"from": "0"}, "from"),  # a Unix time was read as 1970
        ({"from": "1700000000"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "2026-11-23", "to": "2026-11-22"}, "to"),  # was an empty page
        ({"from": "2026-11-23T08:00:00+08:00", "to": "2026-11-23T00:00:00Z"}, "to"),
    ],
)
def test_bad_filters_are_422(
    client: TestClient, world: World, params: dict[str, str | int], field: str
) -> None:
    token = login(client, world.users[Role.AUDITOR])
    response = client.get("/api/audit", params=params, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def test_dates_without_an_offset_are_china_time(
    client: TestClient, world: World, db: Session
) -> None:
    token = login(client, world.users[Role.AUDITOR])
    record_audit(db, actor=Actor(name="clock_test", role="admin"), action="test.clock")
    stamped = db.scalar(select(AuditEntry.at).where(AuditEntry.user_name == "clock_test"))
    assert stamped is not None
    local = stamped.astimezone(CHINA).replace(tzinfo=None)  # the wall clock in China

    def found(since: str) -> int:
        params = {"user": "clock_test", "from": since}
        return len(client.get("/api/audit", params=params, headers=bearer(token)).json()["items"])

    minute = timedelta(minutes=1)
    assert found((local - minute).isoformat()) == 1  # read as UTC it would be 8 hours later
    assert found((local + minute).isoformat()) == 0
    assert found(local.date().isoformat()) == 1
    assert found((stamped - minute).astimezone(UTC).isoformat()) == 1


@pytest.fixture
def audited_db(pg_cluster: cluster.Cluster) -> Iterator[str]:
    """A database of its own with a committed audit log of five rows."""
    with own_database(pg_cluster, "audited") as url:
        engine = make_engine(url, pool_size=1)
        for n in range(5):
            with transaction(make_session_factory(engine)) as session:
                record_audit(session, actor=Actor("li", "police"), action="test.read", row_count=n)
        engine.dispose()
        yield url


def _verify(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRIDHOUSE_DATABASE_URL": url.replace("+psycopg", ""),
        "GRIDHOUSE_DATA_DIR": str(tmp_path),
    }
    return subprocess.run(
        [str(GRIDHOUSE), "audit", "verify"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def _ids(url: str) -> list[int]:
    engine = make_engine(url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 5
    engine.dispose()
    return ids


def test_verify_reports_an_edited_row(audited_db: str, tmp_path: Path, cli: Cli) -> None:
    intact = cli("audit", "verify")
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 5 rows" in intact.stdout
    target = _ids(audited_db)[2]
    with psycopg.connect(audited_db.replace("+psycopg", "")) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.execute("UPDATE audit_log SET purpose = 'nothing to see' WHERE id = %s", (target,))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    tampered = _verify(audited_db, tmp_path)
    assert tampered.returncode == 1
    assert tampered.stderr.strip() == (
        f"error: audit log tampered: row {target} was edited: its content no longer matches "
        "its hash"
    )


@pytest.fixture
def cli(audited_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The ``gridhouse`` command in-process (a subprocess costs seconds of imports)."""
    monkeypatch.setenv("GRIDHOUSE_DATABASE_URL", audited_db.replace("+psycopg", ""))
    monkeypatch.setenv("GRIDHOUSE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()

    def run(*args: str, stdin: str = "") -> Result:
        return CliRunner().invoke(cli_app, list(args), input=stdin)

    yield run
    get_settings.cache_clear()


def test_verify_reports_a_deleted_row(audited_db: str, cli: Cli) -> None:
    ids = _ids(audited_db)
    with psycopg.connect(audited_db.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.execute("DELETE FROM audit_log WHERE id = %s", (ids[1],))
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log WHERE id = %s", (ids[2],))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"breaks before row {ids[2]}" in result.stderr
    assert f"after row {ids[0]}" in result.stderr


def test_users_cli_round_trip(cli: Cli) -> None:
    added = cli("users", "add", "wang", "--role", "auditor", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    officer = cli("users", "add", "zhou", "--role", "officer", "--grids", "440305007003001",
                  "--password-stdin", "--totp", stdin=PASSWORD + "\n")  # fmt: skip
    assert officer.exit_code == 0, officer.output
    assert "no grid has the code(s) 440305007003001" in officer.stderr
    assert "otpauth://totp/gridhouse:zhou" in officer.stdout
    no_stdin = cli("users", "add", "li", "--role", "admin")
    assert isinstance(no_stdin.exception, InvalidInput)
    assert no_stdin.exception.field == "password"
    bad = cli("users", "add", "li", "--role", "police", "--password-stdin", stdin=PASSWORD)
    assert isinstance(bad.exception, InvalidInput)
    assert str(bad.exception) == "--division: a police user needs a division code"
    short = cli("users", "add", "li", "--role", "officer", "--grids", "12", "--password-stdin",
                stdin=PASSWORD)  # fmt: skip
    assert str(short.exception) == "--grids: '12' is not a 15-digit grid code"
    assert cli("users", "disable", "wang").exit_code == 0
    reset = cli("users", "reset", "wang", "--password-stdin", stdin="another long secret\n")
    assert reset.exit_code == 0
    listing = cli("users", "list")
    assert listing.exit_code == 0
    assert "wang\tauditor\t-\tdisabled" in listing.stdout
    assert "zhou\tofficer\t440305007003001\ttotp" in listing.stdout
    assert PASSWORD not in listing.stdout
    verify = cli("audit", "verify")
    assert verify.exit_code == 0, verify.output
    assert "9 rows" in verify.stdout  # 5 + add, add, disable, reset


def test_concurrent_appends_make_one_chain(audited_db: str, cli: Cli) -> None:
    """Writers on four connections at once: ``audit_append`` takes the chain's lock before it
    reads the last hash, so every row links to the row committed just before it."""
    engine = make_engine(audited_db, pool_size=4)
    factory = make_session_factory(engine)
    start = threading.Barrier(4)

    def append(worker: int) -> None:
        start.wait()
        for n in range(10):
            with transaction(factory) as session:
                record_audit(
                    session, actor=Actor(f"w{worker}", "police"), action="test.read", row_count=n
                )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append, range(4)))
    engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit log intact: 45 rows" in result.stdout
