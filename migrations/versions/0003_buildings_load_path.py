"""Buildings load path: cheaper per-row constraints for bulk imports.

Measured on 100k footprints (docs/benchmarks.md): the two foreign keys of ``buildings`` cost as
much per row as the GiST index. They become statement-free guards instead:
- ``buildings.batch_id`` keeps its value but no foreign key (import batches are never deleted);
- ``buildings.community_code`` is guarded from the other side: a trigger on ``divisions`` refuses
  to delete or recode a division that buildings were coded in (codes are forever);
- the ``status`` index only holds the rare statuses (provisional, pending_removal, retired), which
  are the ones looked up by status.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD = """
CREATE FUNCTION divisions_keep_coded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM buildings WHERE community_code = OLD.code) THEN
        RAISE EXCEPTION 'division % holds building codes and cannot be deleted or recoded',
            OLD.code USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER divisions_keep_coded
    BEFORE DELETE OR UPDATE OF code ON divisions
    FOR EACH ROW EXECUTE FUNCTION divisions_keep_coded();
"""


def upgrade() -> None:
    op.drop_constraint("fk_buildings_batch_id_import_batches", "buildings", type_="foreignkey")
    op.drop_constraint("fk_buildings_community_code_divisions", "buildings", type_="foreignkey")
    op.execute(GUARD)
    op.drop_index("ix_buildings_status", table_name="buildings")
    op.create_index(
        "ix_buildings_status",
        "buildings",
        ["status"],
        postgresql_where=sa.text("status <> 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_buildings_status", table_name="buildings")
    op.create_index("ix_buildings_status", "buildings", ["status"])
    op.execute("DROP TRIGGER divisions_keep_coded ON divisions")
    op.execute("DROP FUNCTION divisions_keep_coded()")
    op.create_foreign_key(
        "fk_buildings_community_code_divisions", "buildings", "divisions",
        ["community_code"], ["code"],
    )
    op.create_foreign_key(
        "fk_buildings_batch_id_import_batches", "buildings", "import_batches",
        ["batch_id"], ["id"],
    )
