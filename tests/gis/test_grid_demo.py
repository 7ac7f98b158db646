"""The demo's grid step: roads loaded once, grids suggested, published and classified, and
nothing done again when grids exist."""

from __future__ import annotations

from pathlib import Path

import shapely
from shapely.geometry import LineString
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gis.grids.demo import DemoGrids, build_demo_grids
from gis.grids.models import Grid
from tests.grids_world import COMMUNITY_EAST, COMMUNITY_WEST, build_small_world


def test_the_demo_grids_are_built_once(
    db: Session, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_small_world(db)
    db.commit()
    (tmp_path / "roads.geojson").write_text(
        shapely.to_geojson(LineString([(113.80, 22.61), (113.84, 22.61)]))
    )

    def build() -> DemoGrids:
        return build_demo_grids(
            factory,
            data=tmp_path,
            file="roads.geojson",
            crs="EPSG:4326",
            township="970101001000",
            communities=[COMMUNITY_WEST, COMMUNITY_EAST],
        )

    first = build()
    assert first.roads_loaded == 1 and not first.skipped
    assert first.published >= 2 and sum(first.by_class.values()) == first.published
    live = db.scalars(select(Grid).where(Grid.district_code == "970101")).all()
    assert len(live) == first.published and all(g.grid_class and g.class_explanation for g in live)
    second = build()
    assert second.skipped and second.roads_loaded == 0
    assert (
        db.scalar(select(func.count()).select_from(Grid).where(Grid.district_code == "970101"))
        == first.published
    )
