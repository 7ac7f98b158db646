"""Loading road centrelines: each bad row rejected with its row number and reason, the good ones
stored, no Python warning on the way."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.roads.queries import count_roads
from gis.roads.service import import_roads

NANSHAN_LINE = [[113.92, 22.53], [113.93, 22.54]]


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def line(coordinates: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": coordinates}


def write_roads(path: Path, features: list[dict[str, Any]]) -> Path:
    """A GeoJSON file in EPSG:4326 (NaN written as GeoJSON readers take it)."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.usefixtures("divisions_loaded")
def test_bad_rows_are_rejected_with_their_reason(db: Session, tmp_path: Path) -> None:
    """Swapped lon/lat, a longitude of 313, a road in Paris, a line across the globe, a NaN, a
    line of one point, a highway or name longer than its column, a point, no geometry: each was
    stored or crashed the import; now each is a rejected row and the good one is stored."""
    path = write_roads(
        tmp_path / "roads.geojson",
        [
            feature(line(NANSHAN_LINE), highway="primary", name="南海大道"),
            feature(
                {"type": "MultiLineString", "coordinates": [[[22.53, 113.92], [22.54, 113.93]]]}
            ),
            feature(line([[313.0, 22.5], [313.01, 22.51]])),
            feature(line([[2.35, 48.85], [2.36, 48.86]]), name="Rue de Rivoli"),
            feature(line([[-179.0, -80.0], [179.0, 80.0]])),
            feature(line([[113.92, 22.53], [float("nan"), 22.54]])),
            feature(line([[113.92, 22.53]])),
            feature(line(NANSHAN_LINE), highway="x" * 41),
            feature(line(NANSHAN_LINE), name="路" * 201),
            feature({"type": "Point", "coordinates": [113.92, 22.53]}),
            feature(None),
        ],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = import_roads(db, path=path)
    assert [str(warning.message) for warning in caught] == []
    outside = (
        "the road reaches more than ~10 km beyond the division boundaries (wrong file or --crs?)"
    )
    assert [(r.row, r.reason) for r in result.rejections] == [
        (2, "latitude beyond ±90° (are longitude and latitude swapped?)"),
        (3, "longitude beyond ±180°"),
        (4, outside),
        (5, outside),
        (6, "coordinates are NaN or infinite"),
        (7, "a line needs at least 2 points"),
        (8, "highway is longer than 40 characters"),
        (9, "name is longer than 200 characters"),
        (10, "not a line (Point)"),
        (11, "unreadable or missing geometry"),
    ]
    assert (result.read, result.imported, result.rejected) == (11, 1, 10)
    assert count_roads(db, source="roads.geojson:roads") == 1


@pytest.mark.usefixtures("divisions_loaded")
def test_an_empty_file_loads_no_road(db: Session, tmp_path: Path) -> None:
    """It crashed in numpy (``ufunc 'bitwise_and' not supported``)."""
    result = import_roads(db, path=write_roads(tmp_path / "roads.geojson", []))
    assert (result.read, result.imported, result.rejections) == (0, 0, [])
    assert count_roads(db, source="roads.geojson:roads") == 0


def test_roads_need_division_boundaries_to_be_checked(db: Session, tmp_path: Path) -> None:
    """With no division boundary stored there is nothing to check a road's place against: the
    file is refused whole, nothing stored."""
    db.execute(text("UPDATE divisions SET geom = NULL"))
    path = write_roads(tmp_path / "roads.geojson", [feature(line(NANSHAN_LINE))])
    with pytest.raises(InvalidInput) as refused:
        import_roads(db, path=path)
    assert str(refused.value) == (
        "FILE: no division has a boundary to check the roads against: import them first "
        "(gridhouse import divisions PATH --boundaries FILE)"
    )
    assert count_roads(db, source="roads.geojson:roads") == 0
