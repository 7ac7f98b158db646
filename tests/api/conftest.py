"""The API tests' world also holds events and residence permits (tests/events_world.py), so
that the authorization matrix can reach their routes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.access_world import World
from tests.events_world import add_events_world


@pytest.fixture
def world(world: World, db: Session) -> World:
    return add_events_world(db, world)
