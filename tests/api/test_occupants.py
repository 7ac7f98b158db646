"""Occupants by radius, polygon and grid on demo-shaped data (real Nanshan footprints, estimated
houses, generated residents) equal a brute-force computation in Python; and the limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer
from shapely.geometry import box, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings.importing import import_buildings
from gis.buildings.reading import open_footprints
from gis.crs import parse_crs, transform_geometries
from gis.db import transaction
from gis.demo import NANSHAN_FILE
from gis.grids.models import Grid
from gis.houses.service import estimate_houses
from gis.people.crypto import PeopleCipher
from gis.people.populate import populate
from gis.settings import Settings
from gis.users.models import Role, User
from tests.access_world import World, bearer, client_for, login, password_hash

WINDOW = (113.915, 22.540, 113.920, 22.545)  # EPSG:4490: an urban village beside estates
AT = date(2025, 6, 1)
PURPOSE = "A4403052026050001"
EDGE_M = 0.05  # buildings this close to the circle's edge are left out of the comparison


@dataclass(frozen=True)
class DemoShaped:
    footprints: dict[str, Any]  # building code → shapely geometry (EPSG:4490)
    occupants: dict[str, set[tuple[str, str]]]  # building code → {(house code, person uid)}
    admin: str
    police: str


def _subset(shared_data: Path, tmp_path: Path) -> Path:
    frame = pyogrio.read_dataframe(shared_data / NANSHAN_FILE, layer="buildings")
    stored = transform_geometries(
        shapely.make_valid(np.asarray(frame.geometry.values)), parse_crs("GCJ02")
    )
    inside = shapely.within(shapely.point_on_surface(stored), box(*WINDOW))
    path = tmp_path / "window.gpkg"
    pyogrio.write_dataframe(frame[inside], path, layer="buildings")
    return path


@pytest.fixture
def client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """Many pages in a row: a rate limit that never bites."""
    with client_for(settings, db, rate_limit_burst=100_000, rate_limit_per_minute=100_000) as fast:
        yield fast


@pytest.fixture
def demo_shaped(
    db: Session, factory: sessionmaker[Session], cipher: PeopleCipher, shared_data: Path,
    tmp_path: Path, nanshan_communities: list[str], client: TestClient,
) -> DemoShaped:  # fmt: skip
    source = open_footprints(
        _subset(shared_data, tmp_path), layer="buildings", crs=parse_crs("GCJ02")
    )
    import_buildings(factory, source=source, community_code=None, repair=True,
                     rejects_file=tmp_path / "rejects.csv")  # fmt: skip
    with transaction(factory) as session:
        estimate_houses(session, communities=nanshan_communities)
        report = populate(
            session, cipher=cipher, communities=nanshan_communities,
            divisions_dir=shared_data / "divisions", seed=7, as_of=date(2026, 11, 1),
        )  # fmt: skip
    assert report.people > 3000
    nanshan_police = {"division_code": "440305000000"}
    for name, role, extra in (
        ("t_admin_n", Role.ADMIN, {}),
        ("t_police_n", Role.POLICE, nanshan_police),
    ):
        db.add(User(name=name, role=role, password_hash=password_hash(), **extra))
    db.flush()
    rows = db.execute(
        text("SELECT code, ST_AsBinary(geom) FROM buildings WHERE community_code = ANY(:c)"),
        {"c": nanshan_communities},
    ).all()
    footprints = {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}
    occupants: dict[str, set[tuple[str, str]]] = {code: set() for code in footprints}
    lived = db.execute(
        text("SELECT b.code, h.code, r.person_uid::text, lower(r.period), upper(r.period) "
             "FROM residences r JOIN houses h ON h.uid = r.house_uid "
             "JOIN buildings b ON b.uid = h.building_uid"),
    ).all()  # fmt: skip
    for building, house, person, start, end in lived:
        if start <= AT and (end is None or end > AT):
            occupants[building].add((house, person))
    admin = login(client, "t_admin_n")
    police = login(client, "t_police_n")
    client.cookies.clear()
    return DemoShaped(footprints, occupants, admin, police)


def _collect(
    client: TestClient, token: str, request: dict[str, Any], *, limit: int = 1000
) -> set[tuple[str, str]]:
    """Every (house code, person uid) of every page."""
    found: set[tuple[str, str]] = set()
    after = None
    for _ in range(1000):
        if "polygon" in request or "grid" in request:
            body = {
                **request,
                "limit": limit,
                "after": after,
                "at": AT.isoformat(),
                "purpose": PURPOSE,
            }
            response = client.post("/api/occupants/search", json=body, headers=bearer(token))
        else:
            params = {**request, "limit": limit, "at": AT.isoformat(), "purpose": PURPOSE}
            if after:
                params["after"] = after
            response = client.get("/api/occupants", params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        rows = {(h["code"], o["uid"]) for b in page["buildings"] for h in b["houses"]
                for o in h["occupants"]}  # fmt: skip
        assert len(rows) == page["returned"] and not rows & found
        found |= rows
        after = page["next"]
        if after is None:
            return found
    raise AssertionError("paging did not end")


def _within(
    footprints: dict[str, Any], lon: float, lat: float, radius_m: float
) -> tuple[set[str], int]:
    """Buildings whose footprint comes within radius_m of the point (geodesic), and how many
    were too close to the edge to call."""
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m")
    to_local = Transformer.from_crs("EPSG:4490", local, always_xy=True)
    inside, edge = set(), 0
    for code, geom in footprints.items():
        distance = shapely.transform(
            geom, lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1]))
        ).distance(shapely.Point(0, 0))
        if abs(distance - radius_m) < EDGE_M:
            edge += 1
        elif distance <= radius_m:
            inside.add(code)
    return inside, edge


def test_radius_queries_equal_brute_force(client: TestClient, demo_shaped: DemoShaped) -> None:
    rng = np.random.default_rng(11)
    checked = 0
    for radius in (30.0, 80.0, 150.0):
        for _ in range(2):
            lon = float(rng.uniform(WINDOW[0], WINDOW[2]))
            lat = float(rng.uniform(WINDOW[1], WINDOW[3]))
            inside, edge = _within(demo_shaped.footprints, lon, lat, radius)
            assert edge == 0, "a footprint lies on the circle's edge: pick another seed"
            expected = set().union(*(demo_shaped.occupants[c] for c in inside)) if inside else set()
            request = {"lon": lon, "lat": lat, "radius_m": radius, "crs": "EPSG:4490"}
            assert _collect(client, demo_shaped.admin, request) == expected
            checked += len(expected)
    assert checked > 100
    # pages of 37 hold the same people; the police of Nanshan see them too, purpose stated
    assert _collect(client, demo_shaped.police, request, limit=37) == expected


def test_polygon_and_grid_queries_equal_brute_force(
    client: TestClient, demo_shaped: DemoShaped, db: Session
) -> None:
    x0, y0, x1, y1 = WINDOW
    triangle = shapely.Polygon(
        [(x0 + 0.001, y0 + 0.001), (x1 - 0.0005, y0 + 0.0015), (x0 + 0.002, y1 - 0.001)]
    )
    inside = {c for c, g in demo_shaped.footprints.items() if g.intersects(triangle)}
    expected = set().union(*(demo_shaped.occupants[c] for c in inside))
    assert expected
    assert (
        _collect(client, demo_shaped.admin, {"polygon": mapping(triangle), "crs": "EPSG:4490"})
        == expected
    )
    # a grid: buildings whose point on surface lies in it (its version valid on AT)
    cell = box(x0, y0, (x0 + x1) / 2, y1)
    community = db.scalar(text("SELECT community_code FROM buildings ORDER BY code LIMIT 1"))
    db.add(Grid(code=f"{community}901", community_code=community, district_code=community[:6],
                valid_from=date(2020, 1, 1), geom=f"SRID=4490;{cell.wkt}"))  # fmt: skip
    db.flush()
    in_grid = {c for c, g in demo_shaped.footprints.items() if cell.covers(g.point_on_surface())}
    expected = set().union(*(demo_shaped.occupants[c] for c in in_grid))
    assert expected
    assert _collect(client, demo_shaped.admin, {"grid": f"{community}901"}) == expected


def _square(x: float, y: float, side: float) -> dict[str, Any]:
    return mapping(box(x, y, x + side, y + side))


@pytest.mark.parametrize(
    ("polygon", "crs", "field", "message"),
    [
        # a JSON integer too large for a float (Python's json reads it whole): OverflowError
        (
            {"type": "Polygon", "coordinates": [[[113.9, 22.5], [10**400, 22.5],
                                                 [113.9, 22.6], [113.9, 22.5]]]},
            "EPSG:4326", "polygon", "not a valid GeoJSON polygon",
        ),
        # NaN (Python's json reads it): the ring does not close, which GEOS raised as a 500
        (
            {"type": "Polygon", "coordinates": [[[113.92, float("nan")], [113.921, 22.53],
                                                 [113.921, 22.531], [113.92, 22.53]]]},
            "EPSG:4326", "polygon", "not a valid GeoJSON polygon: ",
        ),
        # UTM zone 50N's origin is lon 112.5 lat 0, at sea: checked once converted to EPSG:4490
        (_square(0, 0, 100), "EPSG:32650", "polygon", "outside China once converted"),
        # not horizontal CRSs: a height (pyproj swapped the axes), geocentric, geographic 3D
        (_square(113.9, 22.5, 0.001), "EPSG:5714", "crs", "not a horizontal CRS"),
        (_square(113.9, 22.5, 0.001), "EPSG:4978", "crs", "not a horizontal CRS"),
        (_square(113.9, 22.5, 0.001), "EPSG:4979", "crs", "not a horizontal CRS"),
    ],
)  # fmt: skip
def test_a_polygon_search_refuses_what_it_cannot_place_in_china(
    client: TestClient, world: World, polygon: dict[str, Any], crs: str, field: str, message: str
) -> None:
    admin = bearer(login(client, world.users[Role.ADMIN]))
    response = client.post(  # json.dumps writes NaN as JavaScript does (httpx refuses to)
        "/api/occupants/search",
        content=json.dumps({"polygon": polygon, "crs": crs}),
        headers=admin | {"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    (detail,) = response.json()["detail"]
    assert detail["loc"] == [field] and message in detail["msg"]


def test_a_polygon_search_takes_a_projected_polygon_in_china(
    client: TestClient, world: World
) -> None:
    admin = bearer(login(client, world.users[Role.ADMIN]))
    # 100 m in CGCS2000 / 3-degree Gauss-Kruger CM 114E, in Shenzhen
    body = {"polygon": _square(500_000, 2_490_000, 100), "crs": "EPSG:4547"}
    response = client.post("/api/occupants/search", json=body, headers=admin)
    assert response.status_code == 200, response.text
