"""Each building's counts, kept for classifying grids (issue 6, item 8: classifying at city scale).

Classifying grids counted the houses, residents, floating residents… of every grid from the
residences and people of the whole city each time: ~7 s per 1.6 million residents, so about a
minute for a city of 15 million. ``building_counts`` keeps, per building, what that count needs
(houses, dwellings, rented houses, large rental 0/1, households, residents, floating residents,
key persons, organizations: ``gis.grids.snapshot_queries.COUNT_FIELDS`` order) for the dates
``[valid_from, valid_until)`` over which no residence of the building starts or ends, so a
classification sums a million short rows and recounts only the buildings that changed.

Kept current without trusting any code path: statement triggers on ``houses``, ``residences``,
``people`` and ``organizations`` bump the ``generation`` of every building a statement touched
(one upsert per statement, from its transition tables: a bulk COPY costs one statement, a
registration one small upsert). A row is current when ``counted_generation = generation`` and the
date lies in its range; ``gis.grids.building_counts`` counts the others again. The recount takes its
row locks with ``SKIP LOCKED`` (a building a writer is changing right now is counted without
being stored), so it never waits for a writer and a writer never deadlocks with it; a writer that
changes a building after the recount read it bumps the generation again once the recount
commits, so a stale count is never taken as current.

Also: a partial index on the people with a secondary residence (``NOT is_primary``), the only
people a grid's count must look at one by one (someone living in two buildings of one grid is
one resident).

Revision ID: 0010_counts
Revises: 0009_grids
Create Date: 2026-11-22 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_counts"
down_revision: str | None = "0009_grids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = """
CREATE FUNCTION building_counts_bump(uids uuid[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO building_counts AS c (building_uid)
    SELECT DISTINCT u FROM unnest(uids) AS u WHERE u IS NOT NULL ORDER BY u
    ON CONFLICT (building_uid) DO UPDATE SET generation = c.generation + 1
$$
"""

# (table, the rows' buildings from a transition table called {rows}, the columns whose change
# matters on UPDATE: an update that changes none of them bumps nothing)
_SOURCES = {
    "houses": (
        "SELECT x.building_uid FROM {rows} x",
        ("building_uid", "status", "use", "is_rented", "rooms"),
    ),
    "residences": (
        "SELECT h.building_uid FROM {rows} r JOIN houses h ON h.uid = r.house_uid",
        ("house_uid", "period", "person_uid"),
    ),
    "organizations": (
        "SELECT h.building_uid FROM {rows} o JOIN houses h ON h.uid = o.house_uid",
        ("house_uid",),
    ),
    "people": (
        "SELECT h.building_uid FROM {rows} p JOIN residences r ON r.person_uid = p.uid "
        "JOIN houses h ON h.uid = r.house_uid",
        ("category", "is_key_person"),
    ),
}


def _function(table: str) -> str:
    select, columns = _SOURCES[table]
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
    inserted = select.format(rows="new_rows")
    deleted = select.format(rows="old_rows")
    updated_new = select.format(
        rows=f"(SELECT n.* FROM new_rows n JOIN old_rows o USING (uid) WHERE {changed})"
    )
    updated_old = select.format(
        rows=f"(SELECT o.* FROM old_rows o JOIN new_rows n USING (uid) WHERE {changed})"
    )
    return f"""
CREATE FUNCTION building_counts_touch_{table}() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM building_counts_bump(ARRAY({inserted}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM building_counts_bump(ARRAY({deleted}));
    ELSE
        PERFORM building_counts_bump(ARRAY({updated_new}) || ARRAY({updated_old}));
    END IF;
    RETURN NULL;
END
$$
"""


def _triggers(table: str) -> list[str]:
    function = f"building_counts_touch_{table}()"
    return [
        f"CREATE TRIGGER building_counts_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER building_counts_update AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER building_counts_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
    ]


def upgrade() -> None:
    op.create_table(
        "building_counts",
        sa.Column("building_uid", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("counted_generation", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("counts", postgresql.ARRAY(sa.Integer()), nullable=True),
        sa.PrimaryKeyConstraint("building_uid", name=op.f("pk_building_counts")),
    )
    op.create_index(
        "ix_residences_secondary_person_uid",
        "residences",
        ["person_uid"],
        postgresql_where=sa.text("NOT is_primary"),
    )
    # a row for every building there is (houses added later create the rows of new buildings)
    op.execute("INSERT INTO building_counts (building_uid) SELECT uid FROM buildings")
    op.execute(_BUMP)
    for table in _SOURCES:
        op.execute(_function(table))
        for trigger in _triggers(table):
            op.execute(trigger)


def downgrade() -> None:
    for table in _SOURCES:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER building_counts_{name} ON {table}")
        op.execute(f"DROP FUNCTION building_counts_touch_{table}()")
    op.execute("DROP FUNCTION building_counts_bump(uuid[])")
    op.drop_index("ix_residences_secondary_person_uid", table_name="residences")
    op.drop_table("building_counts")
