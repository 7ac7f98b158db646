"""Issue 4's people parts: reveal with a reason, police purpose, query limits, the canary scan,
audit completeness (failed and denied reads included, in their own transaction)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.main import create_app
from gis.audit.models import AuditEntry
from gis.audit.service import verify_chain
from gis.db import make_engine, make_session_factory, transaction
from gis.people.periods import today_in_china
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, bearer, login
from tests.people_world import CANARY, MISSING_UID, RESIDENTS, citizen_id

CASE = "A4403052026050001"
BOX = [
    [113.899, 22.499],
    [113.961, 22.499],
    [113.961, 22.511],
    [113.899, 22.511],
    [113.899, 22.499],
]


def _token(client: TestClient, world: World, role: Role) -> str:
    token = login(client, world.users[role])
    client.cookies.clear()
    return token


def test_reveal_needs_a_reason_and_is_audited(
    client: TestClient, world: World, db: Session
) -> None:
    person = world.objects["people"]["own"]
    name, id_number, phone = RESIDENTS["own"]
    for role in (Role.OFFICER, Role.POLICE, Role.ADMIN):
        token = _token(client, world, role)
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
    token = _token(client, world, Role.ADMIN)
    body = client.get(f"/api/people/{person}", headers=bearer(token)).text
    assert id_number not in body and phone not in body
    assert "110105********0316" in body and "138****0001" in body


def test_the_audit_row_says_which_date_was_read_and_keeps_a_refused_request_s_purpose(
    client: TestClient, world: World, db: Session
) -> None:
    """ "Who lived here in 2025" and "who lives here" made the same row; a request refused by
    its parameters' checks (a radius too large) lost the purpose it stated."""
    police = _token(client, world, Role.POLICE)
    house = world.objects["houses"]["own"]
    for at in ("2025-01-01", None):
        query = {"purpose": CASE} | ({"at": at} if at else {})
        response = client.get(f"/api/houses/{house}/occupants", params=query,
                              headers=bearer(police))  # fmt: skip
        assert response.status_code == 200, response.text
    wide = client.get(
        "/api/occupants",
        params={"lon": 113.905, "lat": 22.505, "radius_m": 5000, "crs": "EPSG:4490",
                "purpose": CASE},
        headers=bearer(police),
    )  # fmt: skip
    assert wide.status_code == 422
    rows = db.execute(
        select(AuditEntry.action, AuditEntry.outcome, AuditEntry.target_codes, AuditEntry.purpose)
        .where(AuditEntry.user_name == world.users[Role.POLICE])
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(row) for row in rows][-3:] == [
        ("occupants.house", "ok", [house, "at:2025-01-01"], CASE),
        ("occupants.house", "ok", [house], CASE),
        ("occupants.radius", "failed", [], CASE),
    ]


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
    police = _token(client, world, Role.POLICE)
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
    assert read(None, _token(client, world, Role.OFFICER)) == 200  # officers need not
    # a refused purpose is not repeated in the answer: it often names the person looked for
    joiner = "&" if "?" in url else "?"
    refused = (
        client.post(url, json={**(body or {}), "purpose": "查张三 110"}, headers=bearer(police))
        if method == "POST"
        else client.get(f"{url}{joiner}purpose=查张三 110", headers=bearer(police))
    )
    assert refused.status_code == 422 and "张三" not in refused.text
    assert "7 characters and no case number is too short" in refused.text


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
        "/api/occupants", params=query, headers=bearer(_token(client, world, Role.ADMIN))
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
    token = _token(client, world, Role.ADMIN)
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


def _reveal(client: TestClient, token: str, uid: str, reason: str) -> Any:
    return client.post(f"/api/people/{uid}/reveal", json={"reason": reason}, headers=bearer(token))


def test_officers_reveal_only_people_living_in_their_grids_or_just_gone(
    client: TestClient, world: World
) -> None:
    officer = _token(client, world, Role.OFFICER)
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
    police = _token(client, world, Role.POLICE)
    assert _reveal(client, police, people["long ago"], CASE).status_code == 200


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
    token = _token(client, world, role)
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
    token = _token(client, world, Role.ADMIN)
    canary = world.objects["people"]["other"]
    body = client.post(
        f"/api/people/{canary}/reveal", json={"reason": CASE}, headers=bearer(token)
    ).text
    assert CANARY.id_number in body and CANARY.phone in body and CANARY.name in body


