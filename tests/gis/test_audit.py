"""The audit log: hash chain, tamper detection, the append-only trigger, the app role's grants."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point, box
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from gis.audit import queries
from gis.audit import service as audit_service
from gis.audit.chain import AuditContent, canonical_bytes, canonical_parts, row_hash
from gis.audit.models import AuditEntry
from gis.audit.schemas import Actor, AuditOutcome, ChainProblemKind
from gis.audit.service import _content_of, list_audit_entries, record_audit, verify_chain
from gis.db import APP_ROLE
from gis.errors import InvalidInput

POLICE = Actor(name="li", role="police")


def _append(db: Session, count: int, *, action: str = "test.read") -> list[int]:
    ids = []
    for n in range(count):
        new_id, _ = record_audit(
            db,
            actor=POLICE,
            action=action,
            target_codes=[f"code-{n}"],
            query_geom=Point(113.93, 22.52).buffer(0.001) if n % 2 else None,
            purpose="案件 2026-0017 走访核查",
            row_count=n,
            client_addr="192.0.2.10" if n % 2 else "::ffff:192.0.2.1",
        )
        ids.append(new_id)
    return ids


def _tamper(db: Session, statement: str, **params: object) -> None:
    """Edit the log as the owner, with the append-only trigger switched off for the moment."""
    db.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    db.execute(text(statement), params)
    db.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_rows_are_chained_and_verify(db: Session) -> None:
    ids = _append(db, 6)
    rows = db.scalars(select(AuditEntry).where(AuditEntry.id.in_(ids)).order_by("id")).all()
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    report = verify_chain(db, batch_size=4)
    assert report.is_intact, report.problem
    assert report.head_id == ids[-1]
    assert report.head_hash == rows[-1].hash
    assert report.rows_checked >= 6


def test_hash_covers_every_column() -> None:
    base = AuditContent(1, datetime(2026, 1, 1, tzinfo=UTC), "li", "police", "x.read", ("a",),
                        None, "p", 1, "ok", None)  # fmt: skip
    variants = [
        base.__class__(**{**base.__dict__, name: value})
        for name, value in [
            ("id", 2), ("at", datetime(2026, 1, 2, tzinfo=UTC)), ("user_name", "wang"),
            ("role", "admin"), ("action", "x.write"), ("target_codes", ("b",)),
            ("query_wkb_hex", "00"), ("purpose", "q"), ("row_count", 2), ("outcome", "denied"),
            ("client_addr", "10.0.0.1"),
        ]
    ]  # fmt: skip
    hashes = {row_hash(content, prev_hash=None) for content in [base, *variants]}
    assert len(hashes) == len(variants) + 1
    assert row_hash(base, prev_hash=b"\x01" * 32) != row_hash(base, prev_hash=None)


def test_canonical_parts_split_the_bytes_around_the_id() -> None:
    """What ``audit_append`` hashes (head, the id, tail) is byte for byte what verify hashes."""
    at = datetime(2026, 11, 22, 19, 30, 1, 5, tzinfo=UTC)
    tricky = 'case "A" \\ 走访\n\t/ "id":1,'
    contents = [
        AuditContent(0, at, None, None, "x", (), None, None, None, "ok", None),
        AuditContent(0, at, "李警官", "police", "occupants.radius", ("4403050070031000123000007",),
                     "0103000020", tricky, 370, "ok", "::1"),
        AuditContent(0, at, 'id":1,', "admin", '"id":', ('"id":2,', ""), None, "}{", 0,
                     "denied", "192.0.2.1"),
    ]  # fmt: skip
    for content in contents:
        head, tail = canonical_parts(content)
        for new_id in (1, 42, 9_007_199_254_740_993):
            whole = replace(content, id=new_id)
            assert head + str(new_id).encode() + tail == canonical_bytes(whole)


def test_the_database_hashes_what_python_verifies(db: Session) -> None:
    """``audit_append`` hashes in the database; verify recomputes in Python: the same bytes."""
    new_id, digest = record_audit(
        db, actor=Actor(name="李警官", role="police"), action="occupants.radius",
        target_codes=["4403050070031000123000007", '"quoted"'],
        query_geom=box(113.9, 22.5, 113.91, 22.51), purpose='case "A" \\ 走访\n', row_count=3,
        client_addr="::ffff:192.0.2.7",
    )  # fmt: skip
    row = next(iter(queries.select_chain_batch(db, after_id=new_id - 1, limit=1)))
    assert row.id == new_id
    assert bytes(row.hash) == digest
    prev = bytes(row.prev_hash) if row.prev_hash is not None else None
    assert row_hash(_content_of(row), prev_hash=prev) == digest


def test_rows_written_before_migration_0007_still_verify(db: Session) -> None:
    """A row appended the old way (four statements, hashed in Python), then rows appended by
    ``audit_append``: one chain, intact."""
    db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": queries.CHAIN_LOCK_KEY})
    prev = db.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    old_id = int(db.scalar(text("SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))")))
    content = AuditContent(old_id, datetime.now(UTC), "li", "police", "old.read", ("a",), None,
                           "case 17", 2, "ok", None)  # fmt: skip
    old_hash = row_hash(content, prev_hash=prev)
    db.add(
        AuditEntry(
            id=old_id, at=content.at, user_name="li", role="police", action="old.read",
            target_codes=["a"], purpose="case 17", row_count=2, outcome="ok", prev_hash=prev,
            hash=old_hash,
        )
    )  # fmt: skip
    db.flush()
    ids = _append(db, 2)
    first_new = db.get(AuditEntry, ids[0])
    assert first_new is not None
    assert first_new.prev_hash == old_hash
    report = verify_chain(db)
    assert report.is_intact, report.problem
    assert report.head_id == ids[-1]


def test_an_edited_row_is_named(db: Session) -> None:
    ids = _append(db, 5)
    _tamper(db, "UPDATE audit_log SET row_count = 0 WHERE id = :id", id=ids[2])
    report = verify_chain(db)
    assert report.problem is not None
    assert report.problem.kind is ChainProblemKind.EDITED
    assert report.problem.row_id == ids[2]
    assert f"row {ids[2]} was edited" in report.problem.message


def test_an_edited_geometry_is_detected(db: Session) -> None:
    ids = _append(db, 3)
    _tamper(
        db,
        "UPDATE audit_log SET query_geom = ST_Translate(query_geom, 0.01, 0) WHERE id = :id",
        id=ids[1],
    )
    problem = verify_chain(db).problem
    assert problem is not None
    assert problem.row_id == ids[1]


def test_a_deleted_row_breaks_the_next_link(db: Session) -> None:
    ids = _append(db, 5)
    _tamper(db, "DELETE FROM audit_log WHERE id = :id", id=ids[2])
    problem = verify_chain(db).problem
    assert problem is not None
    assert problem.kind is ChainProblemKind.BROKEN_LINK
    assert problem.row_id == ids[3]
    assert f"after row {ids[1]}" in problem.message


def test_a_rewritten_row_with_a_fresh_hash_breaks_the_next_link(db: Session) -> None:
    ids = _append(db, 4)
    _tamper(db, "UPDATE audit_log SET hash = sha256(hash) WHERE id = :id", id=ids[1])
    problem = verify_chain(db).problem
    assert problem is not None
    assert problem.row_id == ids[1]  # its own hash no longer matches its content either


def test_young_rows_deleted_at_the_start_are_no_purge(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows deleted from the start of the log looked like a purge (exit 0), though a purge
    removes only rows older than 180 days and the first row left was from yesterday."""
    ids = _append(db, 4)
    _tamper(db, "DELETE FROM audit_log WHERE id <= :id", id=ids[1])
    report = verify_chain(db)
    assert report.problem is not None and report.starts_after_purge
    assert report.problem.kind is ChainProblemKind.DELETED_AT_START
    assert report.problem.row_id == ids[2]
    assert f"rows before row {ids[2]} were deleted, but row {ids[2]} is from" in (
        report.problem.message
    )
    # the same log after a real purge: its first row older than the retention
    monkeypatch.setattr(audit_service, "RETENTION", timedelta(0))
    purged = verify_chain(db)
    assert purged.problem is None and purged.starts_after_purge
    assert (purged.first_id, purged.head_id) == (ids[2], ids[3])


