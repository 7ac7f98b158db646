"""Events and residence permits in the access-control world (tests/access_world.py and
tests/people_world.py): one open event and one permit at the own building, one of each at the
far building. No person is added, so the world's counts stay those of tests/people_world.py.

=================  ================================  ==========================  ============
kind               own                               other                       missing
=================  ================================  ==========================  ============
events             reported at the own building      reported at the far one     an unused id
permits            the own resident's, due in 10 d   the canary's                unissued
reconciliations    of county 990101 (empty lists)    of county 990102            an unused id
=================  ================================  ==========================  ============
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.buildings.models import Building
from gis.events.lifecycle import DEADLINES, FINAL
from gis.events.models import (
    Event,
    EventKind,
    EventSource,
    EventStatus,
    EventStep,
    ExchangeBatch,
    ResidencePermit,
)
from gis.events.permits import add_months
from gis.houses.models import House
from gis.people.periods import today_in_china
from tests.access_world import GRID_FAR, GRID_OWN, World

MISSING_EVENT = "999999999"
MISSING_PERMIT = "990101202600000000"
MISSING_BATCH = "999999999"


def add_event(
    db: Session,
    *,
    building_code: str,
    grid_code: str,
    by: str = "t_officer",
    kind: EventKind = EventKind.DISPUTE,
    status: EventStatus = EventStatus.REPORTED,
    reported_at: datetime | None = None,
) -> Event:
    """An event at a building, reported ``reported_at`` (default now) and left in ``status``
    (the steps in between are not written: tests of the lifecycle walk it for real)."""
    building = db.scalars(select(Building).where(Building.code == building_code)).one()
    now = reported_at or datetime.now(UTC)
    event = Event(
        kind=kind, status=status, title="楼道纠纷",
        geom=func.ST_PointOnSurface(building.geom), building_uid=building.uid,
        grid_code=grid_code, community_code=building.community_code,
        district_code=building.district_code, source=EventSource.OFFICER, reported_by=by,
        reported_at=now, due_at=now + DEADLINES[kind],
        closed_at=now + timedelta(hours=1) if status in FINAL else None,
    )  # fmt: skip
    db.add(event)
    db.flush()
    db.add(EventStep(event_id=event.id, to_status=EventStatus.REPORTED, actor=by, role="officer"))
    return event


def add_permit(db: Session, *, house_code: str, person_uid: str, endorsed_until: date) -> str:
    house = db.scalars(select(House).where(House.code == house_code)).one()
    issued = add_months(endorsed_until, -12)
    number = f"{house.district_code}{issued.year}{uuid.uuid4().int % 10**8:08d}"
    db.add(
        ResidencePermit(
            number=number, person_uid=uuid.UUID(person_uid), house_uid=house.uid,
            district_code=house.district_code, issued_on=issued, endorsed_until=endorsed_until,
            expires_on=add_months(issued, 36), issued_by="test",
        )
    )  # fmt: skip
    return number


def add_events_world(db: Session, world: World) -> World:
    """Fill ``world.objects`` with events and permits (flushed)."""
    own = add_event(db, building_code=world.buildings["own"], grid_code=GRID_OWN)
    far = add_event(db, building_code=world.buildings["far"], grid_code=GRID_FAR)
    due = today_in_china() + timedelta(days=10)
    people = world.objects["people"]
    houses = world.objects["houses"]
    own_permit = add_permit(db, house_code=houses["own"], person_uid=people["own"],
                            endorsed_until=due)  # fmt: skip
    far_permit = add_permit(db, house_code=houses["other"], person_uid=people["other"],
                            endorsed_until=due)  # fmt: skip
    batches = {
        key: ExchangeBatch(
            direction="reconcile", region_code=region, other_region_code="110105000000",
            period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), record_count=0,
            matched=0, here_not_there=0, there_not_here=0, made_by="test",
        )
        for key, region in (("own", "990101000000"), ("other", "990102000000"))
    }  # fmt: skip
    db.add_all(batches.values())
    db.flush()
    world.objects.update(
        {
            "events": {"own": str(own.id), "other": str(far.id), "missing": MISSING_EVENT},
            "permits": {"own": own_permit, "other": far_permit, "missing": MISSING_PERMIT},
            "reconciliations": {key: str(batch.id) for key, batch in batches.items()}
            | {"missing": MISSING_BATCH},
        }
    )
    return world
