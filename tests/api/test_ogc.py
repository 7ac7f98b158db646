"""``/ogc``: OGC API Features documents, role scope, paging, CRS and bbox, bad parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.orm import Session

from gis.ogc.documents import CONFORMANCE
from gis.settings import Settings, checked_public_url
from gis.users.models import Role
from tests.access_world import (
    GRID_FAR,
    GRID_OTHER,
    GRID_OWN,
    World,
    bearer,
    client_for,
    login,
)

EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


Get = Callable[[Role, str], Response]


@pytest.fixture
def get(client: TestClient, world: World) -> Get:
    """GET as a role, logged in once per role and test (argon2 is slow on purpose)."""
    tokens: dict[Role, str] = {}

    def fetch(role: Role, url: str) -> Response:
        if role not in tokens:
            tokens[role] = login(client, world.users[role])
            client.cookies.clear()
        return client.get(url, headers=bearer(tokens[role]))

    return fetch


def _ids(body: dict[str, Any]) -> set[str]:
    return {feature["id"] for feature in body["features"]}


def test_landing_conformance_and_collections(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    landing = client.get("/ogc", headers=bearer(token)).json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["conformance"].endswith("/ogc/conformance")
    assert rels["data"].endswith("/ogc/collections")
    assert rels["service-desc"].endswith("/openapi.json")

    conformance = client.get("/ogc/conformance", headers=bearer(token)).json()
    assert set(conformance["conformsTo"]) == set(CONFORMANCE)
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in CONFORMANCE

    collections = client.get("/ogc/collections?f=json", headers=bearer(token)).json()
    assert [c["id"] for c in collections["collections"]] == ["buildings", "grids", "divisions"]
    buildings = collections["collections"][0]
    assert EPSG4490 in buildings["crs"] and CRS84 in buildings["crs"]
    # an officer's extent is that of their own buildings (scanned); an admin's is estimated
    # from the table's statistics (whatever this test database holds), or absent without them
    officer = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    mine = client.get("/ogc/collections/buildings", headers=bearer(officer)).json()
    [[min_lon, min_lat, max_lon, max_lat]] = mine["extent"]["spatial"]["bbox"]
    assert 113.90 < min_lon < max_lon < 113.91 and 22.50 < min_lat < max_lat < 22.51
    if "extent" in buildings:
        assert len(buildings["extent"]["spatial"]["bbox"][0]) == 4
    items = next(link for link in buildings["links"] if link["rel"] == "items")
    assert items["type"] == "application/geo+json"
    assert client.get("/ogc/collections/nothing", headers=bearer(token)).status_code == 404


def test_auditors_see_no_collection(get: Get, world: World) -> None:
    listing = get(Role.AUDITOR, "/ogc/collections")
    assert listing.status_code == 200
    assert listing.json()["collections"] == []
    refused = get(Role.AUDITOR, "/ogc/collections/buildings/items")
    assert refused.status_code == 403


VISIBLE = {
    Role.OFFICER: {"own"},
    Role.POLICE: {"own", "other", "old"},
    Role.PLANNER: {"own", "other", "far", "old"},
    Role.ADMIN: {"own", "other", "far", "old"},
}


def test_buildings_are_scoped_like_the_rest_routes(get: Get, world: World) -> None:
    far_code, missing_code = world.buildings["far"], world.missing_building
    for role, visible in VISIBLE.items():
        response = get(role, "/ogc/collections/buildings/items")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        assert response.headers["content-crs"] == f"<{CRS84}>"
        body = response.json()
        assert _ids(body) == {world.buildings[key] for key in visible}, role
        assert body["numberMatched"] == body["numberReturned"] == len(visible)
        assert set(body["features"][0]["properties"]) >= {"code", "status", "community_code"}
        # an item outside the scope answers exactly like a missing one
        far = get(role, f"/ogc/collections/buildings/items/{far_code}")
        missing = get(role, f"/ogc/collections/buildings/items/{missing_code}")
        assert missing.status_code == 404
        assert far.status_code == (200 if "far" in visible else 404), role
        if far.status_code == 404:
            assert far.text.replace(far_code, "?") == missing.text.replace(missing_code, "?")


def test_next_links_walk_every_feature_once(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    url: str | None = "/ogc/collections/buildings/items?limit=1"
    seen: list[str] = []
    while url is not None:
        body = client.get(url, headers=bearer(token)).json()
        assert body["numberReturned"] == len(body["features"]) == 1
        # counted on the first page only (OGC API Features makes it optional)
        assert body.get("numberMatched") == (4 if not seen else None)
        seen.extend(_ids(body))
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert "limit=1" in links["self"]
        url = links.get("next")
    assert seen == sorted(world.buildings.values())


PUBLIC = "https://grid.example.org/gis"


def _hrefs(document: Any) -> list[str]:
    """Every ``href`` in a document, however deep."""
    if isinstance(document, dict):
        own = [document["href"]] if isinstance(document.get("href"), str) else []
        return own + [href for value in document.values() for href in _hrefs(value)]
    if isinstance(document, list):
        return [href for value in document for href in _hrefs(value)]
    return []


def test_links_come_from_the_public_url_never_from_the_host_header(
    settings: Settings, db: Session, world: World
) -> None:
    """Every link was built from ``request.base_url``: whatever Host a client sent (or a proxy
    rewrote) came back in the landing page, the collections and the paging links. With
    GRIDHOUSE_PUBLIC_URL set, all of them start with it."""
    spoofed = {"host": "evil.example"}
    public = checked_public_url(PUBLIC + "/")
    with client_for(settings, db, public_url=public) as client:
        headers = {**bearer(login(client, world.users[Role.ADMIN])), **spoofed}
        client.cookies.clear()
        own = world.buildings["own"]
        paths = [
            "/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/buildings",
            "/ogc/collections/grids/items?limit=1", f"/ogc/collections/buildings/items/{own}",
        ]  # fmt: skip
        hrefs = [
            href for path in paths for href in _hrefs(client.get(path, headers=headers).json())
        ]
        landing = {
            link["rel"]: link["href"]
            for link in client.get("/ogc", headers=headers).json()["links"]
        }
        # the next links walk every building from the public address (its path prefix stripped,
        # as the proxy in front does)
        url: str | None = "/ogc/collections/buildings/items?limit=1"
        seen: list[str] = []
        while url is not None:
            body = client.get(url, headers=headers).json()
            seen.extend(_ids(body))
            hrefs.extend(_hrefs(body))
            following = {link["rel"]: link["href"] for link in body["links"]}.get("next")
            url = following.removeprefix(PUBLIC) if following else None
    assert seen == sorted(world.buildings.values())
    ogc_links = [href for href in hrefs if not href.startswith("http://www.opengis.net/")]
    assert len(ogc_links) > 15
    assert all(href.startswith(f"{PUBLIC}/ogc") or href == f"{PUBLIC}/openapi.json"
               for href in ogc_links), ogc_links  # fmt: skip
    assert landing == {
        "self": f"{PUBLIC}/ogc", "service-desc": f"{PUBLIC}/openapi.json",
        "conformance": f"{PUBLIC}/ogc/conformance", "data": f"{PUBLIC}/ogc/collections",
    }  # fmt: skip
    assert not any("evil.example" in href for href in hrefs)


def test_links_follow_the_request_without_a_public_url(client: TestClient, world: World) -> None:
    """Unset, the links are the request's own (uvicorn believes a proxy's headers only from
    GRIDHOUSE_TRUSTED_PROXIES)."""
    token = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    landing = client.get("/ogc", headers=bearer(token)).json()
    assert {link["href"] for link in landing["links"]} == {
        "http://testserver/ogc", "http://testserver/openapi.json",
        "http://testserver/ogc/conformance", "http://testserver/ogc/collections",
    }  # fmt: skip


def test_crs_axis_order_and_bbox_crs(get: Get, world: World) -> None:
    own = world.buildings["own"]
    plain = get(Role.ADMIN, f"/ogc/collections/buildings/items/{own}").json()
    lon, lat = plain["geometry"]["coordinates"][0][0][0]
    assert 113.90 < lon < 113.91 and 22.50 < lat < 22.51
    assert {link["rel"] for link in plain["links"]} == {"self", "collection"}

    response = get(Role.ADMIN, f"/ogc/collections/buildings/items/{own}?crs={EPSG4490}")
    assert response.headers["content-crs"] == f"<{EPSG4490}>"
    first = response.json()["geometry"]["coordinates"][0][0][0]
    assert first == pytest.approx([lat, lon], abs=1e-7)  # EPSG:4490 is latitude first

    # box A (the own building only), latitude first in EPSG:4326
    box = "22.499,113.899,22.511,113.909"
    found = get(
        Role.ADMIN, f"/ogc/collections/buildings/items?bbox={box}&bbox-crs={EPSG4326}"
    ).json()
    assert _ids(found) == {own}
    # the same numbers read as CRS84 (longitude first) put a latitude at 113.9: refused
    assert get(Role.ADMIN, f"/ogc/collections/buildings/items?bbox={box}").status_code == 422


BAD_QUERIES = [
    ("limit=10001", "limit"),
    ("limit=0", "limit"),
    ("crs=EPSG:3857", "crs"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=113.9,22.5,nan,22.6", "bbox"),
    ("bbox-crs=" + EPSG4326, "bbox-crs"),
    ("f=html", "f"),
    ("datetime=2026-01-01", "datetime"),  # buildings have no time
    ("after=garbage", "after"),  # not an id: was an empty last page
    ("after=%27%3B%20drop", "after"),
    ("offset=5", "offset"),  # not a parameter of the API: was the first page again
]


def test_bad_parameters_name_the_field(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.ADMIN])
    client.cookies.clear()
    for query, field in BAD_QUERIES:
        response = client.get(f"/ogc/collections/buildings/items?{query}", headers=bearer(token))
        assert response.status_code == 422, (query, response.text)
        locations = [detail["loc"] for detail in response.json()["detail"]]
        assert any(location[-1] == field for location in locations), (query, locations)
    bad_code = client.get("/ogc/collections/buildings/items/12345", headers=bearer(token))
    assert bad_code.status_code == 422
    assert bad_code.json()["detail"][0]["loc"] == ["featureId"]


def test_grids_today_and_on_a_date(get: Get, world: World) -> None:
    today = get(Role.PLANNER, "/ogc/collections/grids/items").json()
    assert _ids(today) >= {GRID_OWN, GRID_OTHER, GRID_FAR}
    versions = {f["id"]: f["properties"]["version"] for f in today["features"]}
    assert versions[GRID_OWN] == 2
    past = get(Role.PLANNER, "/ogc/collections/grids/items?datetime=2022-06-01T00:00:00Z").json()
    assert {f["id"]: f["properties"]["version"] for f in past["features"]} == {GRID_OWN: 1}
    interval = get(Role.PLANNER, "/ogc/collections/grids/items?datetime=2022-01-01/2023-01-01")
    assert interval.status_code == 422
    for compact in ("20220601", "2022-W22-3"):  # ISO 8601 but not RFC 3339
        refused = get(Role.PLANNER, f"/ogc/collections/grids/items?datetime={compact}")
        assert refused.status_code == 422 and "RFC 3339" in refused.text, compact
    one = get(Role.OFFICER, f"/ogc/collections/grids/items/{GRID_FAR}")
    assert one.status_code == 200 and one.json()["id"] == GRID_FAR


def test_one_grid_on_a_date_as_the_items_answer(get: Get, world: World) -> None:
    """The item route answered today's version whatever ``datetime`` said (a grid that did
    not exist yet too), and took unknown parameters silently; the items route did neither."""
    item = f"/ogc/collections/grids/items/{GRID_OWN}"
    past = get(Role.PLANNER, f"{item}?datetime=2022-06-01T00:00:00Z")
    assert past.status_code == 200 and past.json()["properties"]["version"] == 1
    assert "datetime=2022-06-01" in past.json()["links"][0]["href"]
    assert get(Role.PLANNER, item).json()["properties"]["version"] == 2
    before = get(Role.PLANNER, f"/ogc/collections/grids/items/{GRID_OTHER}?datetime=2020-01-01")
    assert before.status_code == 404, before.text
    for query, field in (("datetime=2022-01-01/2023-01-01", "datetime"), ("date=2022-06-01",
                         "date"), ("offset=3", "offset")):  # fmt: skip
        refused = get(Role.PLANNER, f"{item}?{query}")
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["detail"][0]["loc"][-1] == field
    own = world.buildings["own"]
    timeless = get(Role.ADMIN, f"/ogc/collections/buildings/items/{own}?datetime=2022-06-01")
    assert timeless.status_code == 422 and "has no time" in timeless.text


@pytest.mark.usefixtures("divisions_loaded")
def test_divisions_with_a_boundary(get: Get) -> None:
    body = get(Role.OFFICER, "/ogc/collections/divisions/items?limit=50").json()
    assert "440305000000" in _ids(body)  # Nanshan district, from shenzhen-districts.geojson
    assert all(feature["geometry"] is not None for feature in body["features"])
    nanshan = get(Role.OFFICER, "/ogc/collections/divisions/items/440305").json()
    assert nanshan["properties"]["name"] == "南山区"
    assert nanshan["properties"]["level"] == "county"