def test_every_personal_read_leaves_one_audit_row(
    client: TestClient, world: World, db: Session
) -> None:
    """N reads → N rows, whatever the outcome: ok, not found, denied (purpose), failed (422)."""
    police = _token(client, world, Role.POLICE)
    planner = _token(client, world, Role.PLANNER)
    house, missing = world.objects["houses"]["own"], world.objects["houses"]["missing"]
    calls = [
        (police, f"/api/houses/{house}/occupants?purpose={CASE}", 200, "ok"),
        (police, f"/api/houses/{missing}/occupants?purpose={CASE}", 404, "not_found"),
        (
            police,
            f"/api/houses/{world.objects['houses']['other']}/occupants?purpose={CASE}",
            404,
            "not_found",
        ),
        (police, f"/api/houses/{house}/occupants", 422, "denied"),
        (police, f"/api/houses/{house}/occupants?purpose={CASE}&at=tomorrow", 422, "failed"),
        (police, f"/api/houses/12345/occupants?purpose={CASE}", 422, "failed"),
        (planner, f"/api/houses/{house}/occupants", 403, "denied"),
        (
            police,
            f"/api/occupants?lon=113.905&lat=22.505&radius_m=300&crs=EPSG:4490&purpose={CASE}",
            200,
            "ok",
        ),
        (police, f"/api/people/{world.objects['people']['own']}?purpose={CASE}", 200, "ok"),
    ]
    before = db.scalar(select(func.max(AuditEntry.id))) or 0
    for token, url, status, _ in calls:
        assert client.get(url, headers=bearer(token)).status_code == status, url
    rows = db.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.id > before,
            AuditEntry.action.startswith("occupants.") | AuditEntry.action.startswith("people."),
        )
        .order_by(AuditEntry.id)
    ).all()
    assert [row.outcome for row in rows] == [outcome for *_, outcome in calls]
    assert rows[0].row_count == 1 and rows[0].purpose == CASE and rows[0].role == "police"
    assert rows[7].query_geom is not None  # the circle searched


def test_occupant_reads_commit_their_audit_row_before_they_answer(
    committed_world: tuple[str, World], people_key_file: Path, tmp_path: Path
) -> None:
    """As in production (the routes commit their own transaction): once an occupants answer is
    back, its audit row is committed, seen from another connection, and the chain verifies."""
    url, world = committed_world
    settings = Settings(database_url=url, data_dir=tmp_path, people_key_file=people_key_file)
    house, building = world.objects["houses"]["own"], world.buildings["own"]
    polygon = {"type": "Polygon", "coordinates": [BOX]}
    calls: list[tuple[str, str, dict[str, object] | None, str]] = [
        ("GET", f"/api/houses/{house}/occupants?purpose={CASE}", None, "occupants.house"),
        ("GET", f"/api/buildings/{building}/occupants?purpose={CASE}", None, "occupants.building"),
        (
            "GET",
            f"/api/occupants?lon=113.905&lat=22.505&radius_m=300&crs=EPSG:4490&purpose={CASE}",
            None,
            "occupants.radius",
        ),
        (
            "POST",
            "/api/occupants/search",
            {"polygon": polygon, "purpose": CASE},
            "occupants.search",
        ),
        (
            "POST",
            "/api/occupants/search",
            {"grid": world.objects["grids"]["own"], "purpose": CASE},
            "occupants.search",
        ),
    ]
    newest = "SELECT action, outcome, row_count, purpose, user_name FROM audit_log ORDER BY id DESC"
    with (
        TestClient(create_app(settings)) as client,
        psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as other,
    ):
        police = _token(client, world, Role.POLICE)
        for method, path, body, action in calls:
            response = client.request(method, path, json=body, headers=bearer(police))
            assert response.status_code == 200, (path, response.text)
            returned = response.json()["returned"]
            row = other.execute(newest).fetchone()
            assert row == (action, "ok", returned, CASE, world.users[Role.POLICE]), path
    engine = make_engine(url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        report = verify_chain(session)
    engine.dispose()
    assert report.is_intact, report.problem


def test_failed_reads_are_audited_although_their_transaction_rolls_back(
    committed_world: tuple[str, World], people_key_file: Path, tmp_path: Path
) -> None:
    url, world = committed_world
    settings = Settings(database_url=url, data_dir=tmp_path, people_key_file=people_key_file)
    with TestClient(create_app(settings)) as client:
        police = _token(client, world, Role.POLICE)
        officer = _token(client, world, Role.OFFICER)
        house, missing = world.objects["houses"]["own"], world.objects["houses"]["missing"]
        assert (
            client.get(
                f"/api/houses/{missing}/occupants?purpose={CASE}", headers=bearer(police)
            ).status_code
            == 404
        )
        assert (
            client.get(f"/api/houses/{house}/occupants", headers=bearer(police)).status_code == 422
        )
        assert (
            client.get(
                f"/api/houses/{house}/occupants?purpose={CASE}", headers=bearer(police)
            ).status_code
            == 200
        )
        # a change that fails half way leaves nothing behind but its audit row
        person = world.objects["people"]["own"]
        moved = client.post(
            f"/api/people/{person}/move",
            headers=bearer(officer),
            json={"house_code": house, "moved_on": "2025-01-01", "kind": "tenant"},
        )
        assert moved.status_code == 409  # already lives there
    engine = make_engine(url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        rows = session.execute(
            select(AuditEntry.user_name, AuditEntry.action, AuditEntry.outcome)
            .where(AuditEntry.action.in_(["occupants.house", "residences.move"]))
            .order_by(AuditEntry.id)
        ).all()
        periods = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("t_police", "occupants.house", "not_found"),
        ("t_police", "occupants.house", "denied"),
        ("t_police", "occupants.house", "ok"),
        ("t_officer", "residences.move", "failed"),
    ]
    assert periods >= 6  # and the logins
    assert date.today().year >= 2024
