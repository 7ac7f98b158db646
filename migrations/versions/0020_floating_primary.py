"""Each building's kept counts (``building_counts``, migration 0010_counts) gain a tenth: its
floating residents by their primary residence, what the floating-residents map layer draws.

That layer counted from residences and people of every building under the tile on each request:
2.5-2.7 s for a zoom-8 tile of a district of 100,000 buildings and 1.6 million people, growing
with the city. From the kept counts it sums one short row a building, recounting only the
buildings that changed (``gis.grids.building_counts``).

A change of ``residences.is_primary`` now bumps the building's generation too (no code path
changes it today; the counts must not trust that). Every row is left to be counted again (its
array lacks the new count): the next reader recounts what it reads.

Revision ID: 0020_floating_primary
Revises: 0019_plan_snapshot_indexes
Create Date: 2026-11-25 02:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_floating_primary"
down_revision: str | None = "0019_plan_snapshot_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _residences_function(columns: Sequence[str]) -> str:
    """migration 0010's trigger function of ``residences``, watching ``columns`` on UPDATE."""
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in columns)
    buildings = "SELECT h.building_uid FROM {rows} r JOIN houses h ON h.uid = r.house_uid"
    updated_new = buildings.format(
        rows=f"(SELECT n.* FROM new_rows n JOIN old_rows o USING (uid) WHERE {changed})"
    )
    updated_old = buildings.format(
        rows=f"(SELECT o.* FROM old_rows o JOIN new_rows n USING (uid) WHERE {changed})"
    )
    return f"""
CREATE OR REPLACE FUNCTION building_counts_touch_residences() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM building_counts_bump(ARRAY({buildings.format(rows="new_rows")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM building_counts_bump(ARRAY({buildings.format(rows="old_rows")}));
    ELSE
        PERFORM building_counts_bump(ARRAY({updated_new}) || ARRAY({updated_old}));
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(_residences_function(("house_uid", "period", "person_uid", "is_primary")))
    op.execute("UPDATE building_counts SET counted_generation = NULL")


def downgrade() -> None:
    op.execute(_residences_function(("house_uid", "period", "person_uid")))
    # rows counted since hold ten counts; the code before reads the first nine
