"""SQL of the people import: houses with their communities, stored residences, the batch row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from gis.buildings.models import Building, BuildingStatus, ImportBatch
from gis.houses.models import House, HouseStatus
from gis.people.models import Residence, VoidedResidence


def select_houses_with_communities(
    session: Session, *, codes: Sequence[str]
) -> dict[str, tuple[House, str]]:
    """Live houses of live buildings by code, with their buildings' community codes."""
    statement = (
        select(House, Building.community_code)
        .join(Building, Building.uid == House.building_uid)
        .where(
            House.code.in_(list(codes)),
            House.status == HouseStatus.ACTIVE,
            Building.status != BuildingStatus.RETIRED,
        )
    )
    return {row[0].code: (row[0], row[1]) for row in session.execute(statement).all()}


def select_existing_residences(session: Session, *, person_uid: uuid.UUID) -> list[Residence]:
    """A person's stored residences (locked: the batch may add one)."""
    statement = select(Residence).where(Residence.person_uid == person_uid).with_for_update()
    return list(session.scalars(statement))


def select_voided_residence(
    session: Session, *, person_uid: uuid.UUID, house_uid: uuid.UUID, moved_in: date
) -> VoidedResidence | None:
    """The person's residence in this house from ``moved_in`` that was voided, if any (the
    newest)."""
    statement = (
        select(VoidedResidence)
        .where(
            VoidedResidence.person_uid == person_uid,
            VoidedResidence.house_uid == house_uid,
            func.lower(VoidedResidence.period) == moved_in,
        )
        .order_by(VoidedResidence.voided_at.desc())
        .limit(1)
    )
    return session.scalar(statement)


def start_people_batch(session: Session, *, source: str) -> int:
    statement = (
        insert(ImportBatch)
        .values(kind="people", source=source[:1000], status="running")
        .returning(ImportBatch.id)
    )
    return int(session.execute(statement).scalar_one())


def finish_people_batch(
    session: Session, *, batch_id: int | None, counts: dict[str, Any], status: str = "done"
) -> None:
    if batch_id is None:
        return
    session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(status=status, finished_at=func.now(), counts=counts)
    )
