"""Organizations (实有单位): credit codes checked, located at a house in scope, employees over
periods, listed on a date with identifiers masked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.clock import today_in_china
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


def test_employments_are_past_after_birth_and_never_twice(client: TestClient, world: World) -> None:
    token = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    code = credit_code("91990101MA0000009")
    house = world.objects["houses"]["own"]
    body = {"name": "南山五金店", "credit_code": code, "kind": "个体", "house_code": house}
    assert client.post("/api/organizations", json=body, headers=bearer(token)).status_code == 201
    person = world.objects["people"]["own"]  # born 1990-03-07

    def employ(since: str, until: str | None = None) -> Any:
        request = {"person_uid": person, "since": since} | ({"until": until} if until else {})
        url = f"/api/organizations/{code}/employees"
        return client.post(url, json=request, headers=bearer(token))

    assert employ("2025-01-01", "2025-07-01").status_code == 201
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    for since, until, status, field, reason in (
        (tomorrow, None, 422, "since", "an employment in the future"),
        ("1980-01-01", None, 422, "since", "before the person's birth (1990-03-07)"),
        ("2025-03-01", None, 409, "since", "already employed here over [2025-01-01, 2025-07-01)"),
        ("2024-12-01", "2025-01-02", 409, "since", "overlaps [2024-12-01, 2025-01-02)"),
        ("2025-09-01", "2025-08-01", 422, "until", "not after the start of the employment"),
    ):
        refused = employ(since, until)
        assert refused.status_code == status, (since, refused.text)
        assert refused.json()["detail"][0]["loc"] == [field]
        assert reason in refused.json()["detail"][0]["msg"], refused.text
    assert employ("2025-07-01").status_code == 201  # right after the first: no overlap
    listed = client.get(f"/api/organizations/{code}", params={"at": "2025-08-01"},
                        headers=bearer(token)).json()["employees"]  # fmt: skip
    assert len(listed) == 1


def test_descriptors_are_one_line_and_audit_rows_hold_the_stored_code(
    client: TestClient, world: World, db: Session
) -> None:
    """An organization's kind with a control character is refused like its name (it was
    stored); a blank kind is none. Audit rows name the credit code in its stored form however
    it was typed (lower case, a trailing space), so an auditor's search finds every request."""
    token = login(client, world.users[Role.OFFICER])
    client.cookies.clear()
    code = credit_code("91990101MA0000009")
    house = world.objects["houses"]["own"]
    body = {"name": "蛇口茶餐厅", "credit_code": code.lower(), "house_code": house}
    bell = client.post(
        "/api/organizations", json={**body, "kind": "\u0007bell"}, headers=bearer(token)
    )
    assert bell.status_code == 422
    assert bell.json()["detail"][0]["loc"][-1] == "kind" and "control" in bell.text
    created = client.post("/api/organizations", json={**body, "kind": "  "}, headers=bearer(token))
    assert created.status_code == 201 and created.json()["kind"] is None
    read = client.get(f"/api/organizations/{code.lower()}%20", headers=bearer(token))
    assert read.status_code == 200
    rows = db.execute(
        select(AuditEntry.outcome, AuditEntry.target_codes)
        .where(AuditEntry.action.startswith("organizations."))
        .order_by(AuditEntry.id)
    ).all()
    # the refused body never reached the route: its row has no targets
    assert [tuple(row) for row in rows] == [("failed", []), ("ok", [code, house]), ("ok", [code])]
