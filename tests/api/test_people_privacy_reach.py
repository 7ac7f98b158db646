"""How far a people query reaches: radius and polygon limits, the canary never seen."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.users.models import Role
from tests.access_world import World, bearer
from tests.api.privacy_requests import BOX, CASE, token_for
from tests.people_world import CANARY


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"radius_m": 1001}, "less than or equal to 1000"),
        ({"radius_m": 0}, "greater than or equal to 1"),
        ({"radius_m": 1e-300}, "greater than or equal to 1"),  # was a 500: a circle of nothing
        ({"radius_m": "nan"}, "finite"),
        ({"crs": None}, "name the CRS"),
        ({"lon": 22.505, "lat": 113.905}, "swapped"),
        ({"lon": 2.35, "lat": 48.85}, "outside China"),
        ({"lon": "nan"}, "finite"),
        ({"after": "page-2"}, "cursor"),
        ({"limit": 1001}, "less than or equal to 1000"),
    ],
)
def test_radius_limits(
    client: TestClient, world: World, params: dict[str, str | float | None], reason: str
) -> None:
    query: dict[str, str | float | None] = {
        "lon": 113.905,
        "lat": 22.505,
        "radius_m": 100,
        "crs": "EPSG:4326",
        "purpose": CASE,
    }
    query = {k: v for k, v in {**query, **params}.items() if v is not None}
    response = client.get(
        "/api/occupants", params=query, headers=bearer(token_for(client, world, Role.ADMIN))
    )
    assert response.status_code == 422
    assert reason in response.text


def _ring(points: int, size: float = 0.001) -> list[list[float]]:
    import math

    ring = [
        [
            113.905 + size * math.cos(2 * math.pi * i / points),
            22.505 + size * math.sin(2 * math.pi * i / points),
        ]
        for i in range(points)
    ]
    return [*ring, ring[0]]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"polygon": {"type": "Polygon", "coordinates": [_ring(1200)]}}, "at most 1000"),
        ({"polygon": {"type": "Polygon", "coordinates": [_ring(40, 0.05)]}}, "km²"),
        (
            {
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [113.9, 22.5],
                            [113.91, 22.51],
                            [113.91, 22.5],
                            [113.9, 22.51],
                            [113.9, 22.5],
                        ]
                    ],
                }
            },
            "invalid",
        ),
        (
            {"polygon": {"type": "LineString", "coordinates": [[113.9, 22.5], [113.91, 22.51]]}},
            "Polygon",
        ),
        (
            {
                "polygon": {
                    "type": "Polygon",
                    "coordinates": [
                        [[22.5, 113.9], [22.51, 113.9], [22.51, 113.91], [22.5, 113.9]]
                    ],
                }
            },
            "outside China",
        ),
        ({"polygon": {"type": "Polygon", "coordinates": []}}, "empty"),
        (
            {"grid": "990101001001001", "polygon": {"type": "Polygon", "coordinates": [BOX]}},
            "either",
        ),
        ({}, "either"),
    ],
)
def test_polygon_limits(
    client: TestClient, world: World, body: dict[str, object], reason: str
) -> None:
    token = token_for(client, world, Role.ADMIN)
    response = client.post(
        "/api/occupants/search", json={**body, "purpose": CASE}, headers=bearer(token)
    )
    assert response.status_code == 422, response.text
    assert reason in response.text


def _every_request(world: World) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every personal route, aimed at the canary where it takes an object, and lists that
    would hold it if scope failed."""
    house, far_building = world.objects["houses"]["other"], world.buildings["far"]
    canary, residence = world.objects["people"]["other"], world.objects["residences"]["other"]
    organization = world.objects["organizations"]["other"]
    q = f"?purpose={CASE}"
    return [
        ("GET", f"/api/houses/{house}/occupants{q}", None),
        ("GET", f"/api/houses/{house}/occupants{q}&at=2024-06-01", None),
        ("GET", f"/api/buildings/{far_building}/occupants{q}", None),
        ("GET", f"/api/buildings/{far_building}{q}", None),
        ("GET", f"/api/buildings/{far_building}/houses", None),
        ("GET", f"/api/occupants{q}&lon=113.955&lat=22.505&radius_m=500&crs=EPSG:4490", None),
        (
            "POST",
            "/api/occupants/search",
            {"polygon": {"type": "Polygon", "coordinates": [BOX]}, "purpose": CASE},
        ),
        ("POST", "/api/occupants/search", {"grid": "990102001001001", "purpose": CASE}),
        ("GET", f"/api/people/{canary}{q}", None),
        ("POST", f"/api/people/{canary}/reveal", {"reason": CASE}),
        (
            "POST",
            f"/api/people/{canary}/move",
            {
                "house_code": world.objects["houses"]["own"],
                "moved_on": "2025-01-01",
                "kind": "tenant",
            },
        ),
        ("POST", f"/api/residences/{residence}/deregister", {"moved_out": "2025-01-01"}),
        ("POST", f"/api/residences/{residence}/declaration", None),
        (
            "POST",
            "/api/residences",
            {
                "house_code": world.objects["houses"]["own"],
                "person_uid": canary,
                "moved_in": "2025-01-01",
                "kind": "tenant",
            },
        ),
        ("GET", f"/api/grids/990102001001001/overdue{q}", None),
        ("GET", f"/api/organizations/{organization}{q}", None),
        ("GET", "/api/quality?grid=990102001001001", None),
        ("GET", "/api/buildings?limit=1000", None),
        ("GET", f"/api/search/people?q={CANARY.name[:3]}&purpose={CASE}", None),
        ("GET", f"/api/search/people?q={CANARY.id_number}&purpose={CASE}", None),
        ("GET", "/api/audit?limit=1000", None),
    ]


@pytest.mark.parametrize("role", [Role.OFFICER, Role.POLICE, Role.PLANNER, Role.AUDITOR])
def test_the_canary_never_appears(
    client: TestClient,
    world: World,
    role: Role,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    db: Session,
) -> None:
    """A fake name, ID number and phone planted in a grid the caller may not see: in no response
    body of any route, in no log line, in no audit row."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="httpx2")  # the test client echoes its own requests
    token = token_for(client, world, role)
    bodies = []
    for method, url, body in _every_request(world):
        response = client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code < 500, (url, response.text)
        bodies.append(response.text)
    out, err = capfd.readouterr()
    audit = [
        f"{row.purpose} {row.target_codes}"
        for row in db.scalars(select(AuditEntry).where(AuditEntry.user_name == world.users[role]))
    ]
    haystacks = [*bodies, caplog.text, out, err, *audit]
    for needle in CANARY.needles:
        assert not any(needle in text for text in haystacks), (role, needle)


def test_the_canary_is_there_for_admins(client: TestClient, world: World) -> None:
    """The scan above would pass vacuously if the canary were unreachable: admins see it."""
    token = token_for(client, world, Role.ADMIN)
    canary = world.objects["people"]["other"]
    body = client.post(
        f"/api/people/{canary}/reveal", json={"reason": CASE}, headers=bearer(token)
    ).text
    assert CANARY.id_number in body and CANARY.phone in body and CANARY.name in body
