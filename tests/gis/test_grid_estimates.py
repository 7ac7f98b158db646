"""Whether a district's households are counted from residences or estimated from dwellings."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gis.grids.indicator_queries import district_has_residences
from tests.grids_world import COMMUNITY_EAST, COMMUNITY_WEST, add_residents, build_small_world

DISTRICT = COMMUNITY_WEST[:6]


def test_a_district_has_residences_once_any_of_its_houses_has_one(db: Session) -> None:
    world = build_small_world(db)
    assert COMMUNITY_EAST[:6] == DISTRICT
    assert not district_has_residences(db, district_code=DISTRICT)  # 32 buildings, nobody
    # one resident, in the district's last building in code order: every house before it is
    # asked, and the neighbouring district codes, with no houses, have no residences
    add_residents(db, building_code=world.buildings[COMMUNITY_EAST][-1], residents=1, floating=0)
    db.flush()
    assert district_has_residences(db, district_code=DISTRICT)
    for neighbour in (str(int(DISTRICT) - 1), str(int(DISTRICT) + 1)):
        assert not district_has_residences(db, district_code=neighbour)
