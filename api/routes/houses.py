"""Houses one at a time: add a house to a building, change one, retire one (officers in their
grids, administrators). Every change is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import SessionDep
from api.personal import Audited, audited
from gis.houses import editing
from gis.houses.editing import HouseCreate, HouseRead, HouseUpdate, house_read
from gis.people.periods import today_in_china

router = APIRouter(tags=["houses"])


@router.post("/api/buildings/{code}/houses", response_model=HouseRead, status_code=201)
def add_house(
    code: str,
    request: HouseCreate,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("houses.add"))],
) -> HouseRead:
    """Add a house (a flat, a room, a shop) to a live building; it takes the building's next
    unit number, so its code is new and permanent. A floor and room another active house of
    the building has is a 409."""
    audit.target_codes = [code]
    house = editing.add_house(session, scope=audit.scope, building_code=code, request=request)
    audit.record(session, row_count=1, target_codes=[house.code])
    return house_read(house)


@router.patch("/api/houses/{code}", response_model=HouseRead)
def update_house(
    code: str,
    request: HouseUpdate,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("houses.update"))],
) -> HouseRead:
    """Change what a house is: floor, room, use, area, rooms, let or not (``is_rented``: a
    tenant moving into a let house must be declared within 3 working days). Members left out
    keep their values; the house is no longer marked estimated."""
    audit.target_codes = [code]
    house = editing.update_house(session, scope=audit.scope, code=code, request=request)
    audit.record(session, row_count=1, target_codes=[house.code])
    return house_read(house)


@router.post("/api/houses/{code}/retire", response_model=HouseRead)
def retire_house(
    code: str,
    session: SessionDep,
    audit: Annotated[Audited, Depends(audited("houses.retire"))],
) -> HouseRead:
    """Retire a house that no longer exists. Refused (409) while a residence of it lasts until
    today or later, or an organization is at it; its code is never issued again, and who lived
    there stays on record."""
    audit.target_codes = [code]
    house = editing.retire_house(session, scope=audit.scope, code=code, today=today_in_china())
    audit.record(session, row_count=1, target_codes=[house.code])
    return house_read(house)
