"""SQL of occupant pages: who lived in an area on a date, grouped building → house → people,
the JSON built by PostgreSQL in one statement (DESIGN §11: never row by row in Python).

Areas are boolean clauses over ``buildings``:

- radius: the footprint comes within ``radius_m`` of the point, measured on the spheroid
  (``ST_DWithin(geom::geography, point::geography, r)``), *after* the ``geom && ST_Expand(point)``
  box prefilter that lets the GiST index answer (DESIGN §11: 12.4 s → 0.7 ms);
- polygon: the footprint intersects the polygon;
- grid: the footprint's point on surface lies in the grid version valid on the date (the rule
  that assigns buildings to grids).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
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
from gis.grids.models import Grid
from gis.houses.models import House
from gis.people.models import Person, Residence

METRES_PER_DEGREE_LAT_MIN = 110_574.0  # on the equator; more everywhere else
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0
EXPAND_MARGIN = 1.01  # the box is a prefilter: a little too large costs nothing


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
    [0.000983, 0.000913]
    """
    dlat = radius_m / METRES_PER_DEGREE_LAT_MIN * EXPAND_MARGIN
    widest = min(89.0, abs(lat) + dlat)
    dlon = radius_m / (METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(widest)))
    return dlon * EXPAND_MARGIN, dlat


def storage_point(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), STORAGE_SRID)


def radius_clause(lon: float, lat: float, radius_m: float) -> ColumnElement[bool]:
    """Buildings whose footprint lies within ``radius_m`` metres of (lon, lat) (EPSG:4490)."""
    point = storage_point(lon, lat)
    dlon, dlat = expand_degrees(lat, radius_m)
    return and_(
        Building.geom.op("&&")(func.ST_Expand(point, dlon, dlat)),
        func.ST_DWithin(func.geography(Building.geom), func.geography(point), float(radius_m)),
    )


def building_clause(uid: uuid.UUID) -> ColumnElement[bool]:
    """One building."""
    return Building.uid == uid


def polygon_clause(wkb: bytes) -> ColumnElement[bool]:
    """Buildings whose footprint intersects a polygon (WKB in EPSG:4490)."""
    polygon = func.ST_GeomFromWKB(literal(wkb), STORAGE_SRID)
    return func.ST_Intersects(Building.geom, polygon)


def grid_version_on(code: str, on: date) -> ColumnElement[bool]:
    return and_(
        Grid.code == code,
        Grid.valid_from <= on,
        or_(Grid.valid_to.is_(None), Grid.valid_to > on),
    )


def grid_clause(code: str, on: date) -> ColumnElement[bool]:
    """Buildings whose point on surface lies in the version of grid ``code`` valid on ``on``."""
    grid_geom = select(Grid.geom).where(grid_version_on(code, on)).limit(1).scalar_subquery()
    return and_(
        Building.geom.op("&&")(grid_geom),
        func.ST_Covers(grid_geom, func.ST_PointOnSurface(Building.geom)),
    )


def select_grid_in_scope(session: Session, *, code: str, on: date, scope: Scope) -> Grid | None:
    """The version of a grid valid on ``on`` whose people the caller may see."""
    statement = select(Grid).where(grid_version_on(code, on), scope.grids_clause())
    return session.scalar(statement)


def occupants_statement(
    *,
    area: ColumnElement[bool],
    scope: Scope,
    at: date,
    limit: int,
    after: tuple[str, uuid.UUID] | None = None,
    house_uid: uuid.UUID | None = None,
) -> Select[Any]:
    """One page of the people whose residence covered ``at``, in houses of buildings in
    ``area`` and in scope, ordered by house code (so by building, then unit) and person."""
    at_value = bindparam("at", at, type_=Date)
    in_area = (
        select(Building.uid, Building.code).where(area, scope.buildings_clause()).cte("in_area")
    )
    conditions: list[ColumnElement[bool]] = []
    if house_uid is not None:
        conditions.append(House.uid == house_uid)
    if after is not None:
        conditions.append(
            tuple_(House.code, Person.uid) > tuple_(literal(after[0]), literal(after[1]))
        )
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
        .limit(limit + 1)
        .cte("found")
    )
    page = select(rows).order_by(rows.c.house_code, rows.c.person_uid).limit(limit).cte("page")
    occupant = func.json_build_object(
        _key("uid"), page.c.person_uid, _key("name"), page.c.name, _key("sex"), page.c.sex,
        _key("age"), cast(func.date_part("year", func.age(at_value, page.c.birth_date)), Integer),
        _key("id_number"), page.c.id_number_masked, _key("phone"), page.c.phone_masked,
        _key("category"), page.c.category, _key("is_key_person"), page.c.is_key_person,
        _key("kind"), page.c.kind, _key("since"), page.c.since, _key("until"), page.c.until,
        _key("is_primary"), page.c.is_primary,
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


def select_occupant_page(session: Session, statement: Select[Any]) -> OccupantPage:
    row = session.execute(statement).one()
    return OccupantPage(json=row[0], returned=int(row[1]), building_codes=list(row[2] or []))
