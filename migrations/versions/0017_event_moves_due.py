"""Open events follow the grid live for their place on every day, also when a grid switch takes
effect on a later day than its publication.

``event_moves_due(due_on, grid_code)``: a grid version that ends on ``due_on``; from that day
the open events of ``grid_code`` whose place it no longer holds are moved to the grid live there
(``gis/events/move_queries.py``, run before events are read), and the row is deleted. A switch
writes one row per version it closes.

Every version that has ended or ends later is queued here: events reported in a grid between
the publication of a plan and its effective date stayed in that grid after it ended (no officer
had it any more), and now move on the first read; the others move on their day.

Revision ID: 0017_event_moves_due
Revises: 0016_residence_ended_by
Create Date: 2026-11-24 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_event_moves_due"
down_revision: str | None = "0016_residence_ended_by"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_moves_due",
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.PrimaryKeyConstraint("due_on", "grid_code", name="pk_event_moves_due"),
    )
    op.execute(
        """
        INSERT INTO event_moves_due (due_on, grid_code)
        SELECT DISTINCT valid_to, code FROM grids WHERE valid_to IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_table("event_moves_due")
