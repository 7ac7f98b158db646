"""Data quality (the four rates against their thresholds) and overdue work, per grid: the
service, ``GET /api/quality``, ``GET /api/grids/{code}/overdue`` and ``gridhouse quality``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli.main import app as cli_app
from gis.errors import InvalidInput, NotFound
from gis.houses.models import House
from gis.people import quality as quality_service
from gis.people.crypto import PeopleCipher
from gis.people.models import Person, PersonCategory
from gis.people.periods import today_in_china
from gis.settings import get_settings
from gis.users.models import Role
from tests.access_world import GRID_OWN, World, bearer, login
from tests.people_world import SINCE, add_person, add_residence, citizen_id

CASE = "A4403052026050001"


def _token(client: TestClient, world: World, role: Role) -> str:
    token = login(client, world.users[role])
    client.cookies.clear()
    return token


def _someone(db: Session, cipher: PeopleCipher, name: str, year: int, seq: int) -> Person:
    born = date(year, 1, 1)
    number = citizen_id("110105", born, seq)
    return add_person(db, cipher, name=name, id_number=number, phone=None, birth=born)


@pytest.fixture
def troubled(db: Session, world: World, cipher: PeopleCipher) -> World:
    """The own grid gets problems: a let room nobody is registered in, a resident without an ID
    number, a departure never deregistered and one deregistered late."""
    own = db.scalars(select(House).where(House.code == world.objects["houses"]["own"])).one()
    second = db.scalars(
        select(House).where(House.code == world.objects["house_own_2"]["own"])
    ).one()
    second.is_rented = True  # let, but nobody registered there today
    nameless = Person(uid=uuid.uuid4(), name="无证者", category=PersonCategory.FLOATING, sex="F")
    db.add(nameless)
    db.flush()
    add_residence(db, person=nameless, house=own)
    leaver = add_person(
        db,
        cipher,
        name="走了",
        id_number=citizen_id("110105", date(1980, 1, 1), 99),
        phone=None,
        birth=date(1980, 1, 1),
    )
    db.flush()
    add_residence(db, person=leaver, house=second, since=SINCE, until=date(2026, 3, 1))
    late = add_person(
        db,
        cipher,
        name="晚销",
        id_number=citizen_id("110105", date(1981, 1, 1), 97),
        phone=None,
        birth=date(1981, 1, 1),
    )
    db.flush()
    deregistered = add_residence(db, person=late, house=second, since=SINCE, until=date(2026, 4, 1))
    deregistered.deregistered_at = datetime(2026, 5, 20, tzinfo=UTC)
    on_time = add_person(
        db,
        cipher,
        name="准时",
        id_number=citizen_id("110105", date(1982, 1, 1), 95),
        phone=None,
        birth=date(1982, 1, 1),
    )
    db.flush()
    gone = add_residence(db, person=on_time, house=second, since=SINCE, until=date(2026, 5, 1))
    gone.deregistered_at = datetime(2026, 5, 3, tzinfo=UTC)
    db.flush()
    return world


def test_the_four_rates_of_a_grid(client: TestClient, troubled: World) -> None:
    token = _token(client, troubled, Role.ADMIN)
    report = client.get("/api/quality", params={"grid": GRID_OWN}, headers=bearer(token)).json()
    assert report["area_code"] == GRID_OWN and report["resident_count"] == 2
    assert report["registration"] == {
        "value": 0.5,
        "threshold": 0.95,
        "meets": False,
        "numerator": 1,
        "denominator": 2,
    }
    assert report["accuracy"]["value"] == 0.5 and report["missing_ids"] == 1
    late = report["late_deregistration"]
    assert (late["numerator"], late["denominator"], late["meets"]) == (2, 3, False)
    # both residents are floating and here since 2024; the own resident holds the permit of
    # tests/events_world.py, the nameless one none
    permits = report["permits"]
    assert (permits["numerator"], permits["denominator"], permits["threshold"]) == (1, 2, 0.85)
    # planners see small counts suppressed, and no rate that would give them away (1 of 2)
    planner = _token(client, troubled, Role.PLANNER)
    suppressed = client.get(
        "/api/quality", params={"grid": GRID_OWN}, headers=bearer(planner)
    ).json()
    assert suppressed["resident_count"] is None and suppressed["missing_ids"] is None
    assert suppressed["registration"] == {
        "value": None,
        "threshold": 0.95,
        "meets": None,
        "numerator": None,
        "denominator": None,
    }
    assert suppressed["accuracy"]["value"] is None and suppressed["floating_share"] is None
    # a division's rates, and what officers may not ask
    division = client.get(
        "/api/quality", params={"division": "990101000000"}, headers=bearer(token)
    )
    assert division.status_code == 200 and division.json()["resident_count"] >= 2
    officer = _token(client, troubled, Role.OFFICER)
    assert (
        client.get(
            "/api/quality", params={"division": "990101000000"}, headers=bearer(officer)
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/quality", params={"grid": "990102001001001"}, headers=bearer(officer)
        ).status_code
        == 404
    )
    assert client.get("/api/quality", headers=bearer(token)).status_code == 422


def test_overdue_work_of_a_grid(
    client: TestClient, troubled: World, db: Session, cipher: PeopleCipher
) -> None:
    # departures still within their 7 days: listed apart (no longer occupants), not late
    second = db.scalars(
        select(House).where(House.code == troubled.objects["house_own_2"]["own"])
    ).one()
    today = today_in_china()
    for seq, (name, end) in enumerate(
        (
            ("三天前", today - timedelta(days=3)),
            ("今天走", today),
            ("明天走", today + timedelta(days=1)),
        )
    ):
        person = _someone(db, cipher, name, 1983, 80 + seq)
        db.flush()
        add_residence(db, person=person, house=second, since=SINCE, until=end)
    db.flush()
    token = _token(client, troubled, Role.OFFICER)
    listing = client.get(f"/api/grids/{GRID_OWN}/overdue", headers=bearer(token)).json()
    assert [(d["name"], d["moved_out"], d["days_late"]) for d in listing["pending_departures"]] == [
        ("三天前", str(today - timedelta(days=3)), -4),
        ("今天走", str(today), -7),
    ]
    assert [(d["name"], d["due_on"]) for d in listing["declarations"]] == [("王自己", "2024-01-04")]
    assert listing["declarations"][0]["id_number"] == "110105********0316"
    assert [(d["name"], d["moved_out"], d["due_on"]) for d in listing["departures"]] == [
        ("走了", "2026-03-01", "2026-03-08")
    ]
    assert listing["departures"][0]["days_late"] > 200
    police = _token(client, troubled, Role.POLICE)
    assert client.get(f"/api/grids/{GRID_OWN}/overdue", headers=bearer(police)).status_code == 422
    other = client.get(f"/api/grids/990102001001001/overdue?purpose={CASE}", headers=bearer(police))
    assert other.status_code == 404


@pytest.fixture
def cli(
    database_url: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch, people_key_file: object
) -> Iterator[CliRunner]:
    monkeypatch.setenv("GRIDHOUSE_DATABASE_URL", database_url.replace("+psycopg", ""))
    monkeypatch.setenv("GRIDHOUSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRIDHOUSE_PEOPLE_KEY_FILE", str(people_key_file))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_quality_command_runs(cli: CliRunner, divisions_loaded: None) -> None:
    """On the shared test database (no grids committed there): the communities' rates; a
    division given in 6 or 9 digits works (it was a ValueError), an unknown one is refused
    (it was an answer of 0 areas)."""
    for division in ("440305", "440305005", "440305000000"):
        result = cli.invoke(cli_app, ["quality", "--division", division])
        assert result.exit_code == 0, result.output
        assert "areas; below a threshold" in result.output and "permits" in result.output
    unknown = cli.invoke(cli_app, ["quality", "--division", "440305005099"])
    assert unknown.exit_code == 1 and isinstance(unknown.exception, NotFound)
    assert str(unknown.exception) == "--division: no division 440305005099"
    malformed = cli.invoke(cli_app, ["quality", "--division", "44030"])
    assert (
        isinstance(malformed.exception, InvalidInput) and malformed.exception.field == "--division"
    )
    overdue = cli.invoke(cli_app, ["quality", "--overdue"])
    assert overdue.exit_code == 0, overdue.output
    assert "overdue in" in overdue.output


def test_a_division_s_rates_may_take_longer_than_a_request_s_limit(
    client: TestClient, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A district's rates read every resident (~9 s for the demo's 694,516): the 5 s limit of
    a request answered 503 "narrow the request". The route lifts it, as a plan's routes do; a
    grid's rates keep the limit. (Here: a limit of 100 ms, and a query that takes 300 ms.)"""

    def slowed(read: Callable[..., Any]) -> Callable[..., Any]:
        def slow(session: Session, **kwargs: Any) -> Any:
            session.execute(text("SELECT pg_sleep(0.3)"))
            return read(session, **kwargs)

        return slow

    for name in ("division_quality", "grid_quality"):
        monkeypatch.setattr(quality_service, name, slowed(getattr(quality_service, name)))
    token = _token(client, world, Role.ADMIN)
    db.execute(text("SET LOCAL statement_timeout = '100ms'"))  # the session the route shares
    division = client.get(
        "/api/quality", params={"division": "990101000000"}, headers=bearer(token)
    )
    assert division.status_code == 200, division.text
    db.execute(text("SET LOCAL statement_timeout = '100ms'"))  # a grid's keep the limit
    grid = client.get("/api/quality", params={"grid": GRID_OWN}, headers=bearer(token))
    assert grid.status_code == 503, grid.text
