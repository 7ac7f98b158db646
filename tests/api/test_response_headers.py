"""Every answer says ``nosniff``; API answers are not stored by browsers or proxies unless they
set their own caching (tiles)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.users.models import Role
from tests.access_world import World, bearer, login


def test_api_answers_are_not_stored_and_never_sniffed(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.POLICE])
    house = world.objects["houses"]["own"]
    answers = {
        "login": client.post(
            "/api/auth/login", json={"name": world.users[Role.POLICE], "password": "wrong"}
        ),
        "occupants": client.get(
            f"/api/houses/{house}/occupants?purpose=A4403052026110001", headers=bearer(token)
        ),
        "me": client.get("/api/auth/me", headers=bearer(token)),
        "refused by the guard": client.get("/api/aud%00it"),
        "not found": client.get("/api/nothing-here", headers=bearer(token)),
        # OGC lists what the caller may see (they had no caching header at all)
        "ogc landing": client.get("/ogc", headers=bearer(token)),
        "ogc items": client.get("/ogc/collections/buildings/items", headers=bearer(token)),
    }
    for what, response in answers.items():
        assert response.headers["cache-control"] == "no-store", what
        assert response.headers["x-content-type-options"] == "nosniff", what
    assert answers["occupants"].status_code == 200


def test_tiles_keep_their_own_caching_and_health_is_not_private(
    client: TestClient, world: World
) -> None:
    token = login(client, world.users[Role.OFFICER])
    tile = client.get("/tiles/buildings/15/26700/14260.pbf", headers=bearer(token))
    assert tile.headers["cache-control"].startswith("private, max-age=")
    assert tile.headers["x-content-type-options"] == "nosniff"
    health = client.get("/healthz")
    assert "cache-control" not in health.headers
    assert health.headers["x-content-type-options"] == "nosniff"
