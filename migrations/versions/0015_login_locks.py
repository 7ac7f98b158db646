"""Failed logins counted per account and client address (``login_locks``): a handful of wrong
passwords from one address lock that address out of the account, not the account's owner
everywhere; the account itself locks only after many more failures from anywhere.

Revision ID: 0015_login_locks
Revises: 0014_voided_residences
Create Date: 2026-11-24 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_login_locks"
down_revision: str | None = "0014_voided_residences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_locks",
        sa.Column("user_uid", sa.Uuid(), nullable=False),
        sa.Column("client_addr", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_uid"], ["users.uid"], name=op.f("fk_login_locks_user_uid_users"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("user_uid", "client_addr", name=op.f("pk_login_locks")),
    )
    # the default privileges of 0002 give the service's role what it needs on a new table


def downgrade() -> None:
    op.drop_table("login_locks")
