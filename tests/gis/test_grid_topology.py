"""The hard topology rules, checked in shapely: overlaps, gaps and slivers, containment."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis.grids.schemas import GridShape, ProblemKind, Severity
from gis.grids.topology import check_grids

WEST = MultiPolygon([box(113.80, 22.60, 113.82, 22.62)])
EAST = MultiPolygon([box(113.82, 22.60, 113.84, 22.62)])
COMMUNITIES = {"w": WEST, "e": EAST}


def _grids(*boxes: tuple[str, Polygon | MultiPolygon]) -> list[GridShape]:
    return [GridShape(f"g{i}", community, geom) for i, (community, geom) in enumerate(boxes)]


def test_an_exact_tiling_passes() -> None:
    grids = _grids(
        ("w", box(113.80, 22.60, 113.81, 22.62)),
        ("w", box(113.81, 22.60, 113.82, 22.62)),
        ("e", box(113.82, 22.60, 113.84, 22.62)),
    )
    report = check_grids(grids, communities=COMMUNITIES)
    assert report.ok and report.problems == []


def test_overlaps_gaps_and_slivers_are_located() -> None:
    grids = _grids(
        ("w", box(113.80, 22.60, 113.8105, 22.62)),
        ("w", box(113.81, 22.60, 113.82, 22.6199)),
        ("e", box(113.82, 22.60, 113.84, 22.61)),
        ("e", box(113.82, 22.61, 113.84, 22.61999999)),
    )
    report = check_grids(grids, communities=COMMUNITIES)
    by_kind = {p.kind: p for p in report.problems}
    overlap = by_kind[ProblemKind.OVERLAP]
    assert overlap.grids == ("g0", "g1") and overlap.severity is Severity.ERROR
    assert 50_000 < (overlap.area_m2 or 0) < 120_000
    x, _ = map(float, overlap.location.split(","))
    assert 113.81 <= x <= 113.8105
    gap = by_kind[ProblemKind.GAP]
    assert gap.community_code == "w" and 5_000 < (gap.area_m2 or 0) < 20_000  # 1 km × 11 m
    sliver = by_kind[ProblemKind.SLIVER]  # 0.00000001° × 0.02° ≈ 2.3 m² in the east
    assert sliver.severity is Severity.WARNING and sliver.community_code == "e"
    assert 1 < (sliver.area_m2 or 0) < 10 and "m²" in sliver.message
    assert [p.kind for p in report.errors] == [ProblemKind.OVERLAP, ProblemKind.GAP]


def test_a_grid_reaching_into_another_community_is_an_error() -> None:
    grids = _grids(
        ("w", box(113.80, 22.60, 113.825, 22.62)), ("e", box(113.825, 22.60, 113.84, 22.62))
    )
    report = check_grids(grids, communities=COMMUNITIES)
    outside = [p for p in report.errors if p.kind is ProblemKind.OUTSIDE]
    assert len(outside) == 1 and "into e" in outside[0].message
    assert {p.kind for p in report.errors} == {ProblemKind.OUTSIDE, ProblemKind.GAP}


def test_shapes_must_be_valid_single_polygons() -> None:
    bowtie = Polygon([(113.80, 22.60), (113.81, 22.61), (113.81, 22.60), (113.80, 22.61)])
    two = MultiPolygon([box(113.80, 22.60, 113.805, 22.61), box(113.81, 22.60, 113.82, 22.61)])
    report = check_grids(_grids(("w", bowtie), ("w", two)), communities=COMMUNITIES)
    kinds = [p.kind for p in report.errors]
    assert ProblemKind.INVALID in kinds and ProblemKind.MULTIPART in kinds
    invalid = next(p for p in report.errors if p.kind is ProblemKind.INVALID)
    assert "Self-intersection" in invalid.message
    assert shapely.get_type_id(invalid.geom) == 0  # located at the crossing point
    feature = invalid.feature()
    assert feature["geometry"]["type"] == "Point"
