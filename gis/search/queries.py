"""SQL of the map's people search: current residents of houses in scope, by name or ID hash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Date, cast, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.houses.models import House
from gis.people.models import Person, Residence


@dataclass
class PersonHit:
    uid: uuid.UUID
    name: str
    id_number: str | None
    """Masked (``440305********123X``)."""
    category: str
    houses: list[str] = field(default_factory=list)


def select_people(
    session: Session, *, match: ColumnElement[bool], scope: Scope, on: date, limit: int
) -> tuple[list[PersonHit], bool]:
    """The first ``limit`` people ``match`` admits who live on ``on`` in a house of the
    caller's scope, with those houses' codes, by name; and whether more are left out."""
    rows = session.execute(
        select(Person.uid, Person.name, Person.id_number_masked, Person.category, House.code)
        .join(Residence, Residence.person_uid == Person.uid)
        .join(House, House.uid == Residence.house_uid)
        .where(
            match,
            Residence.period.op("@>")(cast(on, Date)),
            scope.houses_clause(House, on=on),
        )
        .order_by(Person.name, Person.uid, House.code)
        .limit(limit * 4)
    )
    hits: dict[uuid.UUID, PersonHit] = {}
    read = 0
    for uid, name, masked, category, house_code in rows:
        read += 1
        if uid not in hits:
            if len(hits) == limit:
                return list(hits.values()), True
            hits[uid] = PersonHit(uid=uid, name=name, id_number=masked, category=str(category))
        hits[uid].houses.append(house_code)
    return list(hits.values()), read == limit * 4
