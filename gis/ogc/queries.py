"""SQL of OGC API Features: pages and single features as GeoJSON built by PostGIS, extents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import JSON, ColumnElement, Text, cast, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.ogc.collections import Collection
from gis.ogc.crs import Bbox, OgcCrs

DEGREE_DECIMALS = 7
"""Decimals of degrees in answers: 1e-7° is about a centimetre."""


@dataclass(frozen=True)
class FeaturePage:
    """Features as a JSON array (text), how many matched in all, how many are in the array,
    and the id to page after (None on the last page)."""

    features: str
    number_matched: int | None
    """On the first page only (None after it): counting a million buildings for every page of
    a client walking the layer would cost more than the pages."""
    number_returned: int
    next_after: str | None


def _geometry(collection: Collection, crs: OgcCrs) -> Any:
    geom: Any = collection.geom
    if crs.srid != STORAGE_SRID:
        geom = func.ST_Transform(geom, crs.srid)  # an integer SRID, never a text CRS
    if crs.is_lat_first:
        geom = func.ST_FlipCoordinates(geom)
    return cast(func.ST_AsGeoJSON(geom, DEGREE_DECIMALS), JSON)


def _feature(collection: Collection, crs: OgcCrs) -> Any:
    properties = func.json_build_object(
        *[item for column in collection.properties for item in (literal(column.key), column)]
    )
    return func.json_build_object(
        literal("type"),
        literal("Feature"),
        literal("id"),
        collection.id_column,
        literal("geometry"),
        _geometry(collection, crs),
        literal("properties"),
        properties,
    )


def _conditions(
    collection: Collection, clause: ColumnElement[bool], bbox: Bbox | None, bbox_srid: int
) -> list[Any]:
    conditions: list[Any] = [clause]
    if bbox is not None:
        envelope: Any = func.ST_MakeEnvelope(*bbox, bbox_srid)
        if bbox_srid != STORAGE_SRID:
            envelope = func.ST_Transform(envelope, STORAGE_SRID)
        conditions.append(collection.geom.op("&&")(envelope))
        conditions.append(func.ST_Intersects(collection.geom, envelope))
    return conditions


def select_page(
    session: Session,
    collection: Collection,
    *,
    clause: ColumnElement[bool],
    crs: OgcCrs,
    bbox: Bbox | None,
    bbox_srid: int,
    limit: int,
    after: str,
) -> FeaturePage:
    """Up to ``limit`` features admitted by ``clause`` (and meeting ``bbox``) whose id follows
    ``after``, in id order (keyset paging), with the number matched by the whole query on the
    first page (``after`` empty)."""
    conditions = _conditions(collection, clause, bbox, bbox_srid)
    page = (
        select(collection.id_column.label("fid"), _feature(collection, crs).label("feature"))
        .where(*conditions, collection.id_column > after)
        .order_by(collection.id_column)
        .limit(limit + 1)
        .cte("page")
    )
    shown = select(page).order_by(page.c.fid).limit(limit).cte("shown")
    body, returned, last = session.execute(
        select(
            cast(
                func.coalesce(
                    func.json_agg(aggregate_order_by(shown.c.feature, shown.c.fid)),
                    literal_column("'[]'::json"),
                ),
                Text,
            ),
            func.count(),
            func.max(shown.c.fid),
        ).select_from(shown)
    ).one()
    more = session.scalar(select(func.count()).select_from(page)) or 0
    matched = (
        int(
            session.scalar(select(func.count()).select_from(collection.table).where(*conditions))
            or 0
        )
        if after == ""
        else None
    )
    return FeaturePage(
        features=str(body),
        number_matched=matched,
        number_returned=int(returned),
        next_after=str(last) if more > limit else None,
    )


def select_feature(
    session: Session, collection: Collection, *, clause: ColumnElement[bool], fid: str, crs: OgcCrs
) -> str | None:
    """One feature admitted by ``clause`` as GeoJSON text, or None."""
    statement = select(cast(_feature(collection, crs), Text)).where(
        clause, collection.id_column == fid
    )
    value = session.scalar(statement.limit(1))
    return None if value is None else str(value)


def select_extent(
    session: Session, collection: Collection, *, clause: ColumnElement[bool], is_whole_table: bool
) -> Bbox | None:
    """The bounding box (longitude first, EPSG:4326) of the rows ``clause`` admits, or None.

    For a caller who may read the whole table, the planner's estimate (``ST_EstimatedExtent``,
    from the statistics of the last ANALYZE) stands in for a scan of every row, which at a
    million buildings would outlast a request's statement timeout; without statistics yet, the
    rows are scanned.
    """
    if is_whole_table:
        estimate = func.ST_EstimatedExtent(collection.table.__tablename__, collection.geom.key)
        box = func.ST_Transform(func.ST_SetSRID(cast(estimate, Geometry), STORAGE_SRID), WGS84_SRID)
        row = session.execute(
            select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box))
        ).one()
        if row[0] is not None:
            return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    box = func.ST_Transform(
        func.ST_SetSRID(func.ST_Extent(collection.geom), STORAGE_SRID), WGS84_SRID
    )
    row = session.execute(
        select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)).where(
            clause
        )
    ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
