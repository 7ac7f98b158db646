"""Event imports and kept follow-up lists of reconciliations (issue 9, second part).

- ``events.source_id``: the event's id in the file it was imported from, unique when given, so
  that importing the same file again adds nothing; ``events.batch_id``: the import that brought
  it (``import_batches``, whose ``kind`` may now be ``events``).
- ``exchange_followups``: the people a reconciliation left unmatched (here not there, there not
  here), ID numbers encrypted, so that the follow-up list (协查) of a past reconciliation can be
  read again.

Revision ID: 0008_events
Revises: 0007_audit
Create Date: 2026-11-22 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_events"
down_revision: str | None = "0007_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("divisions", "buildings", "houses", "people", "grids")


def _kind_check(*kinds: str) -> None:
    name = op.f("ck_import_batches_import_kind")
    op.drop_constraint(name, "import_batches", type_="check")
    values = ", ".join(f"'{kind}'" for kind in kinds)
    op.create_check_constraint(name, "import_batches", sa.text(f"kind IN ({values})"))


def upgrade() -> None:
    _kind_check(*KINDS, "events")
    op.add_column("events", sa.Column("source_id", sa.String(length=100), nullable=True))
    op.add_column("events", sa.Column("batch_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_events_batch_id_import_batches"), "events", "import_batches", ["batch_id"], ["id"]
    )
    op.create_index(
        "uq_events_source_id", "events", ["source_id"], unique=True,
        postgresql_where=sa.text("source_id IS NOT NULL"),
    )  # fmt: skip
    op.create_table(
        "exchange_followups",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("side", sa.Enum("here_not_there", "there_not_here", name="followup_side",
                                  native_enum=False, create_constraint=True, length=14),
                  nullable=False),
        sa.Column("citizen_id_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("hukou_division", sa.String(length=12), nullable=False),
        sa.Column("residence_division", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["exchange_batches.id"],
                                name=op.f("fk_exchange_followups_batch_id_exchange_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_followups")),
    )  # fmt: skip
    op.create_index(op.f("ix_exchange_followups_batch_id"), "exchange_followups", ["batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_exchange_followups_batch_id"), table_name="exchange_followups")
    op.drop_table("exchange_followups")
    op.drop_index("uq_events_source_id", table_name="events")
    op.drop_constraint(op.f("fk_events_batch_id_import_batches"), "events", type_="foreignkey")
    op.drop_column("events", "batch_id")
    op.drop_column("events", "source_id")
    op.execute("DELETE FROM import_batches WHERE kind = 'events'")
    _kind_check(*KINDS)
