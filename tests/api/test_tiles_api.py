"""``GET /tiles/{layer}/{z}/{x}/{y}.pbf``: bytes, media type, ETag and cache headers, errors."""

from __future__ import annotations

import mapbox_vector_tile
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.grids.building_counts import FLOATING_PRIMARY
from gis.users.models import Role
from tests.access_world import World, bearer, login

OWN_TILE = "/tiles/{layers}/16/53503/28561.pbf"  # holds the world's "own" building


def test_a_tile_is_a_vector_tile_with_an_etag(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.OFFICER])
    response = client.get(OWN_TILE.format(layers="grids+buildings"), headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert response.headers["cache-control"].startswith("private, max-age=")
    layers = mapbox_vector_tile.decode(response.content)
    assert set(layers) == {"grids", "buildings"}
    codes = {f["properties"]["code"] for f in layers["buildings"]["features"]}
    assert codes == {world.buildings["own"]}

    again = client.get(
        OWN_TILE.format(layers="grids+buildings"),
        headers=bearer(token) | {"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == response.headers["etag"]


def test_scope_changes_the_tile_and_its_etag(client: TestClient, world: World) -> None:
    officer = login(client, world.users[Role.OFFICER])
    url = "/tiles/buildings/16/53512/28561.pbf"  # the "far" building: not the officer's
    seen_by_officer = client.get(url, headers=bearer(officer))
    admin = login(client, world.users[Role.ADMIN])
    seen_by_admin = client.get(url, headers=bearer(admin))
    assert seen_by_officer.content == b""
    assert seen_by_admin.content != b""
    assert seen_by_officer.headers["etag"] != seen_by_admin.headers["etag"]


def test_bad_tiles_are_refused(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.ADMIN])
    assert client.get("/tiles/people/10/0/0.pbf", headers=bearer(token)).status_code == 404
    response = client.get("/tiles/buildings/3/9/0.pbf", headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["x"]
    assert client.get("/tiles/buildings/30/0/0.pbf", headers=bearer(token)).status_code == 422
    auditor = login(client, world.users[Role.AUDITOR])
    assert client.get("/tiles/grids/10/0/0.pbf", headers=bearer(auditor)).status_code == 403
    client.cookies.clear()
    assert client.get("/tiles/grids/10/0/0.pbf").status_code == 401


def test_the_floating_layer_counts_through_the_kept_rows_and_keeps_them(
    client: TestClient, world: World, db: Session
) -> None:
    """A request of the layer counts the stale rows of the tile's buildings again and stores
    them, each equal to a count from scratch."""
    db.execute(text("UPDATE building_counts SET counted_generation = NULL"))
    token = login(client, world.users[Role.ADMIN])
    # the zoom-10 tile holding the "own" building (zoom 16 column and row, 6 bits fewer)
    response = client.get("/tiles/floating/10/835/446.pbf", headers=bearer(token))
    assert response.status_code == 200
    cells = mapbox_vector_tile.decode(response.content)["floating_h3"]["features"]
    assert sum(cell["properties"]["count"] for cell in cells) > 0
    kept, from_scratch = db.execute(
        text(
            "SELECT c.counts[:at], (SELECT count(*) FROM houses h "
            "  JOIN residences r ON r.house_uid = h.uid AND r.is_primary "
            "   AND r.period @> current_date "
            "  JOIN people p ON p.uid = r.person_uid AND p.category = 'floating' "
            "  WHERE h.building_uid = b.uid AND h.status = 'active') "
            "FROM buildings b JOIN building_counts c ON c.building_uid = b.uid "
            "WHERE b.code = :code AND c.counted_generation = c.generation"
        ),
        {"code": world.buildings["own"], "at": FLOATING_PRIMARY},
    ).one()
    assert kept == from_scratch > 0
