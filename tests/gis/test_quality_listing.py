"""``gridhouse quality``'s listing: every current grid, one without buildings too."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.clock import today_in_china
from gis.people import quality
from tests.access_world import World


def test_a_grid_without_buildings_is_listed_with_zeros(db: Session, world: World) -> None:
    """It was left out of the whole list (833 of 834 grids) but shown with --grid."""
    db.execute(
        text(
            "INSERT INTO grids (code, community_code, district_code, valid_from, geom) VALUES "
            "('990101001001099', '990101001001', '990101', '2024-01-01', "
            "ST_GeomFromText('POLYGON((100 30,100.001 30,100.001 30.001,100 30.001,100 30))', "
            "4490))"
        )
    )
    reports = quality.all_quality(db, on=today_in_china())
    empty = [r for r in reports if r.area_kind == "grid" and r.area_code == "990101001001099"]
    assert len(empty) == 1 and empty[0].resident_count == 0
    summary = quality.summarise(reports)
    assert set(summary.failing) == {"registration", "accuracy", "late_deregistration", "permits"}
