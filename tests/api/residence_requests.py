"""Requests the residence tests share: a new person, a departure, a move, a house's occupants."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.access_world import bearer
from tests.people_world import citizen_id


def person_body(name: str, seq: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "id_number": citizen_id("110105", date(1991, 4, 2), seq), **extra}


def deregister_request(client: TestClient, token: str, uid: str, moved_out: str) -> Any:
    path = f"/api/residences/{uid}/deregister"
    return client.post(path, json={"moved_out": moved_out}, headers=bearer(token))


def occupant_names_on(client: TestClient, token: str, house: str, at: date) -> set[str]:
    response = client.get(
        f"/api/houses/{house}/occupants", params={"at": at.isoformat()}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return {
        occupant["name"]
        for building in response.json()["buildings"]
        for house_ in building["houses"]
        for occupant in house_["occupants"]
    }


def move_request(client: TestClient, token: str, person: str, **body: Any) -> Any:
    body.setdefault("kind", "tenant")
    return client.post(f"/api/people/{person}/move", json=body, headers=bearer(token))
