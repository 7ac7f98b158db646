"""Residence permits (居住证): eligibility after 6 months of registered residence in the city,
issue with a number, yearly endorsement (签注), expiry, and reminders 30 days ahead per grid.

A permit is valid from ``issued_on`` until the earlier of ``endorsed_until`` (a year after the
issue or the last endorsement) and ``expires_on`` (3 years after the issue). An endorsement is
made in the 30 days before ``endorsed_until``, while the holder still lives in the city.

>>> add_months(date(2025, 8, 31), 6)
datetime.date(2026, 2, 28)
>>> periods = [(date(2025, 1, 1), date(2025, 3, 1)), (date(2025, 3, 1), None)]
>>> eligible_on(periods, on=date(2025, 7, 1))  # a move inside the city keeps the count
datetime.date(2025, 7, 1)
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import Conflict, InvalidInput, NotFound
from gis.events import permit_queries as sql
from gis.events.models import ResidencePermit
from gis.events.schemas import PermitRead, PermitReminder, PermitReminders
from gis.houses.models import House
from gis.people.models import Person, PersonCategory
from gis.people.occupancy_queries import select_grid_in_scope
from gis.people.periods import checked_date
from gis.users.models import Role

ELIGIBLE_MONTHS = 6
ENDORSEMENT_MONTHS = 12
VALID_MONTHS = 36
REMINDER_DAYS = 30
ISSUERS = (Role.OFFICER, Role.POLICE, Role.ADMIN)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def continuous_since(periods: list[tuple[date, date | None]], *, on: date) -> date | None:
    """Start of the unbroken stretch of residence that covers ``on`` (periods ``[since,
    until)``, touching ones joined), or None when ``on`` is not covered."""
    start: date | None = None
    end: date | None = None
    for since, until in sorted(periods, key=lambda p: p[0]):
        if start is None or (end is not None and since > end):
            start, end = since, until
        elif end is not None:
            end = None if until is None else max(end, until)
    if start is None or start > on or (end is not None and end <= on):
        return None
    return start


def eligible_on(periods: list[tuple[date, date | None]], *, on: date) -> date | None:
    """The first day a permit may be issued: 6 months after the unbroken residence covering
    ``on`` began (None when the person does not live in the city on ``on``)."""
    since = continuous_since(periods, on=on)
    return None if since is None else add_months(since, ELIGIBLE_MONTHS)


def _read(permit: ResidencePermit, person: Person, house: House, *, on: date) -> PermitRead:
    return PermitRead(
        number=permit.number, person_uid=str(permit.person_uid),
        name=person.name, id_number=person.id_number_masked,
        house_code=house.code, issued_on=permit.issued_on,
        endorsed_until=permit.endorsed_until, expires_on=permit.expires_on,
        endorsements=permit.endorsements,
        revoked_on=permit.revoked_on, revoke_reason=permit.revoke_reason,
        is_valid=permit.issued_on <= on < valid_until(permit),
    )  # fmt: skip


def valid_until(permit: ResidencePermit) -> date:
    """The first day the permit is no longer valid: the earliest of its endorsement's end, its
    expiry and its revocation."""
    return min(permit.endorsed_until, permit.expires_on, permit.revoked_on or date.max)


def issue_permit(
    session: Session, *, scope: Scope, person_uid: str, issued_on: date | None, today: date
) -> PermitRead:
    """Issue a permit to a floating or overseas resident living in scope for 6 months."""
    scope.require_role(*ISSUERS)
    on = checked_date(issued_on, field="issued_on") if issued_on else today
    if on > today:
        raise InvalidInput("a permit cannot be issued in the future", field="issued_on")
    try:
        uid = uuid.UUID(person_uid)
    except ValueError:
        raise InvalidInput("not a person uid", field="person_uid") from None
    found = sql.select_current_residence(session, person_uid=uid, on=on, scope=scope)
    if found is None:
        raise NotFound(f"no person {person_uid} living in your scope on {on}", field="person_uid")
    person, house = found
    if person.category is PersonCategory.HUKOU:
        raise InvalidInput("a resident with a local hukou needs no residence permit",
                           field="person_uid")  # fmt: skip
    district = str(house.district_code)
    periods = sql.select_city_periods(session, person_uid=uid, city=district[:4], on=on)
    first_day = eligible_on(periods, on=on)
    since = continuous_since(periods, on=on)
    if first_day is None or first_day > on:
        raise InvalidInput(
            f"not eligible on {on}: registered in the city since {since}, and a permit needs "
            f"{ELIGIBLE_MONTHS} months of residence (eligible from {first_day})",
            field="issued_on",
        )
    endorsed_until = add_months(on, ENDORSEMENT_MONTHS)
    sql.lock_person(session, person_uid=uid)  # two issues at once: the second sees the first
    held = sql.select_overlapping_permit(session, person_uid=uid, start=on, end=endorsed_until)
    if held is not None:
        number, issued_on, valid_until = held
        raise Conflict(
            f"the person already holds residence permit {number}, valid from {issued_on} until "
            f"{valid_until}, which overlaps a permit issued on {on}",
            field="person_uid",
        )
    number = f"{district}{on.year}{sql.next_permit_sequence(session):08d}"
    permit = ResidencePermit(
        number=number, person_uid=uid, house_uid=house.uid, district_code=district,
        issued_on=on, endorsed_until=endorsed_until,
        expires_on=add_months(on, VALID_MONTHS), endorsements=0, issued_by=scope.user_name,
    )  # fmt: skip
    session.add(permit)
    session.flush()
    return _read(permit, person, house, on=today)


def _dated(value: date | None, *, field: str, what: str, today: date) -> date:
    """The day a change is dated: ``value`` checked, default today, never in the future."""
    on = checked_date(value, field=field) if value else today
    if on > today:
        raise InvalidInput(f"{what} cannot be dated in the future", field=field)
    return on


def _permit(
    session: Session, *, scope: Scope, number: str, today: date, lock: bool = False
) -> tuple[ResidencePermit, Person, House]:
    """A permit in scope with its holder and house (locked for a change), else NotFound."""
    row = sql.select_permit(session, number=number, scope=scope, today=today, for_update=lock)
    if row is None:
        raise NotFound(f"no residence permit {number}", field="number")
    return row


def endorse_permit(
    session: Session, *, scope: Scope, number: str, endorsed_on: date | None, today: date
) -> PermitRead:
    """The yearly endorsement: within the 30 days before ``endorsed_until``, while the holder
    lives in the city; it moves ``endorsed_until`` a year on (never past expiry)."""
    scope.require_role(*ISSUERS)
    on = _dated(endorsed_on, field="endorsed_on", what="an endorsement", today=today)
    permit, person, house = _permit(session, scope=scope, number=number, today=today, lock=True)
    if permit.revoked_on is not None:
        raise Conflict(f"permit {number} was revoked on {permit.revoked_on}", field="number")
    if permit.endorsed_until >= permit.expires_on:
        raise Conflict(f"permit {number} expires on {permit.expires_on} and cannot be endorsed "
                       "past it: issue a new one", field="number")  # fmt: skip
    if on >= permit.endorsed_until:
        raise Conflict(f"the endorsement of permit {number} was due before "
                       f"{permit.endorsed_until}: it has lapsed; issue a new one",
                       field="endorsed_on")  # fmt: skip
    opens = date.fromordinal(permit.endorsed_until.toordinal() - REMINDER_DAYS)
    if on < opens:
        raise InvalidInput(f"too early: permit {number} can be endorsed from {opens}",
                           field="endorsed_on")  # fmt: skip
    periods = sql.select_city_periods(
        session, person_uid=permit.person_uid, city=permit.district_code[:4], on=on
    )
    if continuous_since(periods, on=on) is None:
        raise InvalidInput(f"the holder no longer lives in the city on {on}", field="endorsed_on")
    extended = min(add_months(permit.endorsed_until, ENDORSEMENT_MONTHS), permit.expires_on)
    # an endorsement recorded late must not revive a permit a newer one replaced once it lapsed
    sql.lock_person(session, person_uid=permit.person_uid)
    newer = sql.select_overlapping_permit(
        session, person_uid=permit.person_uid, start=permit.endorsed_until, end=extended,
        excluding=permit.number,
    )  # fmt: skip
    if newer is not None:
        other, issued_on, valid_until = newer
        raise Conflict(
            f"the holder has residence permit {other}, valid from {issued_on} until "
            f"{valid_until}: permit {number} lapsed on {permit.endorsed_until} and cannot be "
            "endorsed past it",
            field="number",
        )
    permit.endorsed_until = extended
    permit.endorsements += 1
    session.flush()
    return _read(permit, person, house, on=today)


def revoke_permit(
    session: Session,
    *,
    scope: Scope,
    number: str,
    reason: str,
    revoked_on: date | None,
    today: date,
) -> PermitRead:
    """Revoke (注销) a permit from ``revoked_on`` (default today; not in the future, not before
    the issue): the holder left the city, died, or it was issued in error. It stays on record,
    valid until that day; a revoked permit is not endorsed, and a new one may be issued."""
    scope.require_role(*ISSUERS)
    on = _dated(revoked_on, field="revoked_on", what="a revocation", today=today)
    permit, person, house = _permit(session, scope=scope, number=number, today=today, lock=True)
    if permit.revoked_on is not None:
        raise Conflict(f"permit {number} was revoked on {permit.revoked_on} "
                       f"({permit.revoke_reason})", field="number")  # fmt: skip
    if on < permit.issued_on:
        raise InvalidInput(f"permit {number} was issued on {permit.issued_on}, after {on}",
                           field="revoked_on")  # fmt: skip
    ended = valid_until(permit)
    if on >= ended:
        raise Conflict(f"permit {number} was no longer valid from {ended}: there is nothing "
                       "to revoke", field="revoked_on")  # fmt: skip
    permit.revoked_on = on
    permit.revoke_reason = reason
    session.flush()
    return _read(permit, person, house, on=today)


def get_permit(session: Session, *, scope: Scope, number: str, today: date) -> PermitRead:
    """A permit whose house is in scope (masked)."""
    scope.require_personal()
    return _read(*_permit(session, scope=scope, number=number, today=today), on=today)


def permit_reminders(
    session: Session, *, scope: Scope, grid_code: str, on: date, within_days: int = REMINDER_DAYS
) -> PermitReminders:
    """Permits of people living in a grid in scope whose endorsement or expiry falls due within
    ``within_days`` days of ``on`` (both days included), earliest first."""
    scope.require_personal()
    if not 0 <= within_days <= 366:
        raise InvalidInput("within_days must be between 0 and 366", field="within_days")
    if select_grid_in_scope(session, code=grid_code, on=on, scope=scope) is None:
        raise NotFound(f"no grid {grid_code} on {on}", field="code")
    rows = sql.select_reminders(session, grid_code=grid_code, on=on, within_days=within_days)
    items = [
        PermitReminder(
            number=r["number"],
            person_uid=str(r["person_uid"]),
            name=r["name"],
            house_code=r["house_code"],
            due=r["due"],
            due_on=r["due_on"],
            days_left=(r["due_on"] - on).days,
        )
        for r in rows
    ]
    return PermitReminders(grid_code=grid_code, on=on, within_days=within_days, items=items)
