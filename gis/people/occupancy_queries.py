"""SQL of occupant pages: who lived in an area on a date, grouped building → house → people,
the JSON built by PostgreSQL in one statement (DESIGN §11: never row by row in Python).

Areas are boolean clauses over ``buildings``:

- radius: the footprint comes within ``radius_m`` of the point, measured on the spheroid
  (``ST_DWithin(geom::geography, point::geography, r)``), *after* the ``geom && ST_Expand(point)``
  box prefilter that lets the GiST index answer (DESIGN §11: 12.4 s → 0.7 ms);
- polygon: the footprint intersects the polygon;
- grid: the footprint's point on surface lies in the grid version valid on the date (the rule
  that assigns buildings to grids).

The statement is large (CTEs, nested ``json_build_object``), and building it with SQLAlchemy cost
more than running it (11 ms against ~10 ms for 300 people, benchmark of issue 5 item 8). So it is
built once per *shape* (area kind, the caller's scope, first page or not, one house or all) with
every per-request value a named bound parameter, cached, and executed with those values
(:class:`Area` carries them); the SQL text never changes, so PostgreSQL can reuse its plan.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Float,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings.models import Building
from gis.crs import STORAGE_SRID
from gis.driver_sql import one_row_for_driver
from gis.grids.models import Grid
from gis.houses.models import House
from gis.people.models import Declaration, Person, Residence

METRES_PER_DEGREE_LAT_MIN = 110_574.0  # on the equator; more everywhere else
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
EXPAND_MARGIN = 1.01  # the box is a prefilter: a little too large costs nothing
STATEMENT_CACHE_SIZE = 256  # shapes: 4 area kinds × 2 × 2 × the distinct scopes (officers' grids)


class AreaKind(StrEnum):
    RADIUS = "radius"
    BUILDING = "building"
    POLYGON = "polygon"
    GRID = "grid"


@dataclass(frozen=True)
class Area:
    """Where to look: the kind of clause over ``buildings`` and the values of its parameters."""

    kind: AreaKind
    params: dict[str, Any]


@dataclass(frozen=True)
class OccupantPage:
    """One page: the JSON document (``OccupantsPage`` shape), people on it, buildings on it."""

    json: str
    returned: int
    building_codes: list[str]


def _key(name: str) -> ColumnElement[str]:
    """A JSON key as an SQL constant (names from this module only, never from input)."""
    return literal_column(f"'{name}'")


def expand_degrees(lat: float, radius_m: float) -> tuple[float, float]:
    """Half-widths (Δlon, Δlat) in degrees of a box that holds every point within
    ``radius_m`` of a point at latitude ``lat`` (generous, never too small).

    >>> [round(v, 6) for v in expand_degrees(22.5, 100.0)]
    [0.000982, 0.000913]
    """
    dlat = radius_m / METRES_PER_DEGREE_LAT_MIN * EXPAND_MARGIN
    widest = min(89.0, abs(lat) + dlat)
    dlon = radius_m / (METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(widest)))
    return dlon * EXPAND_MARGIN, dlat


def radius_area(lon: float, lat: float, radius_m: float) -> Area:
    """Buildings whose footprint lies within ``radius_m`` metres of (lon, lat) (EPSG:4490)."""
    dlon, dlat = expand_degrees(lat, radius_m)
    params = {"lon": lon, "lat": lat, "dlon": dlon, "dlat": dlat, "radius_m": float(radius_m)}
    return Area(AreaKind.RADIUS, params)


def building_area(uid: uuid.UUID) -> Area:
    """One building."""
    return Area(AreaKind.BUILDING, {"building_uid": uid})


def polygon_area(wkb: bytes) -> Area:
    """Buildings whose footprint intersects a polygon (WKB in EPSG:4490)."""
    return Area(AreaKind.POLYGON, {"polygon_wkb": wkb})


def grid_area(code: str, on: date) -> Area:
    """Buildings whose point on surface lies in the version of grid ``code`` valid on ``on``."""
    return Area(AreaKind.GRID, {"grid_code": code, "grid_on": on})


def _radius_clause() -> ColumnElement[bool]:
    point = func.ST_SetSRID(
        func.ST_MakePoint(bindparam("lon", type_=Float), bindparam("lat", type_=Float)),
        STORAGE_SRID,
    )
    box = func.ST_Expand(point, bindparam("dlon", type_=Float), bindparam("dlat", type_=Float))
    return and_(
        Building.geom.op("&&")(box),
        func.ST_DWithin(
            func.geography(Building.geom),
            func.geography(point),
            bindparam("radius_m", type_=Float),
        ),
    )


def _building_clause() -> ColumnElement[bool]:
    return Building.uid == bindparam("building_uid", type_=Uuid)


def _polygon_clause() -> ColumnElement[bool]:
    wkb = bindparam("polygon_wkb", type_=LargeBinary)
    return func.ST_Intersects(Building.geom, func.ST_GeomFromWKB(wkb, STORAGE_SRID))


def grid_version_on(code: str | BindParameter[str], on: date | BindParameter[date]) -> Any:
    """The version of grid ``code`` valid on ``on`` (values or bound parameters)."""
    return and_(
        Grid.code == code,
        Grid.valid_from <= on,
        or_(Grid.valid_to.is_(None), Grid.valid_to > on),
    )


def building_in_grid(
    code: str | BindParameter[str], on: date | BindParameter[date]
) -> ColumnElement[bool]:
    """True for ``Building`` rows whose point on surface lies in the version of grid ``code``
    valid on ``on`` (the rule that assigns buildings to grids; values or bound parameters)."""
    grid_geom = select(Grid.geom).where(grid_version_on(code, on)).limit(1).scalar_subquery()
    return and_(
        Building.geom.op("&&")(grid_geom),
        func.ST_Covers(grid_geom, func.ST_PointOnSurface(Building.geom)),
    )


def _grid_clause() -> ColumnElement[bool]:
    return building_in_grid(bindparam("grid_code", type_=String), bindparam("grid_on", type_=Date))


_AREA_CLAUSES = {
    AreaKind.RADIUS: _radius_clause,
    AreaKind.BUILDING: _building_clause,
    AreaKind.POLYGON: _polygon_clause,
    AreaKind.GRID: _grid_clause,
}


def select_grid_in_scope(session: Session, *, code: str, on: date, scope: Scope) -> Grid | None:
    """The version of a grid valid on ``on`` whose people the caller may see."""
    statement = select(Grid).where(grid_version_on(code, on), scope.grids_clause())
    return session.scalar(statement)


def occupants_statement(
    *, kind: AreaKind, scope: Scope, has_after: bool = False, has_house: bool = False
) -> Select[Any]:
    """The statement of one page of the people whose residence covered ``:at``, in houses of
    buildings in the area and in scope, ordered by house code (so by building, then unit) and
    person; built once per shape (:func:`occupant_params` gives its parameters).

    Its parameters: those of the area (:class:`Area`), ``at``, ``limit`` (people on the page),
    ``fetch`` (``limit + 1``: one more tells whether a next page exists), with ``has_after``
    ``after_house`` and ``after_person`` (the cursor), with ``has_house`` ``house_uid``.
    """
    # the user's name never reaches the SQL: one statement serves every user of a jurisdiction
    return _cached_statement(kind, dataclasses.replace(scope, user_name=""), has_after, has_house)


@lru_cache(maxsize=STATEMENT_CACHE_SIZE)
def _cached_statement(
    kind: AreaKind, scope: Scope, has_after: bool, has_house: bool
) -> Select[Any]:
    at_value = bindparam("at", type_=Date)
    limit = bindparam("limit", type_=Integer)
    in_area = (
        select(Building.uid, Building.code)
        .where(_AREA_CLAUSES[kind](), scope.buildings_clause())
        .cte("in_area")
    )
    conditions: list[ColumnElement[bool]] = []
    if has_house:
        conditions.append(House.uid == bindparam("house_uid", type_=Uuid))
    if has_after:
        cursor = tuple_(
            bindparam("after_house", type_=String), bindparam("after_person", type_=Uuid)
        )
        conditions.append(tuple_(House.code, Person.uid) > cursor)
    rows = (
        select(
            in_area.c.code.label("building_code"),
            House.code.label("house_code"),
            House.unit,
            House.floor,
            House.room,
            House.use,
            House.is_rented,
            Person.uid.label("person_uid"),
            Person.name,
            Person.sex,
            Person.birth_date,
            Person.id_number_masked,
            Person.phone_masked,
            Person.category,
            Person.is_key_person,
            Residence.uid.label("residence_uid"),
            Residence.kind,
            Residence.is_primary,
            func.lower(Residence.period).label("since"),
            func.upper(Residence.period).label("until"),
        )
        .select_from(in_area)
        .join(House, House.building_uid == in_area.c.uid)
        .join(
            Residence, and_(Residence.house_uid == House.uid, Residence.period.op("@>")(at_value))
        )
        .join(Person, Person.uid == Residence.person_uid)
        .where(*conditions)
        .order_by(House.code, Person.uid)
        .limit(bindparam("fetch", type_=Integer))
        .cte("found")
    )
    page = select(rows).order_by(rows.c.house_code, rows.c.person_uid).limit(limit).cte("page")
    # the landlord's declaration still owed for this residence (a tenant who moved into a let
    # house): per residence, looked up for the page's rows only
    declaration_due_on = (
        select(Declaration.due_on)
        .where(Declaration.residence_uid == page.c.residence_uid, Declaration.declared_at.is_(None))
        .scalar_subquery()
    )
    occupant = func.json_build_object(
        _key("uid"), page.c.person_uid, _key("name"), page.c.name, _key("sex"), page.c.sex,
        _key("age"), cast(func.date_part("year", func.age(at_value, page.c.birth_date)), Integer),
        _key("id_number"), page.c.id_number_masked, _key("phone"), page.c.phone_masked,
        _key("category"), page.c.category, _key("is_key_person"), page.c.is_key_person,
        _key("kind"), page.c.kind, _key("since"), page.c.since, _key("until"), page.c.until,
        _key("is_primary"), page.c.is_primary, _key("declaration_due_on"), declaration_due_on,
    )  # fmt: skip
    houses = (
        select(
            page.c.building_code,
            page.c.house_code,
            func.json_build_object(
                "code",
                page.c.house_code,
                "unit",
                page.c.unit,
                "floor",
                page.c.floor,
                "room",
                page.c.room,
                "use",
                page.c.use,
                "is_rented",
                page.c.is_rented,
                "occupants",
                func.json_agg(aggregate_order_by(occupant, page.c.person_uid)),
            ).label("doc"),
        )
        .group_by(
            page.c.building_code,
            page.c.house_code,
            page.c.unit,
            page.c.floor,
            page.c.room,
            page.c.use,
            page.c.is_rented,
        )
        .cte("page_houses")
    )
    buildings = (
        select(
            houses.c.building_code,
            func.json_build_object(
                "code",
                houses.c.building_code,
                "houses",
                func.json_agg(aggregate_order_by(houses.c.doc, houses.c.house_code)),
            ).label("doc"),
        )
        .group_by(houses.c.building_code)
        .cte("page_buildings")
    )
    returned = select(func.count()).select_from(page).scalar_subquery()
    last = (
        select(func.concat(page.c.house_code, ":", page.c.person_uid))
        .order_by(page.c.house_code.desc(), page.c.person_uid.desc())
        .limit(1)
        .scalar_subquery()
    )
    has_more = select(func.count()).select_from(rows).scalar_subquery() > limit
    document = func.json_build_object(
        _key("at"), at_value,
        _key("returned"), returned,
        _key("next"), case((has_more, last), else_=None),
        _key("buildings"), func.coalesce(
            select(func.json_agg(aggregate_order_by(buildings.c.doc, buildings.c.building_code)))
            .scalar_subquery(),
            text("'[]'::json"),
        ),
    )  # fmt: skip
    codes = select(
        func.coalesce(
            func.array_agg(
                aggregate_order_by(buildings.c.building_code, buildings.c.building_code)
            ),
            text("'{}'::varchar[]"),
        )
    ).scalar_subquery()
    return select(
        cast(document, Text).label("document"),
        returned.label("returned"),
        codes.label("building_codes"),
    )


def occupant_params(
    area: Area,
    *,
    at: date,
    limit: int,
    after: tuple[str, uuid.UUID] | None = None,
    house_uid: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The values of the parameters of :func:`occupants_statement` for one page."""
    params: dict[str, Any] = {**area.params, "at": at, "limit": limit, "fetch": limit + 1}
    if after is not None:
        params |= {"after_house": after[0], "after_person": after[1]}
    if house_uid is not None:
        params["house_uid"] = house_uid
    return params


def select_occupant_page(
    session: Session,
    *,
    area: Area,
    scope: Scope,
    at: date,
    limit: int,
    after: tuple[str, uuid.UUID] | None = None,
    house_uid: uuid.UUID | None = None,
) -> OccupantPage:
    """One page of occupants (see :func:`occupants_statement`)."""
    statement = occupants_statement(
        kind=area.kind, scope=scope, has_after=after is not None, has_house=house_uid is not None
    )
    params = occupant_params(area, at=at, limit=limit, after=after, house_uid=house_uid)
    row = one_row_for_driver(session, statement, params)  # 1.7 ms less (issue 5 item 8)
    return OccupantPage(json=row[0], returned=int(row[1]), building_codes=list(row[2] or []))
