"""Events, residence permits and exchange with other regions (issue 9).

- ``events``: problems found in a grid, reported at a point, with a kind, a status, a deadline
  (``due_at``), an assignee or department; ``event_steps``: every step of the lifecycle (who,
  when, from which status to which, a note); ``event_photos``: photos stored on disk.
- ``residence_permits``: residence permits (居住证) with a number from the sequence
  ``residence_permit_numbers``, yearly endorsement (``endorsed_until``) and expiry.
- ``exchange_batches``: each export of inflow records and each reconciliation of another
  region's outflow records, with its counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("reported", "accepted", "rejected", "dispatched", "handled", "checked", "closed")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True,
                   length=max(len(v) for v in values))  # fmt: skip


def _created(name: str = "created_at") -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"),
                     nullable=False)  # fmt: skip


def upgrade() -> None:
    op.create_geospatial_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", _enum("event_kind", "safety_hazard", "rented_fire_risk", "dispute",
                                "public_order", "other"), nullable=False),
        sa.Column("status", _enum("event_status", *STATUSES), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("geom", Geometry(geometry_type="POINT", srid=4490, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry", nullable=False), nullable=False),
        sa.Column("building_uid", sa.Uuid(), nullable=True),
        sa.Column("house_uid", sa.Uuid(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("source", _enum("event_source", "officer", "import"), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        _created("reported_at"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["building_uid"], ["buildings.uid"],
                                name=op.f("fk_events_building_uid_buildings")),
        sa.ForeignKeyConstraint(["house_uid"], ["houses.uid"],
                                name=op.f("fk_events_house_uid_houses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )  # fmt: skip
    op.create_geospatial_index("idx_events_geom", "events", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})  # fmt: skip
    op.create_index(op.f("ix_events_grid_code"), "events", ["grid_code"])
    op.create_index(op.f("ix_events_district_code"), "events", ["district_code"])
    op.create_index(
        "ix_events_open_due_at", "events", ["due_at"], postgresql_where=sa.text("closed_at IS NULL")
    )
    op.create_table(
        "event_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("from_status", _enum("from_status", *STATUSES), nullable=True),
        sa.Column("to_status", _enum("to_status", *STATUSES), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        _created("at"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_steps_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_steps")),
    )  # fmt: skip
    op.create_index(op.f("ix_event_steps_event_id"), "event_steps", ["event_id"])
    op.create_table(
        "event_photos",
        sa.Column("uid", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        _created("uploaded_at"),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_event_photos_size_positive")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_photos_event_id_events")),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_event_photos")),
    )  # fmt: skip
    op.create_index(op.f("ix_event_photos_event_id"), "event_photos", ["event_id"])
    op.execute(sa.schema.CreateSequence(sa.Sequence("residence_permit_numbers")))
    op.create_table(
        "residence_permits",
        sa.Column("uid", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("person_uid", sa.Uuid(), nullable=False),
        sa.Column("house_uid", sa.Uuid(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("endorsed_until", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("endorsements", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        _created(),
        sa.CheckConstraint("endorsed_until > issued_on",
                           name=op.f("ck_residence_permits_endorsed_after_issue")),
        sa.CheckConstraint("expires_on > issued_on",
                           name=op.f("ck_residence_permits_expires_after_issue")),
        sa.ForeignKeyConstraint(["house_uid"], ["houses.uid"],
                                name=op.f("fk_residence_permits_house_uid_houses")),
        sa.ForeignKeyConstraint(["person_uid"], ["people.uid"],
                                name=op.f("fk_residence_permits_person_uid_people")),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_residence_permits")),
        sa.UniqueConstraint("number", name=op.f("uq_residence_permits_number")),
    )  # fmt: skip
    for column in ("person_uid", "house_uid", "district_code"):
        op.create_index(op.f(f"ix_residence_permits_{column}"), "residence_permits", [column])
    op.create_table(
        "exchange_batches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("other_region_code", sa.String(length=12), nullable=True),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=True),
        sa.Column("here_not_there", sa.Integer(), nullable=True),
        sa.Column("there_not_here", sa.Integer(), nullable=True),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_batches")),
    )


def downgrade() -> None:
    op.drop_table("exchange_batches")
    for column in ("district_code", "house_uid", "person_uid"):
        op.drop_index(op.f(f"ix_residence_permits_{column}"), table_name="residence_permits")
    op.drop_table("residence_permits")
    op.execute(sa.schema.DropSequence(sa.Sequence("residence_permit_numbers")))
    op.drop_index(op.f("ix_event_photos_event_id"), table_name="event_photos")
    op.drop_table("event_photos")
    op.drop_index(op.f("ix_event_steps_event_id"), table_name="event_steps")
    op.drop_table("event_steps")
    op.drop_index("ix_events_open_due_at", table_name="events")
    op.drop_index(op.f("ix_events_district_code"), table_name="events")
    op.drop_index(op.f("ix_events_grid_code"), table_name="events")
    op.drop_geospatial_index("idx_events_geom", table_name="events", postgresql_using="gist",
                             column_name="geom")  # fmt: skip
    op.drop_geospatial_table("events")
