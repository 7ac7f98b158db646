"""A primary residence ended by the registration of the next one (a move, or an arrival with
``ends_previous``) names it in ``ended_by_uid``; a departure deregistered on its own names none.
Voiding that next residence with ``reopen_previous`` reopens only the one it ended, never a
recorded departure that happens to end the same day. ``voided_residences`` keeps the column too.

Residences ended before this revision are linked where the two rows were written by one request:
the earlier one's ``deregistered_at`` within a few seconds of the later one's ``created_at``.

Revision ID: 0016_residence_ended_by
Revises: 0015_login_locks
Create Date: 2026-11-24 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_residence_ended_by"
down_revision: str | None = "0015_login_locks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("residences", "voided_residences"):
        op.add_column(table, sa.Column("ended_by_uid", sa.Uuid(), nullable=True))
    op.execute(
        """
        UPDATE residences AS ended SET ended_by_uid = next.uid
          FROM residences AS next
         WHERE ended.is_primary AND next.is_primary
           AND next.person_uid = ended.person_uid
           AND lower(next.period) = upper(ended.period)
           AND ended.deregistered_at IS NOT NULL
           AND abs(extract(epoch FROM ended.deregistered_at - next.created_at)) < 5
        """
    )


def downgrade() -> None:
    for table in ("voided_residences", "residences"):
        op.drop_column(table, "ended_by_uid")
