"""Tables of people (identity numbers encrypted), residences, declarations and organizations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import DATERANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column

from gis.columns import created_at_column, enum_type
from gis.db import Base


class PersonCategory(StrEnum):
    """实有人口 categories: registered hukou, floating (流动人口), overseas."""

    HUKOU = "hukou"
    FLOATING = "floating"
    OVERSEAS = "overseas"


class ResidenceKind(StrEnum):
    OWNER = "owner"
    FAMILY = "family"
    TENANT = "tenant"
    DORMITORY = "dormitory"
    TEMPORARY = "temporary"


class DeclaredBy(StrEnum):
    SELF = "self"
    LANDLORD = "landlord"
    EMPLOYER = "employer"
    OFFICER = "officer"


class Person(Base):
    """A person (实有人口). ID number and phone are stored only encrypted, with keyed hashes
    for exact lookup; sex and birth date are derived from the ID number."""

    __tablename__ = "people"
    __table_args__ = (CheckConstraint("sex IN ('M', 'F')", name="sex_value"),)

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    name: Mapped[str] = mapped_column(String(100), index=True)  # the map's search by name
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    phone_masked: Mapped[str | None] = mapped_column(String(24))
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    hukou_division_code: Mapped[str | None] = mapped_column(String(12))
    hukou_address: Mapped[str | None] = mapped_column(Text)
    category: Mapped[PersonCategory] = mapped_column(enum_type(PersonCategory, "person_category"))
    occupation: Mapped[str | None] = mapped_column(String(100))
    education: Mapped[str | None] = mapped_column(String(50))
    employer_uid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.uid"))
    is_key_person: Mapped[bool] = mapped_column(Boolean, server_default="false")
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Residence(Base):
    """Person ↔ house over a date range ``[from, to)``; ending one never deletes it."""

    __tablename__ = "residences"
    __table_args__ = (
        CheckConstraint("NOT isempty(period)", name="period_not_empty"),
        ExcludeConstraint(
            ("person_uid", "="),
            ("period", "&&"),
            using="gist",
            where="is_primary",
            name="residences_one_primary_at_a_time",
        ),
        # departures whose end is known but not yet deregistered (the 7-day rule)
        Index(
            "ix_residences_pending_departures",
            "house_uid",
            postgresql_where=text("deregistered_at IS NULL AND NOT upper_inf(period)"),
        ),
        # the people living in two houses at once: the only ones a grid's count looks at
        # one by one (gis.grids.building_counts)
        Index(
            "ix_residences_secondary_person_uid",
            "person_uid",
            postgresql_where=text("NOT is_primary"),
        ),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    person_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.uid"), index=True)
    house_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("houses.uid"), index=True)
    period: Mapped[Range[date]] = mapped_column(DATERANGE)
    kind: Mapped[ResidenceKind] = mapped_column(enum_type(ResidenceKind, "residence_kind"))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default="true")
    declared_by: Mapped[DeclaredBy] = mapped_column(enum_type(DeclaredBy, "declared_by"))
    declared_at: Mapped[datetime] = created_at_column()
    registered_by: Mapped[str | None] = mapped_column(String(64))
    deregistered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the primary residence whose registration ended this one (a move); none for a departure
    ended_by_uid: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = created_at_column()


class VoidedResidence(Base):
    """A residence recorded in error (登记有误: the wrong person, house or dates), taken out of
    ``residences`` with the reason, who and when. Kept, never shown as a residence: every
    count, list and query reads ``residences`` only, so a voided one was never there; the
    service's role may add rows here, never change or delete them."""

    __tablename__ = "voided_residences"
    __table_args__ = (
        CheckConstraint("length(void_reason) BETWEEN 2 AND 200", name="void_reason_length"),
    )

    uid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the residence's own
    person_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.uid"), index=True)
    house_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("houses.uid"), index=True)
    period: Mapped[Range[date]] = mapped_column(DATERANGE)
    kind: Mapped[ResidenceKind] = mapped_column(enum_type(ResidenceKind, "residence_kind"))
    is_primary: Mapped[bool] = mapped_column(Boolean)
    declared_by: Mapped[DeclaredBy] = mapped_column(enum_type(DeclaredBy, "declared_by"))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    registered_by: Mapped[str | None] = mapped_column(String(64))
    deregistered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by_uid: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str] = mapped_column(String(200))
    voided_by: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime] = created_at_column()


class Organization(Base):
    """A unit or employer (实有单位), keyed publicly by its unified social credit code."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name="credit_code_format"),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[str | None] = mapped_column(String(50))
    house_uid: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("houses.uid"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    created_at: Mapped[datetime] = created_at_column()


class Declaration(Base):
    """A landlord's declaration (出租屋业主申报) of a tenant who moved into a rented house: due
    within 3 working days of the move (``due_on``); ``declared_at`` is NULL until it is made."""

    __tablename__ = "declarations"
    __table_args__ = (
        CheckConstraint("due_on > moved_in", name="due_after_move"),
        Index(
            "ix_declarations_pending_due_on", "due_on", postgresql_where=text("declared_at IS NULL")
        ),
    )

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    residence_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("residences.uid"), unique=True)
    house_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("houses.uid"), index=True)
    person_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.uid"), index=True)
    moved_in: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    declared_by: Mapped[DeclaredBy | None] = mapped_column(enum_type(DeclaredBy, "declared_by"))
    created_at: Mapped[datetime] = created_at_column()


class Employment(Base):
    """A person employed by an organization over ``[from, to)`` (用工登记)."""

    __tablename__ = "employments"
    __table_args__ = (CheckConstraint("NOT isempty(period)", name="period_not_empty"),)

    uid: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, server_default=func.gen_random_uuid()
    )
    person_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.uid"), index=True)
    organization_uid: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.uid"), index=True)
    period: Mapped[Range[date]] = mapped_column(DATERANGE)
    position: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()
