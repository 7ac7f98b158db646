"""The circle an occupant radius query records in its audit row."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from gis.people.occupancy import MAX_RADIUS_M, circle

GEOD = Geod(ellps="GRS80")


@pytest.mark.parametrize("lat", [18.2, 22.53, 39.9, 53.5])
@pytest.mark.parametrize(
    ("radius_m", "tolerance_m"), [(1.0, 1e-6), (100.0, 0.002), (MAX_RADIUS_M, 0.15)]
)
def test_circle_follows_the_geodesic_circle(
    lat: float, radius_m: float, tolerance_m: float
) -> None:
    polygon = circle(113.93, lat, radius_m)
    assert polygon.is_valid
    vertices = shapely.get_coordinates(polygon.exterior)[:-1]
    assert len(vertices) == 32
    azimuths = np.linspace(0.0, 360.0, 32, endpoint=False)
    lons, lats, _ = GEOD.fwd(np.full(32, 113.93), np.full(32, lat), azimuths, np.full(32, radius_m))
    apart = GEOD.inv(vertices[:, 0], vertices[:, 1], lons, lats)[2]
    assert float(np.max(apart)) < tolerance_m
    # every vertex at the radius from the centre, measured on the ellipsoid
    distance = GEOD.inv(np.full(32, 113.93), np.full(32, lat), vertices[:, 0], vertices[:, 1])[2]
    assert np.allclose(distance, radius_m, atol=tolerance_m)
