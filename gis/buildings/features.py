"""GeoJSON of buildings built by PostGIS (never row by row in Python): pages and single features."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import JSON, ColumnElement, Text, case, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis.buildings.models import PUBLIC_COLUMNS, Building, BuildingStatus
from gis.codes import check_character
from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.errors import InvalidInput

MAX_PAGE = 10_000
Bbox = tuple[float, float, float, float]


_CURSOR = re.compile(r"[0-9]{24}[0-9X]")  # a building code, as `next` gives it


@dataclass(frozen=True)
class BuildingPage:
    """A FeatureCollection as JSON text, and the cursor of the next page (None at the end)."""

    geojson: str
    next_after: str | None


def parse_bbox(text_value: str, *, field: str = "bbox") -> Bbox:
    """``min_lon,min_lat,max_lon,max_lat`` in degrees (EPSG:4326), checked."""
    parts = text_value.split(",")
    if len(parts) != 4:
        raise InvalidInput("give four numbers: min_lon,min_lat,max_lon,max_lat", field=field)
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    except ValueError:
        raise InvalidInput("bbox values must be numbers", field=field) from None
    values = (min_lon, min_lat, max_lon, max_lat)
    if any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise InvalidInput("bbox values must be finite", field=field)
    for low, high, axis in ((min_lon, max_lon, "lon"), (min_lat, max_lat, "lat")):
        if low > high:
            raise InvalidInput(
                f"bbox min_{axis} {low:g} is greater than max_{axis} {high:g}: give "
                "min_lon,min_lat,max_lon,max_lat",
                field=field,
            )
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput(
            "bbox must be min_lon,min_lat,max_lon,max_lat within ±180/±90 "
            "(are longitude and latitude swapped?)",
            field=field,
        )
    return values


def building_page(
    session: Session,
    *,
    scope_clause: ColumnElement[bool],
    bbox: Bbox | None,
    limit: int,
    after: str = "",
    include_retired: bool = False,
) -> BuildingPage:
    """One page of the buildings ``scope_clause`` admits, in code order (keyset paging: pass
    ``next_after`` as ``after``), as a FeatureCollection built by PostGIS."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    if after and not (_CURSOR.fullmatch(after) and check_character(after[:24]) == after[24]):
        raise InvalidInput("not a cursor of this list (a building code from `next`)", field="after")
    conditions = [scope_clause, Building.code > after]
    if bbox is not None:
        envelope = func.ST_Transform(func.ST_MakeEnvelope(*bbox, WGS84_SRID), STORAGE_SRID)
        conditions.append(Building.geom.op("&&")(envelope))
    if not include_retired:
        conditions.append(Building.status != BuildingStatus.RETIRED)
    columns = PUBLIC_COLUMNS
    page = (
        select(*columns, Building.geom)
        .where(*conditions)
        .order_by(Building.code)
        .limit(limit + 1)
        .cte("page")
    )
    shown = select(page).order_by(page.c.code).limit(limit).cte("shown")
    properties = func.json_build_object(
        *[item for column in columns for item in (literal(column.key), shown.c[column.key])]
    )
    feature = func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        shown.c.code,
        literal("geometry"),
        cast(func.ST_AsGeoJSON(func.ST_Transform(shown.c.geom, WGS84_SRID), 7), JSON),
        literal("properties"),
        properties,
    )
    features = select(
        func.coalesce(
            func.json_agg(aggregate_order_by(feature, shown.c.code)), literal_column("'[]'::json")
        )
    ).scalar_subquery()
    returned = select(func.count()).select_from(shown).scalar_subquery()
    more = select(func.count()).select_from(page).scalar_subquery() > limit
    last = select(func.max(shown.c.code)).scalar_subquery()
    next_after = case((more, last), else_=None)
    collection = func.json_build_object(
        literal("type"),
        literal("FeatureCollection"),
        literal("features"),
        features,
        literal("numberReturned"),
        returned,
        literal("next"),
        next_after,
    )
    row = session.execute(select(cast(collection, Text), next_after)).one()
    return BuildingPage(geojson=row[0], next_after=row[1])
