"""Two writers at the same moment, for tests on committed data: the first's change is held open
while the second's runs on a thread, which must wait for it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from gis.errors import Conflict


def race(
    first: Session, second: Session, work: Callable[[Session], object], *, wait_s: float = 20
) -> list[object]:
    """``work`` in ``first`` (not committed), then in ``second`` on a thread, which must still
    be waiting after a second; ``first`` commits; what the second did (committed) or the
    Conflict it met (rolled back)."""
    work(first)
    outcome: list[object] = []

    def again() -> None:
        try:
            outcome.append(work(second))
            second.commit()
        except Conflict as error:
            outcome.append(error)
            second.rollback()

    racer = threading.Thread(target=again)
    racer.start()
    racer.join(1.0)
    assert racer.is_alive(), f"the second did not wait for the first: {outcome}"
    first.commit()
    racer.join(wait_s)
    assert not racer.is_alive()
    return outcome
