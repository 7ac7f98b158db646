"""Vector tiles: features per role, H3 aggregates at low zooms, consistent cells across tiles."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.driver_sql import DRIVER_DIALECT, check_driver_binds
from gis.errors import Forbidden, InvalidInput, NotFound
from gis.houses.models import House, HouseUse
from gis.people.models import DeclaredBy, Person, PersonCategory, Residence, ResidenceKind
from gis.tiles.service import TileLayer, _feature_statement, check_tile, parse_layer, render_tile
from gis.users.models import Role
from tests.access_world import GRID_OWN, World, check_char


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator tile holding ``(lon, lat)`` at zoom ``z``."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def decode(content: bytes) -> dict[str, Any]:
    return dict(mapbox_vector_tile.decode(content)) if content else {}


def scope_of(role: Role) -> Scope:
    if role is Role.OFFICER:
        return Scope("t_officer", role, grid_codes=frozenset({GRID_OWN}))
    if role is Role.POLICE:
        return Scope("t_police", role, division_prefix="990101")
    return Scope(f"t_{role}", role)


def codes_in(db: Session, role: Role, z: int, lon: float, lat: float) -> set[str]:
    x, y = tile_of(lon, lat, z)
    tile = render_tile(db, layers=[TileLayer.BUILDINGS], z=z, x=x, y=y, scope=scope_of(role))
    layer = decode(tile.content).get("buildings", {"features": []})
    return {feature["properties"]["code"] for feature in layer["features"]}


@pytest.mark.parametrize(
    ("role", "sees_own", "sees_far"),
    [
        (Role.OFFICER, True, False),
        (Role.POLICE, True, False),
        (Role.ADMIN, True, True),
        (Role.PLANNER, True, True),
    ],
)
def test_building_features_follow_the_scope(
    db: Session, world: World, role: Role, sees_own: bool, sees_far: bool
) -> None:
    own = codes_in(db, role, 16, 113.905, 22.505)
    far = codes_in(db, role, 16, 113.955, 22.505)
    assert (world.buildings["own"] in own) is sees_own
    assert (world.buildings["far"] in far) is sees_far


def test_features_carry_no_personal_properties(db: Session, world: World) -> None:
    x, y = tile_of(113.905, 22.505, 16)
    tile = render_tile(db, layers=[TileLayer.BUILDINGS], z=16, x=x, y=y, scope=scope_of(Role.ADMIN))
    (feature,) = decode(tile.content)["buildings"]["features"]
    assert set(feature["properties"]) <= {"code", "status", "use", "floors"}
    assert feature["geometry"]["type"] == "Polygon"


def test_auditors_get_no_tiles(db: Session, world: World) -> None:
    with pytest.raises(Forbidden):
        render_tile(db, layers=[TileLayer.GRIDS], z=10, x=0, y=0, scope=scope_of(Role.AUDITOR))


def test_grid_outlines_mark_the_officers_own_grid(db: Session, world: World) -> None:
    x, y = tile_of(113.91, 22.505, 13)
    tile = render_tile(db, layers=[TileLayer.GRIDS], z=13, x=x, y=y, scope=scope_of(Role.OFFICER))
    features = decode(tile.content)["grids"]["features"]
    own = {f["properties"]["code"]: f["properties"]["own"] for f in features}
    assert own[GRID_OWN] is True
    assert own["990101001002001"] is False
    assert all(f["properties"]["class"] == "unclassified" for f in features)


def test_low_zooms_aggregate_into_h3_cells(db: Session, world: World) -> None:
    x, y = tile_of(113.93, 22.51, 10)
    tile = render_tile(db, layers=[TileLayer.BUILDINGS], z=10, x=x, y=y, scope=scope_of(Role.ADMIN))
    layers = decode(tile.content)
    assert set(layers) == {"buildings_h3"}
    counts = [f["properties"]["count"] for f in layers["buildings_h3"]["features"]]
    assert sum(counts) == 4  # own, other, far, old: all in this tile
    officer = render_tile(
        db, layers=[TileLayer.BUILDINGS], z=10, x=x, y=y, scope=scope_of(Role.OFFICER)
    )
    assert (
        sum(f["properties"]["count"] for f in decode(officer.content)["buildings_h3"]["features"])
        == 1
    )


def test_a_cell_cut_by_a_tile_edge_counts_the_same_in_both_tiles(db: Session, world: World) -> None:
    # at zoom 13 the tile edge x=6688|6689 runs at lon 113.90625, through building "own"
    z = 13
    x, y = tile_of(113.905, 22.505, z)
    scope = scope_of(Role.ADMIN)
    left = render_tile(db, layers=[TileLayer.BUILDINGS], z=z, x=x, y=y, scope=scope)
    right = render_tile(db, layers=[TileLayer.BUILDINGS], z=z, x=x + 1, y=y, scope=scope)
    cells_left = {
        f["properties"]["h3"]: f["properties"]["count"]
        for f in decode(left.content)["buildings_h3"]["features"]
    }
    cells_right = {
        f["properties"]["h3"]: f["properties"]["count"]
        for f in decode(right.content)["buildings_h3"]["features"]
    }
    shared = set(cells_left) & set(cells_right)
    assert shared, "the zoom-13 cells near the edge appear in both tiles"
    assert all(cells_left[c] == cells_right[c] for c in shared)


def test_empty_tiles_are_empty_bytes_with_an_etag(db: Session, world: World) -> None:
    tile = render_tile(db, layers=[TileLayer.BUILDINGS], z=16, x=0, y=0, scope=scope_of(Role.ADMIN))
    assert tile.content == b""
    assert tile.etag.startswith('"') and len(tile.etag) == 34


def test_bad_coordinates_and_layers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="zoom"):
        check_tile(23, 0, 0)
    with pytest.raises(InvalidInput, match="x must be between 0 and 1"):
        check_tile(1, 2, 0)
    with pytest.raises(NotFound):
        parse_layer("people")


def _add_residents(db: Session, building_code: str, count: int, *, floating: bool) -> None:
    """``count`` more people living today in a new house (unit 9) of ``building_code``."""
    building = db.scalars(select(Building).where(Building.code == building_code)).one()
    body = building_code[:19] + "00009"
    house = House(
        code=body + check_char(body), building_uid=building.uid,
        district_code=building.district_code, unit=9, use=HouseUse.RESIDENTIAL,
    )  # fmt: skip
    db.add(house)
    db.flush()
    category = PersonCategory.FLOATING if floating else PersonCategory.HUKOU
    for i in range(count):
        person = Person(name=f"居民{i}", category=category)
        db.add(person)
        db.flush()
        db.add(
            Residence(person_uid=person.uid, house_uid=house.uid,
                      period=Range(date(2024, 1, 1), None), kind=ResidenceKind.TENANT,
                      declared_by=DeclaredBy.OFFICER)
        )  # fmt: skip
    db.flush()


def floating_total(db: Session, role: Role, z: int) -> int:
    """Floating residents in the cells of the 2 × 2 tiles around the world at zoom ``z``
    (a cell cut by a tile edge counts once: it holds the same count in each tile)."""
    x0, y0 = tile_of(113.90625, 22.51, z)  # a tile corner near the world's buildings
    cells: dict[str, int] = {}
    for x in (x0 - 1, x0):
        for y in (y0 - 1, y0, y0 + 1):
            tile = render_tile(db, layers=[TileLayer.FLOATING], z=z, x=x, y=y, scope=scope_of(role))
            for feature in decode(tile.content).get("floating_h3", {"features": []})["features"]:
                cells[feature["properties"]["h3"]] = feature["properties"]["count"]
    return sum(cells.values())


def test_floating_residents_are_counted_per_cell_in_scope(db: Session, world: World) -> None:
    # the world (tests/people_world.py) already holds one floating resident per building
    _add_residents(db, world.buildings["own"], 6, floating=True)
    _add_residents(db, world.buildings["other"], 3, floating=True)
    _add_residents(db, world.buildings["far"], 7, floating=False)
    assert floating_total(db, Role.ADMIN, 10) == 7 + 4 + 1 + 1
    assert floating_total(db, Role.OFFICER, 10) == 7  # the own building only
    assert floating_total(db, Role.POLICE, 10) == 7 + 4 + 1  # county 990101: not far
    # at zoom 15 these tiles hold the own and other buildings, each in a cell of its own:
    # planners never see a cell of fewer than 5
    assert floating_total(db, Role.ADMIN, 15) == 7 + 4
    assert floating_total(db, Role.PLANNER, 15) == 7


@pytest.mark.parametrize(
    "layer", [TileLayer.BUILDINGS, TileLayer.GRIDS, TileLayer.ROADS, TileLayer.EVENTS]
)
def test_feature_tile_statements_are_kept_and_go_to_the_driver(layer: TileLayer) -> None:
    """One statement a layer, a jurisdiction and a zoom band, whoever asks; each one's
    parameters are values psycopg binds itself (its SQL is handed to the driver as it is)."""
    scopes = [
        Scope.system("a"),
        Scope(user_name="", role=Role.POLICE, division_prefix="440305"),
        Scope(user_name="", role=Role.OFFICER, grid_codes=frozenset({"1" * 15, "2" * 15})),
        Scope(user_name="", role=Role.PLANNER),
    ]
    for scope in scopes:
        for narrowed in (False, True):
            statement = _feature_statement(layer, scope, narrowed)
            assert _feature_statement(layer, scope, narrowed) is statement
            check_driver_binds(statement.compile(dialect=DRIVER_DIALECT))
    assert _feature_statement(layer, scopes[1], False) is not _feature_statement(
        layer, scopes[2], False
    )
