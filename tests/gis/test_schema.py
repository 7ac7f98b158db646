"""The migrations: round trip, agreement with the models, and the constraints they create."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis import cluster, schema
from gis.models import Base
from tests.databases import own_database

TABLES = {
    "divisions",
    "buildings",
    "building_footprints",
    "lineage",
    "building_code_counters",
    "houses",
    "grids",
    "grid_code_counters",
    "grid_lineage",
    "grid_plans",
    "plan_grids",
    "plan_buildings",
    "building_counts",
    "building_grids",
    "grid_placements",
    "building_edits",
    "roads",
    "people",
    "residences",
    "voided_residences",
    "organizations",
    "declarations",
    "employments",
    "users",
    "user_sessions",
    "login_locks",
    "audit_log",
    "import_batches",
    "import_changes",
    "events",
    "event_steps",
    "event_photos",
    "event_moves_due",
    "residence_permits",
    "exchange_batches",
    "exchange_followups",
}


@pytest.fixture
def scratch_url(pg_cluster: cluster.Cluster) -> Iterator[str]:
    """An empty database of its own, for tests that migrate up and down."""
    with own_database(pg_cluster, "scratch", migrate=False) as url:
        yield url


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_round_trip(scratch_url: str) -> None:
    schema.upgrade(scratch_url)
    assert _tables(scratch_url) == TABLES
    schema.downgrade(scratch_url, "base")
    assert _tables(scratch_url) == set()
    schema.upgrade(scratch_url)
    assert _tables(scratch_url) == TABLES


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_object": alembic_helpers.include_object, "compare_type": True},
        )
        with warnings.catch_warnings():
            # PostgreSQL types SQLAlchemy does not reflect (building_edits' transaction ids):
            # declared alike on both sides, the comparison passes over them
            warnings.filterwarnings("ignore", "Did not recognize type '(xid8|pg_snapshot)'")
            diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_geometry_columns_are_4490_with_gist_indexes(db: Session) -> None:
    rows = db.execute(
        text("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns")
    ).all()
    assert {(table, column) for table, column, _ in rows} >= {
        ("divisions", "geom"),
        ("buildings", "geom"),
        ("building_footprints", "geom"),
        ("grids", "geom"),
        ("audit_log", "query_geom"),
    }
    assert {srid for _, _, srid in rows} == {4490}
    gist = db.execute(
        text("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist (geom)%'")
    ).scalars()
    assert set(gist) >= {"divisions", "buildings", "building_footprints", "grids"}


def test_invalid_geometry_is_refused_by_the_database(db: Session) -> None:
    bowtie = (
        "SRID=4490;MULTIPOLYGON(((113.9 22.5,113.91 22.51,113.91 22.5,113.9 22.51,113.9 22.5)))"
    )
    with pytest.raises(IntegrityError, match="ck_divisions_geom_valid"):
        db.execute(
            text(
                "INSERT INTO divisions (code, name, level, rank, geom) "
                "VALUES ('990000000000', 'x', 'province', 1, ST_GeomFromEWKT(:g))"
            ),
            {"g": bowtie},
        )


def test_an_invalid_grid_polygon_is_refused_on_insert_and_on_update(db: Session) -> None:
    """A trigger, not a CHECK, since migration 0012 (a CHECK ran on every classification's
    update): the same refusal when the polygon is written, none when other columns change."""
    bowtie = "SRID=4490;POLYGON((113.9 22.5,113.91 22.51,113.91 22.5,113.9 22.51,113.9 22.5))"
    square = "SRID=4490;POLYGON((113.9 22.5,113.91 22.5,113.91 22.51,113.9 22.51,113.9 22.5))"
    db.execute(
        text(
            "INSERT INTO divisions (code, name, level, rank) "
            "VALUES ('990101001001', 'v', 'village', 5)"
        )
    )
    insert = text(
        "INSERT INTO grids (code, community_code, district_code, valid_from, geom) "
        "VALUES ('990101001001001', '990101001001', '990101', '2025-01-01', "
        "ST_GeomFromEWKT(:g)) RETURNING uid"
    )
    with pytest.raises(IntegrityError, match="ck_grids_geom_valid"), db.begin_nested():
        db.execute(insert, {"g": bowtie})
    grid = db.execute(insert, {"g": square}).scalar_one()
    db.execute(text("UPDATE grids SET classified_on = '2025-06-01' WHERE uid = :u"), {"u": grid})
    with pytest.raises(IntegrityError, match="ck_grids_geom_valid"), db.begin_nested():
        db.execute(
            text("UPDATE grids SET geom = ST_GeomFromEWKT(:g) WHERE uid = :u"),
            {"g": bowtie, "u": grid},
        )


def test_overlapping_primary_residences_are_refused(db: Session) -> None:
    db.execute(
        text(
            "INSERT INTO divisions (code, name, level, rank) VALUES "
            "('990000000000', 'p', 'province', 1), ('990101001001', 'v', 'village', 5)"
        )
    )
    building = db.execute(
        text(
            "INSERT INTO buildings (code, district_code, community_code, seq, status, geom) VALUES "
            "('9901010010011000001000008', '990101', '990101001001', 1, 'active', "
            "ST_GeomFromEWKT('SRID=4490;MULTIPOLYGON(((113.9 22.5,113.9001 22.5,113.9001 22.5001,"
            "113.9 22.5)))')) RETURNING uid"
        )
    ).scalar_one()
    house = db.execute(
        text(
            "INSERT INTO houses (code, building_uid, district_code, unit, use) VALUES "
            "('990101001001100000100001X', :b, '990101', 1, 'residential') RETURNING uid"
        ),
        {"b": building},
    ).scalar_one()
    person = db.execute(
        text("INSERT INTO people (name, category) VALUES ('测试', 'floating') RETURNING uid")
    ).scalar_one()
    insert = text(
        "INSERT INTO residences (person_uid, house_uid, period, kind, declared_by) "
        "VALUES (:p, :h, daterange(:start, :end), 'tenant', 'self')"
    )
    db.execute(
        insert, {"p": person, "h": house, "start": date(2026, 1, 1), "end": date(2026, 6, 1)}
    )
    db.execute(insert, {"p": person, "h": house, "start": date(2026, 6, 1), "end": None})
    with (
        pytest.raises(IntegrityError, match="residences_one_primary_at_a_time"),
        db.begin_nested(),
    ):
        db.execute(insert, {"p": person, "h": house, "start": date(2026, 5, 1), "end": None})


def test_residences_ended_by_a_move_before_0016_are_linked_departures_are_not(
    scratch_url: str,
) -> None:
    """0016 links an ended primary residence to the next one when one request wrote both (the
    end stamped within seconds of the next one's creation), never a departure deregistered on
    its own, even when the next residence began the day it ended."""
    schema.upgrade(scratch_url, "0015_login_locks")
    engine = create_engine(scratch_url)
    insert = text(
        "INSERT INTO residences (uid, person_uid, house_uid, period, kind, declared_by, "
        "deregistered_at, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), "
        "gen_random_uuid(), daterange(CAST(:start AS date), CAST(:end AS date)), 'tenant', "
        "'self', CAST(:gone AS timestamptz), CAST(:made AS timestamptz)) RETURNING uid"
    )
    try:
        with engine.begin() as connection:
            # no people or houses: the foreign keys' triggers are off for this fixture
            connection.execute(text("SET LOCAL session_replication_role = replica"))

            def residence(start: str, end: str | None, gone: str | None, made: str) -> object:
                values = {"start": start, "end": end, "gone": gone, "made": made}
                return connection.execute(insert, values).scalar_one()

            moved = residence("2024-01-01", "2025-04-01", "2025-04-02 10:00:00.4+08", "2024-01-01")
            after_move = residence("2025-04-01", None, None, "2025-04-02 10:00:00+08")
            left = residence("2024-01-01", "2025-04-01", "2025-04-02 09:00:00+08", "2024-01-01")
            after_leaving = residence("2025-04-01", None, None, "2025-04-20 11:00:00+08")
            people = {
                row.uid: row.person_uid
                for row in connection.execute(text("SELECT uid, person_uid FROM residences"))
            }
            # each pair is one person's
            for first, second in ((moved, after_move), (left, after_leaving)):
                connection.execute(
                    text("UPDATE residences SET person_uid = :p WHERE uid = :u"),
                    {"p": people[first], "u": second},
                )
        schema.upgrade(scratch_url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT uid, ended_by_uid FROM residences"))
            linked = {row.uid: row.ended_by_uid for row in rows}
        assert linked == {moved: after_move, after_move: None, left: None, after_leaving: None}
    finally:
        engine.dispose()
