"""A small world for access-control tests: divisions, grids, buildings and one user per role.

Everything is made inside the test's rolled-back transaction, under the fictitious province 99,
so it never meets the real divisions other tests load.

Layout (boxes of 0.01° near Shenzhen)::

    county 990101, township 990101001       county 990102
    ┌──────────────┬──────────────┐         ┌──────────────┐
    │ A: grid OWN  │ B: grid OTHER│         │ C: grid FAR  │
    │ building OWN │ building     │         │ building FAR │
    │ (…001001)    │ OTHER (…002) │         │ (990102…)    │
    └──────────────┴──────────────┘         └──────────────┘
    D: an old version of grid OWN (2020–2024), building OLD (community …001001)

The officer holds grid OWN; the police user holds county 990101 (sees OWN, OTHER, OLD).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from api.deps import get_current_user, get_session, presented_token
from api.main import create_app
from api.personal import get_audit_factory
from gis.audit.schemas import Actor
from gis.buildings.models import Building, BuildingStatus
from gis.divisions.models import Division, DivisionLevel
from gis.grids.models import Grid
from gis.settings import Settings
from gis.users import service as users_service
from gis.users.credentials import hash_password
from gis.users.models import Role, User
from gis.users.queries import select_user
from gis.users.schemas import SessionCaller
from gis.users.service import open_session

PASSWORD = "correct horse battery"
TEST_ACTOR = Actor(name="cli:test", role="admin")

BOX_A = box(113.90, 22.50, 113.91, 22.51)
BOX_B = box(113.91, 22.50, 113.92, 22.51)
BOX_C = box(113.95, 22.50, 113.96, 22.51)
BOX_D = box(113.90, 22.52, 113.91, 22.53)

GRID_OWN = "990101001001001"
GRID_OTHER = "990101001002001"
GRID_FAR = "990102001001001"

DIVISIONS = [
    ("990000000000", DivisionLevel.PROVINCE, None),
    ("990100000000", DivisionLevel.CITY, "990000000000"),
    ("990101000000", DivisionLevel.COUNTY, "990100000000"),
    ("990101001000", DivisionLevel.TOWNSHIP, "990101000000"),
    ("990101001001", DivisionLevel.VILLAGE, "990101001000"),
    ("990101001002", DivisionLevel.VILLAGE, "990101001000"),
    ("990102000000", DivisionLevel.COUNTY, "990100000000"),
    ("990102001000", DivisionLevel.TOWNSHIP, "990102000000"),
    ("990102001001", DivisionLevel.VILLAGE, "990102001000"),
]


def check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 over the 24 digits of a house code."""
    total = 0
    for char in body:
        total = (total + int(char)) * 2 % 11
    return "0123456789X"[(12 - total) % 11]


def building_code(community: str, seq: int) -> str:
    body = f"{community}1{seq:06d}00000"
    return body + check_char(body)


def _ewkt(geom: Polygon | MultiPolygon) -> str:
    return f"SRID=4490;{geom.wkt}"


@dataclass
class World:
    """The codes made, by name, and each role's user name."""

    buildings: dict[str, str] = field(default_factory=dict)
    users: dict[Role, str] = field(default_factory=dict)
    objects: dict[str, dict[str, str]] = field(default_factory=dict)
    """Other kinds of object by kind and variant (``own``, ``other``, ``missing``): houses,
    people, residences, grids, organizations (``tests/people_world.py``)."""

    @property
    def missing_building(self) -> str:
        return building_code("990101001001", 999_999)


def _footprint(area: Polygon) -> MultiPolygon:
    x, y = area.centroid.x, area.centroid.y
    return MultiPolygon([box(x - 0.0002, y - 0.0002, x + 0.0002, y + 0.0002)])


