"""``GET /api/search/people``: the map's search box, for roles that see people (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import SessionDep
from api.personal import Audited, CipherDep, PurposeQuery, audited
from gis.people.periods import today_in_china
from gis.search.service import search_people, searched_for

router = APIRouter(prefix="/api/search", tags=["search"])


class PersonHitRead(BaseModel):
    uid: uuid.UUID
    name: str
    id_number: str | None
    category: str
    houses: list[str]


class PeopleHits(BaseModel):
    items: list[PersonHitRead]
    more: bool = Field(
        description="more people match than are listed: give more of the name, or a number"
    )


@router.get("/people", response_model=PeopleHits)
def find_people(
    q: Annotated[str, Query(min_length=1, max_length=40, description="a name or an ID number")],
    session: SessionDep,
    cipher: CipherDep,
    audit: Annotated[Audited, Depends(audited("people.search"))],
    purpose: PurposeQuery = None,
) -> PeopleHits:
    """People living today in houses of the caller's scope whose citizen ID number (or travel
    document's number) is ``q``, or whose name starts with ``q``; ID numbers masked, each with
    their current houses; at most 20, ``more`` saying when others match too."""
    searched = searched_for(
        q, cipher=cipher
    )  # whom: recorded even when nobody is found, or when refused
    audit.state_purpose(purpose, targets=[searched])
    hits, more = search_people(
        session, query=q, scope=audit.scope, cipher=cipher, on=today_in_china()
    )
    audit.record(
        session,
        row_count=len(hits),
        target_codes=[searched, *(code for hit in hits for code in hit.houses)][:100],
    )
    return PeopleHits(
        items=[
            PersonHitRead(uid=h.uid, name=h.name, id_number=h.id_number, category=h.category,
                          houses=h.houses)
            for h in hits
        ],
        more=more,
    )  # fmt: skip
