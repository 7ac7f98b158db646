"""People and residences: declarations, organizations' employees, encryption support (issue 5).

- ``people.id_number_masked`` / ``phone_masked``: the masked forms every response shows
  (``440305********123X``, ``138****1234``), kept beside the AES-GCM ciphertexts so that reads never
  decrypt; ``people.batch_id``: the import batch a person came from (no foreign key, like
  ``buildings.batch_id``).
- ``residences``: a partial index on departures whose end is known but not yet deregistered.
- ``declarations``: landlords' declarations of tenants, due within 3 working days.
- ``employments``: employees of organizations over a date range.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECLARED_BY = sa.Enum(
    "self", "landlord", "employer", "officer",
    name="declared_by", native_enum=False, create_constraint=True,
)  # fmt: skip


def upgrade() -> None:
    op.add_column("people", sa.Column("id_number_masked", sa.String(length=24), nullable=True))
    op.add_column("people", sa.Column("phone_masked", sa.String(length=24), nullable=True))
    op.add_column("people", sa.Column("batch_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_residences_pending_departures",
        "residences",
        ["house_uid"],
        postgresql_where=sa.text("deregistered_at IS NULL AND NOT upper_inf(period)"),
    )
    op.create_table(
        "declarations",
        sa.Column("uid", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("residence_uid", sa.Uuid(), nullable=False),
        sa.Column("house_uid", sa.Uuid(), nullable=False),
        sa.Column("person_uid", sa.Uuid(), nullable=False),
        sa.Column("moved_in", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared_by", DECLARED_BY, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("due_on > moved_in", name=op.f("ck_declarations_due_after_move")),
        sa.ForeignKeyConstraint(
            ["house_uid"], ["houses.uid"], name=op.f("fk_declarations_house_uid_houses")
        ),
        sa.ForeignKeyConstraint(
            ["person_uid"], ["people.uid"], name=op.f("fk_declarations_person_uid_people")
        ),
        sa.ForeignKeyConstraint(
            ["residence_uid"], ["residences.uid"],
            name=op.f("fk_declarations_residence_uid_residences"),
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_declarations")),
        sa.UniqueConstraint("residence_uid", name=op.f("uq_declarations_residence_uid")),
    )  # fmt: skip
    op.create_index(op.f("ix_declarations_house_uid"), "declarations", ["house_uid"])
    op.create_index(op.f("ix_declarations_person_uid"), "declarations", ["person_uid"])
    op.create_index(
        "ix_declarations_pending_due_on",
        "declarations",
        ["due_on"],
        postgresql_where=sa.text("declared_at IS NULL"),
    )
    op.create_table(
        "employments",
        sa.Column("uid", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("person_uid", sa.Uuid(), nullable=False),
        sa.Column("organization_uid", sa.Uuid(), nullable=False),
        sa.Column("period", postgresql.DATERANGE(), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("NOT isempty(period)", name=op.f("ck_employments_period_not_empty")),
        sa.ForeignKeyConstraint(
            ["organization_uid"], ["organizations.uid"],
            name=op.f("fk_employments_organization_uid_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_uid"], ["people.uid"], name=op.f("fk_employments_person_uid_people")
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_employments")),
    )  # fmt: skip
    op.create_index(op.f("ix_employments_organization_uid"), "employments", ["organization_uid"])
    op.create_index(op.f("ix_employments_person_uid"), "employments", ["person_uid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_employments_person_uid"), table_name="employments")
    op.drop_index(op.f("ix_employments_organization_uid"), table_name="employments")
    op.drop_table("employments")
    op.drop_index("ix_declarations_pending_due_on", table_name="declarations")
    op.drop_index(op.f("ix_declarations_person_uid"), table_name="declarations")
    op.drop_index(op.f("ix_declarations_house_uid"), table_name="declarations")
    op.drop_table("declarations")
    op.drop_index("ix_residences_pending_departures", table_name="residences")
    op.drop_column("people", "batch_id")
    op.drop_column("people", "phone_masked")
    op.drop_column("people", "id_number_masked")
