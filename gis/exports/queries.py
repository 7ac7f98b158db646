"""SQL of exports: one select per layer, its rows already filtered by scope, grid and division,
geometries as WKB in the SRID asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, true
from sqlalchemy.orm import aliased

from gis.access.scope import Scope, division_prefix
from gis.buildings.models import PUBLIC_COLUMNS, Building, BuildingStatus
from gis.crs import STORAGE_SRID
from gis.divisions.models import Division
from gis.grids.models import Grid
from gis.grids.queries import prefix_clause, valid_on
from gis.houses.models import House, HouseStatus
from gis.people.models import Person, Residence
from gis.users.models import Role


@dataclass(frozen=True)
class Filters:
    """What to export: a live grid (its buildings by point on surface), a division (by code
    prefix), the day grids and residences are read on."""

    grid_code: str | None
    division_code: str | None
    on: date


def _wkb(geom: Any, srid: int) -> Any:
    if srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, srid)  # an integer SRID: never a text CRS
    return func.ST_AsBinary(geom).label("wkb")


def _building_filters(building: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.division_code is not None:
        prefix = division_prefix(filters.division_code)
        conditions.append(prefix_clause(prefix, building))
    if filters.grid_code is not None:
        grid = aliased(Grid)
        conditions.append(
            select(grid.uid)
            .where(
                grid.code == filters.grid_code,
                valid_on(filters.on, grid),
                func.ST_Covers(grid.geom, func.ST_PointOnSurface(building.geom)),
            )
            .exists()
        )
    return conditions


def buildings_select(*, scope: Scope, filters: Filters, srid: int) -> Select[Any]:
    """Live buildings (retired left out) the caller may read: planners read every footprint
    (no personal data, as in tiles and /ogc), the others their scope."""
    admitted = true() if scope.role is Role.PLANNER else scope.buildings_clause()
    return (
        select(
            *PUBLIC_COLUMNS,
            Building.source_id,
            _wkb(Building.geom, srid),
        )
        .where(
            admitted,
            Building.status != BuildingStatus.RETIRED,
            *_building_filters(Building, filters),
        )
        .order_by(Building.code)
    )


def houses_select(*, scope: Scope, filters: Filters, srid: int) -> Select[Any]:
    """Active houses in the caller's scope, located at their building's point on surface."""
    columns: list[Any] = [
        House.code,
        Building.code.label("building_code"),
        House.unit,
        House.floor,
        House.room,
        House.use,
        House.area_m2,
        House.rooms,
        House.is_rented,
        House.status,
        _wkb(func.ST_PointOnSurface(Building.geom), srid),
    ]
    return (
        select(*columns)
        .join(Building, Building.uid == House.building_uid)
        .where(
            scope.buildings_clause(),
            House.status == HouseStatus.ACTIVE,
            *_building_filters(Building, filters),
        )
        .order_by(House.code)
    )


def grids_select(*, filters: Filters, srid: int) -> Select[Any]:
    """Grid versions valid on the day (outlines are not personal: every grid)."""
    conditions: list[ColumnElement[bool]] = [valid_on(filters.on)]
    if filters.division_code is not None:
        conditions.append(prefix_clause(division_prefix(filters.division_code)))
    if filters.grid_code is not None:
        conditions.append(Grid.code == filters.grid_code)
    return (
        select(
            Grid.code,
            Grid.version,
            Grid.name,
            Grid.community_code,
            Grid.grid_class.label("class"),
            Grid.valid_from,
            Grid.valid_to,
            _wkb(Grid.geom, srid),
        )
        .where(*conditions)
        .order_by(Grid.code)
    )


def divisions_select(*, filters: Filters, srid: int) -> Select[Any]:
    """Divisions that have a boundary, under ``division_code`` when given."""
    conditions: list[ColumnElement[bool]] = [Division.geom.is_not(None)]
    if filters.division_code is not None:
        conditions.append(
            Division.code.startswith(division_prefix(filters.division_code), autoescape=True)
        )
    return (
        select(
            Division.code,
            Division.name,
            Division.level,
            Division.parent_code,
            _wkb(Division.geom, srid),
        )
        .where(*conditions)
        .order_by(Division.code)
    )


def residents_select(*, filters: Filters, srid: int) -> Select[Any]:
    """Residences current on the day, with the person's sealed ID number and phone (opened by
    the caller), located at their building's point on surface. Admins only: no scope clause."""
    return (
        select(
            Person.name,
            Person.id_number_enc,
            Person.phone_enc,
            Person.sex,
            Person.birth_date,
            Person.category,
            House.code.label("house_code"),
            Building.code.label("building_code"),
            Residence.kind,
            func.lower(Residence.period).label("moved_in"),
            _wkb(func.ST_PointOnSurface(Building.geom), srid),
        )
        .join(House, House.uid == Residence.house_uid)
        .join(Building, Building.uid == House.building_uid)
        .join(Person, Person.uid == Residence.person_uid)
        .where(
            Residence.period.contains(literal(filters.on)),
            *_building_filters(Building, filters),
        )
        .order_by(House.code, Person.name)
    )
