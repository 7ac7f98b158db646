"""The event lifecycle as an explicit transition table, and the deadline of each kind.

::

    reported ──▶ accepted ──▶ dispatched ──▶ handled ──▶ checked ──▶ closed
        └──────▶ rejected                      ▲   │
                                               └───┘ (the on-site check failed: dispatched again)

Every step names who took it, when, and a note. ``rejected`` and ``closed`` are final.

>>> next_statuses(EventStatus.HANDLED)
('checked', 'dispatched')
>>> check_step(current=EventStatus.HANDLED, target=EventStatus.CLOSED, event_id=7)
... # doctest: +ELLIPSIS
Traceback (most recent call last):
gis.errors.Conflict: status: event 7 is handled and cannot be closed: only a checked event ...
"""

from __future__ import annotations

from datetime import timedelta

from gis.errors import Conflict
from gis.events.models import EventKind, EventStatus

S = EventStatus
TRANSITIONS: dict[EventStatus, tuple[EventStatus, ...]] = {
    S.REPORTED: (S.ACCEPTED, S.REJECTED),
    S.ACCEPTED: (S.DISPATCHED,),
    S.DISPATCHED: (S.HANDLED,),
    S.HANDLED: (S.CHECKED, S.DISPATCHED),
    S.CHECKED: (S.CLOSED,),
    S.REJECTED: (),
    S.CLOSED: (),
}
"""From each status, the statuses an event may move to (in the order the map offers them)."""

FINAL = frozenset({S.REJECTED, S.CLOSED})
"""Statuses that end an event: it is no longer open, and no deadline runs."""

DEADLINES: dict[EventKind, timedelta] = {
    EventKind.RENTED_FIRE_RISK: timedelta(hours=24),
    EventKind.PUBLIC_ORDER: timedelta(hours=24),
    EventKind.SAFETY_HAZARD: timedelta(days=3),
    EventKind.DISPUTE: timedelta(days=7),
    EventKind.OTHER: timedelta(days=15),
}
"""How long after its report an event must be closed (or rejected) before it is overdue."""

NEEDS_NOTE = frozenset({S.REJECTED, S.HANDLED, S.CHECKED})
"""Steps that must say why or what was done (a rejection's reason, the work, the check)."""


def next_statuses(current: EventStatus) -> tuple[str, ...]:
    """The statuses an event in ``current`` may move to, as strings."""
    return tuple(str(status) for status in TRANSITIONS[current])


def _sources(target: EventStatus) -> list[str]:
    return [str(source) for source, targets in TRANSITIONS.items() if target in targets]


def check_step(*, current: EventStatus, target: EventStatus, event_id: int) -> None:
    """Refuse a step the table does not allow, saying which status it needs and which steps
    are open from here."""
    if target in TRANSITIONS[current]:
        return
    allowed = ", ".join(next_statuses(current)) or "none, the event is final"
    sources = _sources(target)
    if not sources:
        need = "an event is reported once, when it is created"
    else:
        need = f"only a{'n' if sources[0][0] in 'aeiou' else ''} {' or '.join(sources)} event "
        need += f"can be {target}"
    raise Conflict(
        f"event {event_id} is {current} and cannot be {target}: {need} "
        f"(next steps from {current}: {allowed})",
        field="status",
    )
