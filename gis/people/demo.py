"""The demo's residents: generated (fictitious) people in every house of the demo communities."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gis.db import transaction
from gis.people.periods import today_in_china
from gis.people.populate import PopulateReport, populate
from gis.people.registry import ensure_people_key

DEMO_SEED = 20260501

__all__ = ["DEMO_SEED", "PopulateReport", "populate_demo"]


def populate_demo(
    factory: sessionmaker[Session], *, data: Path, people_key: Path, communities: Sequence[str]
) -> PopulateReport:
    """Generate and load the residents of the demo communities (skipped when they have some);
    the people key is created first if this database has no encrypted rows yet."""
    with transaction(factory) as session:
        cipher, _ = ensure_people_key(session, path=people_key)
        return populate(
            session,
            cipher=cipher,
            communities=communities,
            divisions_dir=data / "divisions",
            seed=DEMO_SEED,
            as_of=today_in_china(),
        )
