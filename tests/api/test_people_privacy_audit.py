"""Every personal read is audited: failed and denied ones too, committed before the answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.main import create_app
from gis.audit.models import AuditEntry
from gis.audit.service import verify_chain
from gis.db import make_engine, make_session_factory, transaction
from gis.settings import Settings
from gis.users.models import Role
from tests.access_world import World, bearer
from tests.api.privacy_requests import BOX, CASE, token_for


def test_the_audit_row_says_which_date_was_read_and_keeps_a_refused_request_s_purpose(
    client: TestClient, world: World, db: Session
) -> None:
    """ "Who lived here in 2025" and "who lives here" made the same row; a request refused by
    its parameters' checks (a radius too large) lost the purpose it stated."""
    police = token_for(client, world, Role.POLICE)
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


def test_every_personal_read_leaves_one_audit_row(
    client: TestClient, world: World, db: Session
) -> None:
    """N reads → N rows, whatever the outcome: ok, not found, denied (purpose), failed (422)."""
    police = token_for(client, world, Role.POLICE)
    planner = token_for(client, world, Role.PLANNER)
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
        police = token_for(client, world, Role.POLICE)
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
        police = token_for(client, world, Role.POLICE)
        officer = token_for(client, world, Role.OFFICER)
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
