"""Residences recorded in error can be voided (登记有误): ``voided_residences`` keeps such a row,
with the reason, who and when, once it is taken out of ``residences`` (its declaration is
dropped: the obligation came from the mistake). The service's role may add rows and read them,
never change or delete them.

Revision ID: 0014_voided_residences
Revises: 0013_permit_revocation
Create Date: 2026-11-24 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_voided_residences"
down_revision: str | None = "0013_permit_revocation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "gridhouse_app"


def upgrade() -> None:
    op.create_table(
        "voided_residences",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("person_uid", sa.Uuid(), nullable=False),
        sa.Column("house_uid", sa.Uuid(), nullable=False),
        sa.Column("period", postgresql.DATERANGE(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "owner",
                "family",
                "tenant",
                "dormitory",
                "temporary",
                name="residence_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column(
            "declared_by",
            sa.Enum(
                "self",
                "landlord",
                "employer",
                "officer",
                name="declared_by",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=True),
        sa.Column("deregistered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("void_reason", sa.String(length=200), nullable=False),
        sa.Column("voided_by", sa.String(length=64), nullable=False),
        sa.Column(
            "voided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "length(void_reason) BETWEEN 2 AND 200",
            name=op.f("ck_voided_residences_void_reason_length"),
        ),
        sa.ForeignKeyConstraint(
            ["house_uid"], ["houses.uid"], name=op.f("fk_voided_residences_house_uid_houses")
        ),
        sa.ForeignKeyConstraint(
            ["person_uid"], ["people.uid"], name=op.f("fk_voided_residences_person_uid_people")
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_voided_residences")),
    )
    op.create_index(
        op.f("ix_voided_residences_house_uid"), "voided_residences", ["house_uid"], unique=False
    )
    op.create_index(
        op.f("ix_voided_residences_person_uid"), "voided_residences", ["person_uid"], unique=False
    )
    # the default privileges of 0002 gave the role everything on a new table: keep it a record
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON voided_residences FROM {APP_ROLE}")


def downgrade() -> None:
    op.drop_index(op.f("ix_voided_residences_person_uid"), table_name="voided_residences")
    op.drop_index(op.f("ix_voided_residences_house_uid"), table_name="voided_residences")
    op.drop_table("voided_residences")
