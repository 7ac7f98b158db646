"""Residence permits can be revoked (注销), with a reason: ``revoke_reason`` beside the existing
``revoked_on`` (nothing set either until now); both or neither.

Revision ID: 0013_permit_revocation
Revises: 0012_grid_writes
Create Date: 2026-11-23 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_permit_revocation"
down_revision: str | None = "0012_grid_writes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("residence_permits", sa.Column("revoke_reason", sa.String(200), nullable=True))
    op.create_check_constraint(
        op.f("ck_residence_permits_revoked_with_reason"),
        "residence_permits",
        "(revoked_on IS NULL) = (revoke_reason IS NULL) AND revoked_on >= issued_on",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_residence_permits_revoked_with_reason"), "residence_permits")
    op.drop_column("residence_permits", "revoke_reason")
