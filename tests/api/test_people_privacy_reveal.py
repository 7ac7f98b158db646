"""Revealing a person takes a reason, police reads a purpose; officers reveal only their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.audit.models import AuditEntry
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World, bearer
from tests.api.privacy_requests import CASE, token_for
from tests.people_world import MISSING_UID, RESIDENTS, citizen_id


def test_reveal_needs_a_reason_and_is_audited(
    client: TestClient, world: World, db: Session
) -> None:
    person = world.objects["people"]["own"]
    name, id_number, phone = RESIDENTS["own"]
    for role in (Role.OFFICER, Role.POLICE, Role.ADMIN):
        token = token_for(client, world, role)
        assert (
            client.post(f"/api/people/{person}/reveal", json={}, headers=bearer(token)).status_code
            == 422
        )
        short = client.post(
            f"/api/people/{person}/reveal", json={"reason": "look"}, headers=bearer(token)
        )
        assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["reason"]
        unseen = client.post(
            f"/api/people/{person}/reveal", json={"reason": "\u200b" * 12}, headers=bearer(token)
        )
        assert unseen.status_code == 422 and unseen.json()["detail"][0]["loc"] == ["reason"]
        shown = client.post(
            f"/api/people/{person}/reveal",
            json={"reason": "door-to-door check of room 101"},
            headers=bearer(token),
        )
        assert shown.status_code == 200
        assert shown.json() == {
            "uid": person,
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "birth_date": "1990-03-07",
        }
        rows = db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.user_name == world.users[role],
                AuditEntry.action == "people.reveal",
            )
            .order_by(AuditEntry.id)
        ).all()
        assert [(r.outcome, r.purpose) for r in rows] == [
            ("failed", None),
            ("denied", "look"),
            ("denied", "\u200b" * 12),  # as it was sent: the auditor sees what was refused
            ("ok", "door-to-door check of room 101"),
        ]
        assert rows[-1].target_codes == [person] and rows[-1].row_count == 1
    # every other response masks them
    token = token_for(client, world, Role.ADMIN)
    body = client.get(f"/api/people/{person}", headers=bearer(token)).text
    assert id_number not in body and phone not in body
    assert "110105********0316" in body and "138****0001" in body


POLICE_READS = [
    ("GET", "/api/houses/{house}/occupants", None),
    ("GET", "/api/buildings/{building}/occupants", None),
    ("GET", "/api/occupants?lon=113.905&lat=22.505&radius_m=100&crs=EPSG:4490", None),
    ("POST", "/api/occupants/search", {"grid": "990101001001001"}),
    ("GET", "/api/people/{person}", None),
    ("GET", "/api/grids/990101001001001/overdue", None),
    ("GET", "/api/organizations/{organization}", None),
]


def _url(template: str, world: World) -> str:
    return template.format(
        house=world.objects["houses"]["own"],
        building=world.buildings["own"],
        person=world.objects["people"]["own"],
        organization=world.objects["organizations"]["own"],
    )


@pytest.mark.parametrize(("method", "template", "body"), POLICE_READS)
def test_police_state_a_purpose(
    client: TestClient, world: World, method: str, template: str, body: dict[str, str] | None
) -> None:
    police = token_for(client, world, Role.POLICE)
    url = _url(template, world)

    def read(purpose: str | None, token: str = police) -> int:
        if method == "POST":
            payload = {**(body or {}), **({"purpose": purpose} if purpose else {})}
            return client.post(url, json=payload, headers=bearer(token)).status_code
        joiner = "&" if "?" in url else "?"
        full = url + (f"{joiner}purpose={purpose}" if purpose else "")
        return client.get(full, headers=bearer(token)).status_code

    assert read(None) == 422
    assert read("because") == 422  # neither a case number nor 10 characters
    assert read("\u200b" * 12) == 422  # zero-width spaces: nothing an auditor could read
    assert read("\u202e\u2066because\u2069") == 422  # direction marks do not count either
    assert read(CASE) == 200
    assert read("2026-0501") == 200
    assert read("a burglary on the 3rd floor") == 200
    assert read(None, token_for(client, world, Role.OFFICER)) == 200  # officers need not
    # a refused purpose is not repeated in the answer: it often names the person looked for
    joiner = "&" if "?" in url else "?"
    refused = (
        client.post(url, json={**(body or {}), "purpose": "查张三 110"}, headers=bearer(police))
        if method == "POST"
        else client.get(f"{url}{joiner}purpose=查张三 110", headers=bearer(police))
    )
    assert refused.status_code == 422 and "张三" not in refused.text
    assert "7 characters and no case number is too short" in refused.text


def _reveal(client: TestClient, token: str, uid: str, reason: str) -> Any:
    return client.post(f"/api/people/{uid}/reveal", json={"reason": reason}, headers=bearer(token))


def test_officers_reveal_only_people_living_in_their_grids_or_just_gone(
    client: TestClient, world: World
) -> None:
    officer = token_for(client, world, Role.OFFICER)
    today = today_in_china()
    left = {"long ago": date(2024, 6, 1), "lately": today - timedelta(days=10)}
    people = {}
    for seq, (when, moved_out) in enumerate(left.items(), start=71):
        person = {"name": f"旧{seq}", "id_number": citizen_id("110105", date(1988, 5, 6), seq)}
        body = {"house_code": world.objects["houses"]["own"], "moved_in": "2023-01-05",
                "kind": "tenant", "declared_by": "officer", "person": person}  # fmt: skip
        registered = client.post("/api/residences", json=body, headers=bearer(officer))
        assert registered.status_code == 201, registered.text
        gone = client.post(
            f"/api/residences/{registered.json()['uid']}/deregister",
            json={"moved_out": moved_out.isoformat()},
            headers=bearer(officer),
        )
        assert gone.status_code == 200, gone.text
        people[when] = registered.json()["person_uid"]
    reason = "door-to-door check of room 101"
    # left in 2024: the grid's history, no longer the officer's to reveal (as if unknown)
    old = _reveal(client, officer, people["long ago"], reason)
    missing = _reveal(client, officer, MISSING_UID, reason)
    assert old.status_code == missing.status_code == 404
    said = old.json()["detail"][0]["msg"].replace(people["long ago"], "?")
    assert said == missing.json()["detail"][0]["msg"].replace(MISSING_UID, "?")
    # left ten days ago (a late deregistration, a follow-up): still revealed
    recent = _reveal(client, officer, people["lately"], reason)
    assert recent.status_code == 200 and recent.json()["name"] == "旧72"
    # police of the division reveal the old resident: time travel is theirs
    police = token_for(client, world, Role.POLICE)
    assert _reveal(client, police, people["long ago"], CASE).status_code == 200
