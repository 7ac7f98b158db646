"""The rules a person's residences keep with one another: one primary residence at a time
(the exclusion constraint ``residences_one_primary_at_a_time`` behind every check, for a race),
none before the person's birth, and a departure once recorded never rewritten (来有登记，走有注销).
Each refusal is a Conflict or InvalidInput naming both periods and the field at fault.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import Conflict, InvalidInput
from gis.people import queries
from gis.people.models import Person, Residence
from gis.people.periods import CHINA, describe_period, make_period


def utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def conflict_guard(session: Session, message: str) -> Iterator[None]:
    """Changes made inside are flushed in a savepoint: a violated exclusion constraint (another
    writer won a race) undoes them all and becomes a Conflict, leaving the transaction usable."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as error:
        if "residences_one_primary_at_a_time" in str(error.orig):
            raise Conflict(message, field="period") from None
        raise


def describe_other(session: Session, scope: Scope, residence: Residence) -> str:
    """Another residence of the person, as the caller may know it: its period when its house
    is in scope, else not even that (out of scope answers like nothing there)."""
    if queries.select_residence(session, uid=residence.uid, scope=scope) is None:
        return "a primary residence of the person outside your scope"
    return f"the person's primary residence {describe_period(residence.period)}"


def end_overlapping(
    session: Session,
    *,
    scope: Scope,
    person: Person,
    period: Range[date],
    ends_previous: bool,
    ended_by: uuid.UUID,
) -> list[Residence]:
    """Primary residences overlapping a new one (``ended_by``) over ``period``: ended where it
    starts when asked (a move from one that began before), else a Conflict naming both
    periods."""
    start = period.lower
    assert start is not None
    overlapping = queries.select_overlapping_primary(
        session, person_uids=[person.uid], period=period
    )
    ended = []
    for residence in overlapping:
        lower = residence.period.lower
        assert lower is not None
        if ends_previous:
            refuse_rewriting_departure(session, scope, residence, day=start, field="moved_in")
        if not ends_previous or lower >= start:
            how = (
                "deregister it first, or move"
                if lower >= start
                else ("give ends_previous (a move from elsewhere), or deregister it first")
            )
            raise Conflict(
                f"{describe_other(session, scope, residence)} overlaps the new one "
                f"{describe_period(period)}: {how}",
                field="moved_in",
            )
        residence.period = make_period(lower, start)
        residence.deregistered_at = utc_now()
        residence.ended_by_uid = ended_by
        ended.append(residence)
    return ended


def refuse_rewriting_departure(
    session: Session, scope: Scope, residence: Residence, *, day: date, field: str
) -> None:
    """A residence already deregistered keeps its recorded departure: a move (or an arrival
    ending the previous residence) on ``day``, inside it, is a Conflict instead of an end
    moved back and a new deregistration time (来有登记，走有注销: what was recorded stays)."""
    if residence.deregistered_at is None:
        return
    left = residence.period.upper
    raise Conflict(
        f"{describe_other(session, scope, residence)} was deregistered on "
        f"{residence.deregistered_at.astimezone(CHINA).date()}: a move on {day} would rewrite "
        f"that recorded departure" + (f"; the person moved out on {left}" if left else ""),
        field=field,
    )


def refuse_before_birth(person: Person, day: date, *, field: str, what: str) -> None:
    if person.birth_date is not None and day < person.birth_date:
        raise InvalidInput(
            f"{what} ({day}) before the person's birth ({person.birth_date})", field=field
        )


def refuse_overlap(
    session: Session,
    *,
    scope: Scope,
    person_uid: uuid.UUID,
    period: Range[date],
    excluding: uuid.UUID | None,
    field: str,
) -> None:
    """A Conflict naming both periods when another primary residence of the person overlaps
    ``period`` (the exclusion constraint stays behind it for a race)."""
    other = queries.select_overlapping_primary(
        session, person_uids=[person_uid], period=period, excluding=excluding
    )
    if other:
        raise Conflict(
            f"{describe_other(session, scope, other[0])} overlaps {describe_period(period)}",
            field=field,
        )
