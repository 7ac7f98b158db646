"""Grids: versions, lineage, plans, classes (issue 6).

- ``grids`` gains ``indicators`` (the measured indicators of its last classification) and
  ``classified_on``;
- ``grid_lineage``: parent grid code → child grid code (split, merge, replace);
- ``grid_plans`` and ``plan_grids``: draft plans, copies of the live grids of a division;
- ``roads``: road centrelines that grid suggestions follow.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINEAGE_EVENT = sa.Enum(
    "split", "merge", "replace", name="lineage_event", native_enum=False, create_constraint=True
)


def upgrade() -> None:
    op.add_column(
        "grids",
        sa.Column(
            "indicators",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column("grids", sa.Column("classified_on", sa.Date(), nullable=True))

    op.create_table(
        "grid_plans",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("division_code", sa.String(length=12), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "discarded", name="plan_status", native_enum=False,
                    create_constraint=True),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("base_versions", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("problems", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("target_min_households", sa.Integer(), server_default="300", nullable=False),
        sa.Column("target_max_households", sa.Integer(), server_default="500", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "target_min_households > 0 AND target_max_households > target_min_households",
            name=op.f("ck_grid_plans_target_band"),
        ),
        sa.ForeignKeyConstraint(["division_code"], ["divisions.code"],
                                name=op.f("fk_grid_plans_division_code_divisions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_plans")),
    )
    op.create_index(op.f("ix_grid_plans_district_code"), "grid_plans", ["district_code"])

    op.create_geospatial_table(
        "plan_grids",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=True),
        sa.Column("source_version", sa.Integer(), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("parent_codes", postgresql.ARRAY(sa.String(length=15)), server_default="{}",
                  nullable=False),
        sa.Column("lineage_event", LINEAGE_EVENT, nullable=True),
        sa.Column("is_changed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), server_default="{}",
                  nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4490, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry", nullable=False), nullable=False),
        sa.CheckConstraint("code IS NULL OR code ~ '^[0-9]{15}$'",
                           name=op.f("ck_plan_grids_code_format")),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)",
                           name=op.f("ck_plan_grids_geom_valid")),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_plan_grids_plan_id_grid_plans")),
        sa.ForeignKeyConstraint(["community_code"], ["divisions.code"],
                                name=op.f("fk_plan_grids_community_code_divisions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_grids")),
        sa.UniqueConstraint("plan_id", "code", name=op.f("uq_plan_grids_plan_id_code")),
    )
    op.create_geospatial_index("idx_plan_grids_geom", "plan_grids", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})
    op.create_index(op.f("ix_plan_grids_plan_id"), "plan_grids", ["plan_id"])

    op.create_geospatial_table(
        "plan_buildings",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("building_uid", sa.Uuid(), nullable=False),
        sa.Column("building_code", sa.String(length=25), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("live_code", sa.String(length=15), nullable=True),
        sa.Column("counts", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4490, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry", nullable=False), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_plan_buildings_plan_id_grid_plans")),
        sa.PrimaryKeyConstraint("plan_id", "building_uid", name=op.f("pk_plan_buildings")),
    )
    op.create_geospatial_index("idx_plan_buildings_geom", "plan_buildings", ["geom"],
                               unique=False, postgresql_using="gist", postgresql_ops={})

    op.create_table(
        "grid_lineage",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("parent_code", sa.String(length=15), nullable=False),
        sa.Column("child_code", sa.String(length=15), nullable=False),
        sa.Column("event", LINEAGE_EVENT, nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("parent_code <> child_code", name=op.f("ck_grid_lineage_not_self")),
        sa.CheckConstraint("parent_code ~ '^[0-9]{15}$' AND child_code ~ '^[0-9]{15}$'",
                           name=op.f("ck_grid_lineage_code_format")),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plans.id"],
                                name=op.f("fk_grid_lineage_plan_id_grid_plans")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"],
                                name=op.f("fk_grid_lineage_batch_id_import_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_lineage")),
    )
    op.create_index(op.f("ix_grid_lineage_parent_code"), "grid_lineage", ["parent_code"])
    op.create_index(op.f("ix_grid_lineage_child_code"), "grid_lineage", ["child_code"])

    op.create_geospatial_table(
        "roads",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("highway", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTILINESTRING", srid=4490, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry", nullable=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("NOT ST_IsEmpty(geom)", name=op.f("ck_roads_geom_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roads")),
    )
    op.create_geospatial_index("idx_roads_geom", "roads", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})


def downgrade() -> None:
    op.drop_geospatial_index("idx_roads_geom", table_name="roads", postgresql_using="gist",
                             column_name="geom")
    op.drop_geospatial_table("roads")
    op.drop_index(op.f("ix_grid_lineage_child_code"), table_name="grid_lineage")
    op.drop_index(op.f("ix_grid_lineage_parent_code"), table_name="grid_lineage")
    op.drop_table("grid_lineage")
    op.drop_geospatial_index("idx_plan_buildings_geom", table_name="plan_buildings",
                             postgresql_using="gist", column_name="geom")
    op.drop_geospatial_table("plan_buildings")
    op.drop_index(op.f("ix_plan_grids_plan_id"), table_name="plan_grids")
    op.drop_geospatial_index("idx_plan_grids_geom", table_name="plan_grids",
                             postgresql_using="gist", column_name="geom")
    op.drop_geospatial_table("plan_grids")
    op.drop_index(op.f("ix_grid_plans_district_code"), table_name="grid_plans")
    op.drop_table("grid_plans")
    op.drop_column("grids", "classified_on")
    op.drop_column("grids", "indicators")
