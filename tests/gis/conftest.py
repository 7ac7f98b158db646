"""The building lifecycle tests' fixtures: the six squares imported, a database of one's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis import cluster
from gis.buildings.models import Building
from gis.db import make_engine, make_session_factory
from tests.databases import own_database
from tests.gis.lifecycle_world import SQUARES, import_footprints, seed_community, write_footprints


@pytest.fixture
def buildings(factory: sessionmaker[Session], db: Session, tmp_path: Path) -> list[str]:
    seed_community(db)
    db.commit()
    import_footprints(factory, write_footprints(tmp_path / "squares.gpkg", SQUARES))
    return list(db.scalars(select(Building.code).order_by(Building.seq)))


@pytest.fixture
def scratch_factory(pg_cluster: cluster.Cluster) -> Iterator[sessionmaker[Session]]:
    """A database of its own, migrated, for work that must really commit in parallel."""
    with own_database(pg_cluster, "concurrent") as url:
        engine = make_engine(url, pool_size=10)
        yield make_session_factory(engine)
        engine.dispose()
