"""Every building has its ``building_counts`` row from the moment it is imported.

Migration 0010 gave every existing building a row, and houses added later gave their building
one; a building imported without houses had none, so each count of its grid counted it on the
spot, and a grid of many such buildings (right after an import of footprints, before houses)
sent a large set through the on-the-spot count, which is meant for a handful. A statement
trigger on ``buildings`` now adds the rows of the buildings a statement inserts (one insert per
statement, from its transition table: an import's COPY of 50,000 footprints adds 50,000 short
rows), so only the rows a writer holds are ever counted on the spot.

Revision ID: 0011_counts_rows
Revises: 0010_counts
Create Date: 2026-11-22 23:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_counts_rows"
down_revision: str | None = "0010_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE FUNCTION building_counts_add_buildings() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO building_counts (building_uid)
    SELECT uid FROM new_rows ORDER BY uid
    ON CONFLICT (building_uid) DO NOTHING;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER building_counts_insert AFTER INSERT ON buildings "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION building_counts_add_buildings()"
    )
    # buildings imported between 0010 and now without houses
    op.execute(
        "INSERT INTO building_counts (building_uid) SELECT uid FROM buildings "
        "ON CONFLICT (building_uid) DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER building_counts_insert ON buildings")
    op.execute("DROP FUNCTION building_counts_add_buildings()")
