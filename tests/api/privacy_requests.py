"""What the people privacy tests share: a case number as purpose, a search box, a role's token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.users.models import Role
from tests.access_world import World, login

CASE = "A4403052026050001"
BOX = [
    [113.899, 22.499],
    [113.961, 22.499],
    [113.961, 22.511],
    [113.899, 22.511],
    [113.899, 22.499],
]


def token_for(client: TestClient, world: World, role: Role) -> str:
    token = login(client, world.users[role])
    client.cookies.clear()
    return token
