"""``GET /api/dashboard`` and the ``/dashboard`` page against a known world of events: open
events by kind, overdue events and the closure rate per grid and in total, as each role may see
them (planners: counts 1-4 and the rates made from them suppressed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis.events.models import EventKind, EventStatus
from gis.users.models import Role
from tests.access_world import GRID_FAR, GRID_OTHER, GRID_OWN, World, bearer, session_token
from tests.events_world import add_event

K, S = EventKind, EventStatus
ZERO = {kind.value: 0 for kind in EventKind}


def _add_known_events(db: Session, world: World) -> None:
    """Besides the world's open dispute in OWN and in FAR (tests/events_world.py):

    OWN: a fire risk reported 2 days ago (24 h: overdue), a hazard closed, a dispute rejected,
    an "other" dispatched. FAR: 5 public-order events handled, reported 3 days ago (overdue),
    5 hazards closed. OTHER: nothing.
    """
    now = datetime.now(UTC)
    own, far = world.buildings["own"], world.buildings["far"]
    for kind, status, age in ((K.RENTED_FIRE_RISK, S.REPORTED, 2), (K.SAFETY_HAZARD, S.CLOSED, 5),
                              (K.DISPUTE, S.REJECTED, 1), (K.OTHER, S.DISPATCHED, 1)):  # fmt: skip
        add_event(db, building_code=own, grid_code=GRID_OWN, kind=kind, status=status,
                  reported_at=now - timedelta(days=age))  # fmt: skip
    for kind, status in [(K.PUBLIC_ORDER, S.HANDLED)] * 5 + [(K.SAFETY_HAZARD, S.CLOSED)] * 5:
        add_event(db, building_code=far, grid_code=GRID_FAR, kind=kind, status=status,
                  reported_at=now - timedelta(days=3))  # fmt: skip
    db.flush()


def _dashboard(client: TestClient, db: Session, world: World, role: Role, query: str = "") -> Any:
    token = bearer(session_token(db, world.users[role]))
    response = client.get(f"/api/dashboard{query}", headers=token)
    assert response.status_code == 200, response.text
    return response.json()


def _events_of(body: Any) -> dict[str, tuple[Any, ...]]:
    return {
        grid["code"]: (grid["counts"]["open_events"], grid["counts"]["overdue_events"],
                       grid["counts"]["accepted_events"], grid["counts"]["closed_events"],
                       grid["open_events_by_kind"], grid["closure_rate"])
        for grid in body["grids"]
    }  # fmt: skip


def test_the_dashboard_api_counts_events_per_grid_for_an_admin(
    client: TestClient, db: Session, world: World
) -> None:
    _add_known_events(db, world)
    body = _dashboard(client, db, world, Role.ADMIN)
    events = _events_of(body)
    assert events[GRID_OWN] == (
        3, 1, 2, 1, ZERO | {"dispute": 1, "rented_fire_risk": 1, "other": 1}, 0.5)  # fmt: skip
    assert events[GRID_FAR] == (6, 5, 10, 5, ZERO | {"dispute": 1, "public_order": 5}, 0.5)
    assert events[GRID_OTHER] == (0, 0, 0, 0, ZERO, None)
    assert body["open_events_by_kind"] == ZERO | {
        "dispute": 2, "rented_fire_risk": 1, "other": 1, "public_order": 5}  # fmt: skip
    totals = body["totals"]
    assert (totals["open_events"], totals["overdue_events"]) == (9, 6)
    assert body["closure_rate"] == round(6 / 12, 4)
    only_far = _dashboard(client, db, world, Role.ADMIN, "?division=990102000000")
    assert [grid["code"] for grid in only_far["grids"]] == [GRID_FAR]
    assert only_far["closure_rate"] == 0.5 and only_far["totals"]["open_events"] == 6


def test_each_role_sees_the_event_figures_of_its_own_grids(
    client: TestClient, db: Session, world: World
) -> None:
    _add_known_events(db, world)
    officer = _events_of(_dashboard(client, db, world, Role.OFFICER))
    assert list(officer) == [GRID_OWN] and officer[GRID_OWN][0] == 3
    police = _dashboard(client, db, world, Role.POLICE)
    assert {grid["code"] for grid in police["grids"]} == {GRID_OWN, GRID_OTHER}
    assert police["totals"]["open_events"] == 3 and police["closure_rate"] == 0.5
    planner = _dashboard(client, db, world, Role.PLANNER)
    events = _events_of(planner)
    # OWN: every count from 1 to 4 and the rate made of them suppressed; FAR: shown, but its
    # 6 open events beside 5 public-order ones would give the hidden dispute away (6 - 5 = 1)
    assert events[GRID_OWN] == (None, None, None, None, ZERO | {
        "dispute": None, "rented_fire_risk": None, "other": None}, None)  # fmt: skip
    assert events[GRID_FAR] == (None, 5, 10, 5, ZERO | {"dispute": None, "public_order": 5}, 0.5)
    assert planner["open_events_by_kind"]["dispute"] is None  # 2 in total
    assert planner["has_overdue"] is False
    assert all(grid["overdue_declarations"] is None for grid in planner["grids"])
    auditor = bearer(session_token(db, world.users[Role.AUDITOR]))
    assert client.get("/api/dashboard", headers=auditor).status_code == 403


def test_bad_division_is_refused_naming_the_field(
    client: TestClient, db: Session, world: World
) -> None:
    token = bearer(session_token(db, world.users[Role.POLICE]))
    wrong = client.get("/api/dashboard?division=9901", headers=token)
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][-1] == "division"
    outside = client.get("/api/dashboard?division=990102000000", headers=token)
    assert outside.status_code == 404
    # a division nobody has is not an area without data, for any role
    for role in (Role.ADMIN, Role.PLANNER):
        caller = bearer(session_token(db, world.users[role]))
        for route in ("/api/dashboard", "/api/quality"):
            unknown = client.get(f"{route}?division=999999999999", headers=caller)
            assert unknown.status_code == 404, (role, route, unknown.text)
            assert unknown.json()["detail"][0]["loc"] == ["division"]
            assert "no division 999999999999" in unknown.text


def test_the_dashboard_page_draws_the_event_charts_and_the_closure_rate(
    client: TestClient, db: Session, world: World
) -> None:
    _add_known_events(db, world)
    token = bearer(session_token(db, world.users[Role.ADMIN]))
    page = client.get("/dashboard?lang=en&division=990102000000", headers=token)
    assert page.status_code == 200
    html = page.text
    for needle in ('id="gh-chart-events"', 'id="gh-chart-closure"', 'data-kpi="closure_rate"',
                   f'<tr data-grid="{GRID_FAR}">', '<td data-rate="closure">50.0%</td>',
                   '"openByKind": {"safety_hazard": 0, "rented_fire_risk": 0, "dispute": 1, '
                   '"public_order": 5, "other": 0}'):  # fmt: skip
        assert needle in html, needle


def test_a_planners_page_says_why_a_figure_is_hidden(
    client: TestClient, db: Session, world: World
) -> None:
    """A grid's count of 1 to 4 is "<5"; a figure hidden for giving one away (FAR's 6 open
    events beside 5 public-order ones) is "–": it was "<5" too, which was false."""
    _add_known_events(db, world)
    token = bearer(session_token(db, world.users[Role.PLANNER]))
    html = client.get("/dashboard?lang=en&division=990102000000", headers=token).text
    far = html[html.index(f'<tr data-grid="{GRID_FAR}">') :]
    far = far[: far.index("</tr>")]
    derived = (
        '<span data-hidden data-i18n-title="sum_hidden_title" '
        'title="Hidden: 1 to 4, or it would give away a grid&#x27;s count of 1 to 4">–</span>'
    )
    assert f"<td>{derived}</td><td>5</td>" in far  # open events hidden, overdue shown
    small = (
        '<span data-hidden data-i18n-title="suppressed_title" '
        'title="1 to 4: hidden to protect the people counted">&lt;5</span>'
    )
    assert far.count(f"<td>{small}</td>") == 4  # households, residents, houses, rentals: 1 to 4
    # the cards are totals: hidden for being 1 to 4 or for what they would give away
    card = html[html.index('data-kpi="residents"') :]
    assert card[: card.index("</div>")].endswith(derived)
