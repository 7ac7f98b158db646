"""CRS conversion, checked against the published reference vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gis.crs import (
    SourceCrs,
    bd09_to_gcj02,
    crs_from_file,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    transform_geometries,
    wgs84_to_gcj02,
)
from gis.errors import CrsRequired, InvalidInput

GEOD = Geod(ellps="WGS84")


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_gcj02_vectors_within_half_a_metre(shared_data: Path) -> None:
    vectors = json.loads((shared_data / "vectors.json").read_text())["gcj02"]
    assert vectors
    for vector in vectors:
        (wlat, wlon), (glat, glon) = vector["wgs84"], vector["gcj02"]
        flon, flat = wgs84_to_gcj02(np.array([wlon]), np.array([wlat]))
        assert _metres(flon[0], flat[0], glon, glat) < 0.5
        blon, blat = gcj02_to_wgs84(np.array([glon]), np.array([glat]))
        assert _metres(blon[0], blat[0], wlon, wlat) < 0.5


def test_bd09_round_trip_is_exact_to_a_millimetre() -> None:
    lon = np.array([113.93, 121.53, 116.39])
    lat = np.array([22.52, 31.17, 39.91])
    blon, blat = gcj02_to_bd09(lon, lat)
    assert np.all(np.hypot(blon - lon, blat - lat) > 1e-3)  # BD-09 really is offset
    glon, glat = bd09_to_gcj02(blon, blat)
    assert np.max(np.abs(glon - lon)) < 1e-8
    assert np.max(np.abs(glat - lat)) < 1e-8


def test_no_offset_outside_china() -> None:
    lon, lat = np.array([9.52]), np.array([47.14])  # Liechtenstein
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)


def test_transform_geometries_from_gcj02() -> None:
    square = shapely.box(113.93, 22.52, 113.931, 22.521)
    (converted,) = transform_geometries(np.array([square]), parse_crs("GCJ02"))
    shift = _metres(113.93, 22.52, *shapely.get_coordinates(converted)[0])
    assert 200 < shift < 700  # GCJ-02 is a few hundred metres off in Shenzhen
    assert converted.area == pytest.approx(square.area, rel=1e-3)


@pytest.mark.parametrize(
    ("text", "label"), [("EPSG:4490", "EPSG:4490"), ("4326", "EPSG:4326"), ("bd-09", "BD09")]
)
def test_parse_crs(text: str, label: str) -> None:
    assert parse_crs(text).label == label


def test_parse_crs_refuses_unknown_and_empty() -> None:
    with pytest.raises(InvalidInput, match="not a known CRS"):
        parse_crs("EPSG:999999")
    with pytest.raises(InvalidInput, match="unknown CRS"):
        parse_crs("WGS84-ish", field="--crs")
    with pytest.raises(CrsRequired):
        parse_crs("  ")


@pytest.mark.parametrize("code", ["EPSG:5714", "EPSG:4978", "EPSG:4979", "EPSG:9518"])
def test_parse_crs_refuses_crss_that_are_not_horizontal(code: str) -> None:
    # a height, geocentric, geographic 3D, compound: no (x, y) on the ground to convert
    with pytest.raises(InvalidInput, match="not a horizontal CRS") as refused:
        parse_crs(code, field="--crs")
    assert refused.value.field == "--crs"


@pytest.mark.parametrize("code", ["EPSG:4490", "EPSG:4326", "EPSG:32650", "EPSG:4547"])
def test_parse_crs_takes_geographic_2d_and_projected_crss(code: str) -> None:
    assert parse_crs(code).label == code


@pytest.mark.parametrize(
    ("declared", "epsg"), [("EPSG:4490", 4490), ("EPSG:4979", 4326), ("EPSG:4326+5773", 4326)]
)
def test_a_file_crs_gives_its_horizontal_part(declared: str, epsg: int) -> None:
    assert crs_from_file(declared) == SourceCrs(epsg=epsg)


@pytest.mark.parametrize("declared", ["EPSG:5714", "EPSG:4978"])
def test_a_file_crs_that_is_not_horizontal_is_refused(declared: str) -> None:
    with pytest.raises(InvalidInput, match="not a horizontal CRS") as caught:
        crs_from_file(declared)
    assert caught.value.field == "crs"
