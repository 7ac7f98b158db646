"""Organizations (实有单位): credit codes checked, located at a house in scope, employees over
periods, listed on a date with identifiers masked."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.users.models import Role
from tests.access_world import World, bearer, login
from tests.people_world import RESIDENTS, credit_code


def test_register_employ_and_list_on_a_date(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    code = credit_code("91990101MA0000007")
    house = world.objects["houses"]["own"]
    body = {"name": "蛇口小卖部", "credit_code": code.lower(), "kind": "个体", "house_code": house}
    created = client.post("/api/organizations", json=body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["credit_code"] == code and created.json()["house_code"] == house
    again = client.post("/api/organizations", json=body, headers=bearer(token))
    assert again.status_code == 409
    wrong = {**body, "credit_code": code[:-1] + ("1" if code[-1] != "1" else "2")}
    refused = client.post("/api/organizations", json=wrong, headers=bearer(token))
    assert refused.status_code == 422 and "check character" in refused.text
    person = world.objects["people"]["own"]
    employed = client.post(
        f"/api/organizations/{code}/employees",
        json={
            "person_uid": person,
            "since": "2025-01-01",
            "until": "2025-07-01",
            "position": "店员",
        },
        headers=bearer(token),
    )
    assert employed.status_code == 201, employed.text
    assert employed.json()["id_number"] == "110105********0316"

    def names(at: str) -> list[str]:
        response = client.get(
            f"/api/organizations/{code}", params={"at": at}, headers=bearer(token)
        )
        assert response.status_code == 200
        return [e["name"] for e in response.json()["employees"]]

    assert names("2025-03-01") == [RESIDENTS["own"][0]]
    assert names("2025-07-01") == []
    far_house = world.objects["houses"]["other"]
    outside = client.post(
        "/api/organizations",
        json={**body, "credit_code": credit_code("91990101MA0000008"), "house_code": far_house},
        headers=bearer(token),
    )
    assert outside.status_code == 404
