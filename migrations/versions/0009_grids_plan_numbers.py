"""Plan grids keep their numbers in a column (issue 6, item 8: the impact of an edit).

- ``plan_grids.numbers``: the counts every edit's answer ranks all grids of the plan by
  (households, residents, floating, rented houses, large rentals, organizations, key persons,
  open events, moved buildings, moved households, moved residents, households estimated 0/1;
  the order of ``gis.grids.plan_queries.NUMBER_STATS``). They are also in ``stats`` (JSON),
  but that is stored compressed out of line beside the polygon: reading it for 2,000 grids cost
  a TOAST fetch each (70 ms); a short integer array stays in the row.
- ``plan_grids.predicted``: what the last edit's answer said of the grid's class (it was
  ``stats->'predicted'``; rewriting the JSON to change it rewrote the out-of-line value).
- Storage: PostGIS keeps a geometry in the row (``MAIN``), so a plan grid's ~2 kB polygon pushed
  every other value out of line (``stats``: one TOAST fetch per grid whenever the impact is
  read). The polygon may now move out of line instead (``EXTENDED``; an edit reads a dozen
  polygons, the impact thousands of stats), and the two new columns never leave the row
  (``PLAIN``: a dozen integers, a short text).

Revision ID: 0009_grids
Revises: 0008_events
Create Date: 2026-11-22 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_grids"
down_revision: str | None = "0008_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
UPDATE plan_grids SET
    predicted = stats->>'predicted',
    numbers = ARRAY[
        coalesce((stats->>'households')::int, 0), coalesce((stats->>'resident_count')::int, 0),
        coalesce((stats->>'floating_count')::int, 0), coalesce((stats->>'rented_houses')::int, 0),
        coalesce((stats->>'large_rentals')::int, 0), coalesce((stats->>'organizations')::int, 0),
        coalesce((stats->>'key_person_count')::int, 0), coalesce((stats->>'open_events')::int, 0),
        coalesce((stats->>'moved_buildings')::int, 0),
        coalesce((stats->>'moved_households')::int, 0),
        coalesce((stats->>'moved_residents')::int, 0),
        CASE WHEN coalesce((stats->>'households_estimated')::boolean, false) THEN 1 ELSE 0 END
    ]::int[],
    stats = stats - 'predicted'
"""


def upgrade() -> None:
    op.add_column(
        "plan_grids",
        sa.Column("numbers", postgresql.ARRAY(sa.Integer()), server_default="{}", nullable=False),
    )
    op.add_column("plan_grids", sa.Column("predicted", sa.Text(), nullable=True))
    op.execute(
        "ALTER TABLE plan_grids ALTER COLUMN numbers SET STORAGE PLAIN, "
        "ALTER COLUMN predicted SET STORAGE PLAIN, ALTER COLUMN geom SET STORAGE EXTENDED"
    )
    op.execute(_BACKFILL)  # rewrites every row, in the new storage


def downgrade() -> None:
    op.execute("ALTER TABLE plan_grids ALTER COLUMN geom SET STORAGE MAIN")
    op.execute(
        "UPDATE plan_grids SET stats = stats || jsonb_build_object('predicted', predicted) "
        "WHERE predicted IS NOT NULL"
    )
    op.drop_column("plan_grids", "predicted")
    op.drop_column("plan_grids", "numbers")
