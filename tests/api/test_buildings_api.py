"""``/api/buildings``: GeoJSON pages with keyset paging, one building, its houses, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.buildings.importing import import_buildings
from gis.buildings.reading import open_footprints
from gis.codes import format_code
from gis.crs import parse_crs
from gis.houses.service import estimate_houses
from gis.users.models import Role
from gis.users.service import add_user
from tests.access_world import PASSWORD, login


@pytest.fixture
def client(client: TestClient, db: Session) -> TestClient:
    """The API client, logged in as an administrator (scopes are tested in the access matrix)."""
    add_user(
        db, name="admin.buildings", role=Role.ADMIN, password=PASSWORD, actor=Scope.system().actor
    )
    client.headers["Authorization"] = f"Bearer {login(client, 'admin.buildings')}"
    return client


# Tests take ``nanshan`` before ``client``: logging in sets the login transaction's statement
# timeout (SET LOCAL), which here, on the test's one rolled-back transaction, would then bound
# the import and the houses' COPY too (5 s; seen exceeded once on a busy machine).
@pytest.fixture
def nanshan(
    factory: sessionmaker[Session],
    db: Session,
    nanshan_communities: list[str],
    shared_data: Path,
    tmp_path: Path,
) -> int:
    source = open_footprints(
        shared_data / "shenzhen-nanshan.gpkg", layer="buildings", crs=parse_crs("GCJ02")
    )
    summary = import_buildings(
        factory, source=source, community_code=None, repair=False, rejects_file=tmp_path / "r.csv"
    )
    estimate_houses(db, communities=nanshan_communities[:1])  # houses for one community
    return summary.imported


def test_pages_cover_every_building_once(nanshan: int, client: TestClient) -> None:
    seen: list[str] = []
    url = "/api/buildings?limit=2000"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/geo+json")
        body = response.json()
        assert body["type"] == "FeatureCollection"
        assert body["numberReturned"] == len(body["features"])
        seen += [feature["id"] for feature in body["features"]]
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
        assert (body["next"] is None) == (link is None)
    assert len(seen) == len(set(seen)) == nanshan
    assert seen == sorted(seen)


def test_bbox_selects_by_location(nanshan: int, client: TestClient) -> None:
    inside = client.get("/api/buildings?bbox=113.90,22.49,113.96,22.55&limit=10000").json()
    assert inside["numberReturned"] == nanshan
    feature = inside["features"][0]
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    assert 113.9 < lon < 113.96 and 22.49 < lat < 22.55  # EPSG:4326 order lon, lat
    outside = client.get("/api/buildings?bbox=100,30,100.1,30.1").json()
    assert outside["features"] == [] and outside["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=22,113,23,114", "bbox"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("limit=10001", "limit"),
        ("limit=0", "limit"),
    ],
)
def test_bad_queries_name_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/buildings?{query}")
    assert response.status_code == 422
    assert field in str(response.json()["detail"][0]["loc"])


def test_a_bbox_given_max_before_min_says_so(client: TestClient) -> None:
    """A box with its minimum greater than its maximum was asked whether longitude and latitude
    were swapped, of a box whose values were all in range."""
    for query, said in (
        ("bbox=113.9,22.5,113.8,22.6", "min_lon 113.9 is greater than max_lon 113.8"),
        ("bbox=113.8,22.6,113.9,22.5", "min_lat 22.6 is greater than max_lat 22.5"),
    ):
        response = client.get(f"/api/buildings?{query}")
        assert response.status_code == 422
        (detail,) = response.json()["detail"]
        assert said in detail["msg"] and "swapped" not in detail["msg"], detail


def test_one_building_with_houses(nanshan: int, client: TestClient) -> None:
    code = client.get("/api/buildings?limit=1").json()["features"][0]["id"]  # first community
    grouped = f"{code[:12]}-{code[12]}-{code[13:19]}-{code[19:24]}-{code[24]}"
    body = client.get(f"/api/buildings/{grouped}").json()
    assert body["id"] == code and body["type"] == "Feature"
    assert body["properties"]["status"] == "active"
    assert body["history"] == [] and body["lineage"] == []
    assert body["houses"] and all(h["code"][:19] == code[:19] for h in body["houses"])
    houses = client.get(f"/api/buildings/{code}/houses").json()
    assert [h["unit"] for h in houses] == list(range(1, len(houses) + 1))
    assert all(h["is_estimated"] for h in houses)
    # a page at a time: the Link header gives the next, which ends with the last house
    assert len(houses) >= 3
    walked, url = [], f"/api/buildings/{code}/houses?limit=2"
    while url:
        page = client.get(url)
        assert page.status_code == 200 and len(page.json()) <= 2
        walked += [h["unit"] for h in page.json()]
        link = page.headers.get("link", "")
        url = link[1 : link.index(">")] if link else ""
    assert walked == [h["unit"] for h in houses]
    for bad in ("limit=0", "after=zzz", "after=-1"):
        refused = client.get(f"/api/buildings/{code}/houses?{bad}")
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][-1] in bad


def test_bad_and_unknown_codes(nanshan: int, client: TestClient) -> None:
    code = client.get("/api/buildings?limit=1").json()["features"][0]["id"]
    typo = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
    response = client.get(f"/api/buildings/{typo}")
    assert response.status_code == 422
    assert "check character" in response.json()["detail"][0]["msg"]
    assert client.get("/api/buildings/123").status_code == 422
    superscript = client.get(f"/api/buildings/{code[:23]}²{code[24]}")  # was a 500
    assert superscript.status_code == 422
    assert superscript.json()["detail"][0]["msg"] == "position 24 must be a digit 0-9"
    full_width = code.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert client.get(f"/api/buildings/{full_width}").json()["id"] == code
    wrong_check = code[:24] + ("0" if code[24] != "0" else "1")  # a code no `next` gave
    for cursor in ("zzz", "'; drop", code[:-1], wrong_check):  # was an empty page, or the first
        refused = client.get("/api/buildings", params={"after": cursor})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["after"]
    unknown = format_code(community_code=code[:12], structure_class=1, seq=999999)
    response = client.get(f"/api/buildings/{unknown}")
    assert response.status_code == 404