def build_world(db: Session) -> World:
    """Divisions, grids (with a retired version), four buildings and five users."""
    db.execute(
        insert(Division),
        [
            {"code": code, "name": f"测试{code}", "level": level, "rank": level.rank,
             "parent_code": parent}
            for code, level, parent in DIVISIONS
        ],
    )  # fmt: skip
    grids = [
        (GRID_OWN, 1, BOX_D, date(2020, 1, 1), date(2024, 1, 1)),
        (GRID_OWN, 2, BOX_A, date(2024, 1, 1), None),
        (GRID_OTHER, 1, BOX_B, date(2024, 1, 1), None),
        (GRID_FAR, 1, BOX_C, date(2024, 1, 1), None),
    ]
    for code, version, area, valid_from, valid_to in grids:
        db.add(
            Grid(code=code, version=version, community_code=code[:12], district_code=code[:6],
                 valid_from=valid_from, valid_to=valid_to, geom=_ewkt(area))
        )  # fmt: skip
    world = World()
    places = {
        "own": ("990101001001", 1, BOX_A),
        "other": ("990101001002", 1, BOX_B),
        "far": ("990102001001", 1, BOX_C),
        "old": ("990101001001", 2, BOX_D),
    }
    for key, (community, seq, area) in places.items():
        code = building_code(community, seq)
        db.add(
            Building(code=code, district_code=community[:6], community_code=community, seq=seq,
                     status=BuildingStatus.ACTIVE, geom=_ewkt(_footprint(area)))
        )  # fmt: skip
        world.buildings[key] = code
    db.flush()
    jurisdictions: dict[Role, dict[str, object]] = {
        Role.OFFICER: {"grid_codes": [GRID_OWN]},
        Role.POLICE: {"division_code": "990101000000"},
        Role.PLANNER: {},
        Role.ADMIN: {},
        Role.AUDITOR: {},
    }
    for role, extra in jurisdictions.items():
        name = f"t_{role}"
        # users.add_user would hash the password each time (0.2 s of argon2): reuse one hash
        db.add(User(name=name, role=role, password_hash=password_hash(), **extra))
        world.users[role] = name
    db.flush()
    return world


@lru_cache(maxsize=1)
def password_hash() -> str:
    """The argon2 hash of :data:`PASSWORD`, computed once per test run."""
    return hash_password(PASSWORD)


def login(client: TestClient, name: str, password: str = PASSWORD, totp: str | None = None) -> str:
    """Log in through the API and return the bearer token (fails the test otherwise)."""
    body: dict[str, str] = {"name": name, "password": password}
    if totp is not None:
        body["totp"] = totp
    response = client.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def session_token(db: Session, name: str) -> str:
    """A bearer token for ``name`` opened as a login opens it, without the password check's
    deliberate argon2 cost (0.2 s a login): for tests about what a token may do, not about
    logging in (tests/api/test_auth.py logs in through the API)."""
    user = select_user(db, name=name)
    assert user is not None, name
    return open_session(db, user=user, client_addr="testclient")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(client: TestClient, token: str, **body: Any) -> Any:
    """``POST /api/residences`` with ``body`` (a tenant declared by the officer unless it says
    otherwise); the response."""
    body.setdefault("kind", "tenant")
    body.setdefault("declared_by", "officer")
    return client.post("/api/residences", json=body, headers=bearer(token))


def share_test_session(app: FastAPI, db: Session) -> None:
    """Requests of ``app`` use the test's rolled-back session: for the route's work and for the
    caller's session lookup (which the service makes on a connection of its own, where rows the
    test has not committed are not visible)."""

    def shared_session() -> Iterator[Session]:
        yield db

    def caller_on_test_session(request: Request) -> SessionCaller:
        token, policy = presented_token(request)
        return users_service.authenticate(db, token=token, policy=policy)

    app.dependency_overrides[get_session] = shared_session
    app.dependency_overrides[get_current_user] = caller_on_test_session


@contextmanager
def client_for(settings: Settings, db: Session, **overrides: object) -> Iterator[TestClient]:
    """Like the ``client`` fixture, with settings changed (``require_totp=True``, …)."""
    app = create_app(settings.model_copy(update=overrides))
    share_test_session(app, db)
    app.dependency_overrides[get_audit_factory] = lambda: sessionmaker(
        bind=db.get_bind(), join_transaction_mode="create_savepoint"
    )
    with TestClient(app) as test_client:
        yield test_client
