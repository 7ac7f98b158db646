"""Scopes in SQL, masking, and the aggregate-only response base."""

from __future__ import annotations

import doctest
from datetime import date
from types import ModuleType

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

import gis.access.masking
import gis.access.scope
import gis.audit.chain
from gis.access.masking import mask_id_number, mask_phone, suppress_small_count
from gis.access.schemas import AggregateModel, personal_field_paths
from gis.access.scope import Scope, division_prefix
from gis.buildings.models import Building
from gis.errors import Forbidden, InvalidInput
from gis.grids.models import Grid
from gis.houses.models import House, HouseUse
from gis.users.models import Role
from gis.users.queries import select_user
from tests.access_world import GRID_FAR, GRID_OTHER, GRID_OWN, World


@pytest.mark.parametrize("module", [gis.access.masking, gis.access.scope, gis.audit.chain])
def test_doctests(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module, globs={**vars(module)}, raise_on_error=False)
    assert failures == 0


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("440000000000", "44"),
        ("440300000000", "4403"),
        ("440305000000", "440305"),
        ("440305007000", "440305007"),
        ("440305100000", "440305100"),
        ("440305007003", "440305007003"),
    ],
)
def test_division_prefix_strips_zero_groups_per_level(code: str, prefix: str) -> None:
    assert division_prefix(code) == prefix


def test_division_prefix_refuses_malformed_codes() -> None:
    with pytest.raises(ValueError, match="12-digit"):
        division_prefix("4403")


def _visible_buildings(
    db: Session, world: World, scope: Scope, *, on: date | None = None
) -> set[str]:
    codes = set(world.buildings.values())
    statement = select(Building.code).where(
        Building.code.in_(codes),
        scope.buildings_clause(on=on),
    )
    found = set(db.scalars(statement))
    return {key for key, code in world.buildings.items() if code in found}


def _scope(db: Session, world: World, role: Role) -> Scope:
    user = select_user(db, name=world.users[role])
    assert user is not None
    return Scope.for_user(user)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.OFFICER, {"own"}),
        (Role.POLICE, {"own", "other", "old"}),
        (Role.ADMIN, {"own", "other", "far", "old"}),
        (Role.PLANNER, set()),
        (Role.AUDITOR, set()),
    ],
)
def test_buildings_clause_per_role(
    db: Session, world: World, role: Role, visible: set[str]
) -> None:
    assert _visible_buildings(db, world, _scope(db, world, role)) == visible


def test_officer_scope_follows_the_grid_version_valid_on_the_date(
    db: Session, world: World
) -> None:
    officer = _scope(db, world, Role.OFFICER)
    assert _visible_buildings(db, world, officer, on=date(2022, 6, 1)) == {"old"}
    assert _visible_buildings(db, world, officer, on=date(2019, 6, 1)) == set()
    assert _visible_buildings(db, world, officer, on=date(2025, 6, 1)) == {"own"}


def test_police_prefix_of_a_township_and_a_city(db: Session, world: World) -> None:
    township = Scope(user_name="p", role=Role.POLICE, division_prefix="990101001")
    assert _visible_buildings(db, world, township) == {"own", "other", "old"}
    city = Scope(user_name="p", role=Role.POLICE, division_prefix="9901")
    assert _visible_buildings(db, world, city) == {"own", "other", "far", "old"}
    village = Scope(user_name="p", role=Role.POLICE, division_prefix="990101001002")
    assert _visible_buildings(db, world, village) == {"other"}


def test_an_officer_without_grids_and_police_without_division_see_nothing(
    db: Session, world: World
) -> None:
    assert _visible_buildings(db, world, Scope(user_name="o", role=Role.OFFICER)) == set()
    assert _visible_buildings(db, world, Scope(user_name="p", role=Role.POLICE)) == set()


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.OFFICER, {"own"}),
        (Role.POLICE, {"own", "other", "old"}),
        (Role.ADMIN, {"own", "other", "far", "old"}),
        (Role.PLANNER, set()),
    ],
)
def test_houses_follow_their_building(
    db: Session, world: World, role: Role, visible: set[str]
) -> None:
    for key, code in world.buildings.items():
        building = db.scalar(select(Building).where(Building.code == code))
        assert building is not None
        db.add(
            House(code=code[:19] + "00003" + "0", building_uid=building.uid,
                  district_code=code[:6], unit=3, use=HouseUse.RESIDENTIAL, room=key)
        )  # fmt: skip
    db.flush()
    scope = _scope(db, world, role)
    rows = db.scalars(
        select(House.room).where(House.room.in_(list(world.buildings)), scope.houses_clause())
    )
    assert set(rows) == visible


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.OFFICER, {GRID_OWN}),
        (Role.POLICE, {GRID_OWN, GRID_OTHER}),
        (Role.ADMIN, {GRID_OWN, GRID_OTHER, GRID_FAR}),
        (Role.PLANNER, set()),
        (Role.AUDITOR, set()),
    ],
)
def test_grids_clause(db: Session, world: World, role: Role, visible: set[str]) -> None:
    scope = _scope(db, world, role)
    rows = db.scalars(select(Grid.code).where(Grid.code.like("99%"), scope.grids_clause()))
    assert set(rows) == visible


def test_scope_for_user_and_role_checks(db: Session, world: World) -> None:
    police = _scope(db, world, Role.POLICE)
    assert police.division_prefix == "990101"
    assert police.actor.name == "t_police"
    assert police.actor.role == "police"
    officer = _scope(db, world, Role.OFFICER)
    assert officer.grid_codes == {GRID_OWN}
    officer.require_personal()
    planner = _scope(db, world, Role.PLANNER)
    planner.require_aggregates()
    with pytest.raises(Forbidden):
        planner.require_personal()
    with pytest.raises(Forbidden):
        _scope(db, world, Role.AUDITOR).require_aggregates()
    with pytest.raises(Forbidden):
        Scope.system().require_role(Role.AUDITOR)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("44030519900101123X", "440305********123X"),
        ("440305199001011234", "440305********1234"),
        ("440305900101123", "440305*****1123"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_id_number(value: str | None, masked: str | None) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13812341234", "138****1234"), ("+8613812341234", "+86*******1234"), ("1234567", "*******")],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


def test_small_counts_are_suppressed() -> None:
    assert [suppress_small_count(n) for n in (0, 1, 4, 5, 100)] == [0, None, None, 5, 100]


def test_aggregate_models_refuse_personal_fields_at_any_depth() -> None:
    class GridStats(AggregateModel):
        grid_code: str
        households: int | None

    class Page(AggregateModel):
        items: list[GridStats]

    assert personal_field_paths(Page) == []
    with pytest.raises(ValidationError):
        GridStats(grid_code="x", households=1, name="张三")  # type: ignore[call-arg]

    with pytest.raises(TypeError, match="name"):

        class Flat(AggregateModel):
            name: str

    class Occupant(BaseModel):
        house_code: str
        id_number: str

    with pytest.raises(TypeError, match=r"rows\.id_number"):

        class Nested(AggregateModel):
            rows: dict[str, list[Occupant]] | None


@pytest.mark.parametrize("code", ["4403", "44030500000X", "4403050000000"])
def test_a_malformed_division_a_caller_gave_is_refused_naming_its_field(code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        gis.access.scope.requested_division_prefix(code, field="region")
    assert refused.value.field == "region"
    assert "12 digits" in refused.value.message
    assert gis.access.scope.requested_division_prefix("440305007000") == "440305007"