def test_the_trigger_refuses_update_truncate_and_young_deletes(db: Session) -> None:
    ids = _append(db, 2)
    for statement in (
        "UPDATE audit_log SET purpose = 'nothing' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(DBAPIError, match=r"append-only|kept 180 days"), db.begin_nested():
            db.execute(text(statement), {"id": ids[0]})
    # a row older than 180 days may be purged by the owner
    old = db.execute(
        text(
            "INSERT INTO audit_log (at, action, outcome) VALUES (:at, 'old.read', 'ok') "
            "RETURNING id"
        ),
        {"at": datetime.now(UTC) - timedelta(days=181)},
    ).scalar_one()
    db.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": old})
    assert db.get(AuditEntry, old) is None


def test_the_app_role_may_insert_and_read_but_never_change(db: Session) -> None:
    ids = _append(db, 1)
    db.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    new_id, _ = record_audit(db, actor=POLICE, action="as.app", outcome=AuditOutcome.OK)
    assert db.get(AuditEntry, new_id) is not None
    for statement in (
        "UPDATE audit_log SET purpose = 'x' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), db.begin_nested():
            db.execute(text(statement), {"id": ids[0]})
    # every other table stays writable for the application
    db.execute(text("UPDATE users SET failed_logins = failed_logins WHERE false"))
    db.execute(text("DELETE FROM user_sessions WHERE false"))
    db.execute(text("RESET ROLE"))


def test_record_audit_refuses_nul_bytes_and_drops_non_addresses(db: Session) -> None:
    with pytest.raises(InvalidInput):
        record_audit(db, actor=POLICE, action="x", purpose="bad\x00purpose")
    new_id, _ = record_audit(db, actor=POLICE, action="x", client_addr="testclient")
    entry = db.get(AuditEntry, new_id)
    assert entry is not None
    assert entry.client_addr is None


def test_listing_filters_and_pages(db: Session) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    _append(db, 5, action="list.read")
    record_audit(db, actor=Actor(name="wang", role="officer"), action="list.read",
                 query_geom=box(113.9, 22.5, 113.91, 22.51))  # fmt: skip
    page = list_audit_entries(db, action="list.read", at_from=start, limit=4)
    assert len(page.items) == 4
    assert page.items[0].user_name == "wang"
    assert page.items[0].query_geom is not None
    assert page.items[0].query_geom["type"] == "Polygon"
    assert page.next_before_id == page.items[-1].id
    rest = list_audit_entries(db, action="list.read", at_from=start, before_id=page.next_before_id)
    assert len(rest.items) == 2
    assert rest.next_before_id is None
    only_li = list_audit_entries(db, action="list.read", user_name="li", at_from=start)
    assert {item.user_name for item in only_li.items} == {"li"}
    future = list_audit_entries(db, at_from=datetime.now(UTC) + timedelta(days=1))
    assert future.items == []
