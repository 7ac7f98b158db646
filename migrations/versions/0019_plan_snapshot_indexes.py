"""A plan's grids and buildings found by plan and place together (GiST on ``(plan_id, geom)``,
btree_gist): with the place alone, every plan drafted of the same area answered each probe of an
edit and was then filtered out (30 drafts of a county: an edit's impact 65 ms instead of 8 ms
summing, its buildings 45 ms instead of 13 ms).

Revision ID: 0019_plan_snapshot_indexes
Revises: 0018_lookup_indexes
Create Date: 2026-11-25 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_plan_snapshot_indexes"
down_revision: str | None = "0018_lookup_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("plan_buildings", "plan_grids")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_plan_id_geom", table, ["plan_id", "geom"], postgresql_using="gist"
        )
        op.drop_index(f"idx_{table}_geom", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"idx_{table}_geom", table, ["geom"], postgresql_using="gist")
        op.drop_index(f"ix_{table}_plan_id_geom", table_name=table)
