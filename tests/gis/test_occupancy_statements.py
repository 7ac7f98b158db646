"""The occupant page statement is cached per shape: one statement serves every user of a
jurisdiction, never a user of another one, and a cached statement never shows one caller the
people of another caller's scope."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import JSON, Enum, Select, bindparam, literal_column, select, text
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.driver_sql import DRIVER_DIALECT, check_driver_binds
from gis.people import occupancy
from gis.people import occupancy_queries as sql
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World


def _police(name: str, prefix: str) -> Scope:
    return Scope(user_name=name, role=Role.POLICE, division_prefix=prefix)


def test_one_statement_serves_a_jurisdiction_and_no_other() -> None:
    radius = sql.AreaKind.RADIUS
    first = sql.occupants_statement(kind=radius, scope=_police("a", "990101"))
    assert sql.occupants_statement(kind=radius, scope=_police("b", "990101")) is first
    others = [
        sql.occupants_statement(kind=radius, scope=_police("a", "990102")),
        sql.occupants_statement(kind=radius, scope=Scope.system("a")),
        sql.occupants_statement(
            kind=radius,
            scope=Scope(user_name="a", role=Role.OFFICER, grid_codes=frozenset({"1" * 15})),
        ),
        sql.occupants_statement(kind=radius, scope=_police("a", "990101"), has_after=True),
        sql.occupants_statement(kind=radius, scope=_police("a", "990101"), has_house=True),
        sql.occupants_statement(kind=sql.AreaKind.POLYGON, scope=_police("a", "990101")),
    ]
    assert all(other is not first for other in others)
    assert len({id(other) for other in others}) == len(others)


def _people(page: sql.OccupantPage) -> set[str]:
    document = json.loads(page.json)
    return {
        person["uid"]
        for building in document["buildings"]
        for house in building["houses"]
        for person in house["occupants"]
    }


def test_a_cached_statement_never_shows_another_scopes_people(db: Session, world: World) -> None:
    # the canary lives in the far building, outside the police user's county
    canary = world.objects["people"]["other"]
    lon, lat = db.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM buildings "
             "WHERE code = :code) s"),
        {"code": world.buildings["far"]},
    ).one()  # fmt: skip
    admin = Scope.system("admin")
    police = _police("police", "990101")

    def people(scope: Scope) -> set[str]:
        result = occupancy.radius_occupants(
            db, scope=scope, lon=lon, lat=lat, radius_m=100.0, crs="EPSG:4490",
            at=today_in_china(),
        )  # fmt: skip
        return _people(result.page)

    assert canary in people(admin)
    assert canary not in people(police)
    assert people(police) == set()
    assert canary in people(admin)


def test_statements_go_to_the_driver_only_with_parameters_it_binds_itself() -> None:
    """The page's SQL is handed to psycopg as it is; a parameter type SQLAlchemy would convert
    on the way (an enum, JSON) would be bound wrongly there, so such a statement is refused."""
    for kind in sql.AreaKind:
        for scope in (
            Scope.system("a"),
            _police("a", "990101"),
            Scope(user_name="a", role=Role.OFFICER, grid_codes=frozenset({"1" * 15, "2" * 15})),
        ):
            statement = sql.occupants_statement(kind=kind, scope=scope, has_after=True)
            check_driver_binds(statement.compile(dialect=DRIVER_DIALECT))
    for converted in (Enum(Role), JSON()):
        refused: Select[tuple[Any]] = select(literal_column("1")).where(
            bindparam("x", type_=converted).is_not(None)
        )
        with pytest.raises(TypeError, match="'x'"):
            check_driver_binds(refused.compile(dialect=DRIVER_DIALECT))
