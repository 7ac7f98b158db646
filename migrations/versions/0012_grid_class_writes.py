"""Classifying rewrites a grid row per grid: make that write cheap (issue 6, item 8).

Storing the class, explanation and indicators of 1,979 grids took ~0.45 s, half of it the CHECK
that the polygon is valid (``ST_IsValid`` runs on every UPDATE, whatever the columns changed),
the rest putting every new row version in six indexes, the exclusion constraint's among them.
Now the polygon is checked by a trigger when it is written (``INSERT`` or ``UPDATE OF geom``:
the same error, ``check_violation`` naming ``ck_grids_geom_valid``), and grid pages keep half
their room free (``fillfactor = 50``) so that a row's new version usually stays on its page
and touches no index (a HOT update).

Revision ID: 0012_grid_writes
Revises: 0011_places
Create Date: 2026-11-23 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_grid_writes"
down_revision: str | None = "0011_places"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHECK = """
CREATE FUNCTION grids_geom_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (ST_IsValid(NEW.geom) AND NOT ST_IsEmpty(NEW.geom)) THEN
        RAISE EXCEPTION 'new row for relation "grids" violates check constraint "ck_grids_geom_valid"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_grids_geom_valid',
                  TABLE = 'grids', COLUMN = 'geom';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE grids DROP CONSTRAINT ck_grids_geom_valid")
    op.execute(_CHECK)
    op.execute(
        "CREATE TRIGGER grids_geom_valid BEFORE INSERT OR UPDATE OF geom ON grids "
        "FOR EACH ROW EXECUTE FUNCTION grids_geom_valid()"
    )
    op.execute("ALTER TABLE grids SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE grids RESET (fillfactor)")
    op.execute("DROP TRIGGER grids_geom_valid ON grids")
    op.execute("DROP FUNCTION grids_geom_valid()")
    op.execute(
        "ALTER TABLE grids ADD CONSTRAINT ck_grids_geom_valid "
        "CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))"
    )
