"""Use cases of OGC API Features: the collections a caller may read, pages of items, one item.

Documents with links are assembled in :mod:`gis.ogc.documents`; this module decides what rows
a caller gets and checks every parameter, naming it when it is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.clock import parse_iso_date
from gis.codes import parse_code, parse_grid_code
from gis.divisions.service import pad_code
from gis.errors import InvalidInput, NotFound
from gis.ogc import queries
from gis.ogc.collections import (
    BUILDINGS,
    GRIDS,
    Collection,
    get_collection,
    is_whole_table,
    readable_collections,
    rows_clause,
)
from gis.ogc.crs import Bbox, OgcCrs, parse_bbox, parse_crs_uri
from gis.ogc.queries import FeaturePage

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100


# the ids the collections page by: division (12 digits), grid (15) and building (25) codes
_CURSOR = re.compile(r"[0-9]{11,24}[0-9X]")


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as a caller sees it: what it is and the extent of what they may read."""

    collection: Collection
    extent: Bbox | None


@dataclass(frozen=True)
class ItemsRequest:
    """The checked parameters of an items request."""

    crs: OgcCrs
    bbox: Bbox | None
    bbox_srid: int
    limit: int
    after: str
    on: date | None
    """The date asked with ``datetime`` (None: today)."""


def parse_items_request(
    *,
    limit: int = DEFAULT_LIMIT,
    bbox: str | None = None,
    bbox_crs: str | None = None,
    crs: str | None = None,
    after: str = "",
    datetime_value: str | None = None,
) -> ItemsRequest:
    """Check the query parameters of an items request (each error names its parameter)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    output_crs = parse_crs_uri(crs, field="crs")
    if bbox_crs is not None and bbox is None:
        raise InvalidInput("bbox-crs is given without a bbox", field="bbox-crs")
    box_crs = parse_crs_uri(bbox_crs, field="bbox-crs")
    box = parse_bbox(bbox, crs=box_crs) if bbox is not None else None
    if after and not _CURSOR.fullmatch(after):
        raise InvalidInput(
            "not a cursor this server gave (an id from a `next` link)", field="after"
        )
    return ItemsRequest(
        crs=output_crs,
        bbox=box,
        bbox_srid=box_crs.srid,
        limit=limit,
        after=after,
        on=parse_instant(datetime_value) if datetime_value else None,
    )


def parse_instant(value: str) -> date:
    """The day of a ``datetime`` instant (``2026-05-03`` or ``2026-05-03T08:00:00Z``); grids are
    valid for whole days, so an interval is refused.

    >>> parse_instant("2026-05-03T08:00:00Z")
    datetime.date(2026, 5, 3)
    """
    if "/" in value:
        raise InvalidInput("give one date or instant: intervals are not offered", field="datetime")
    try:
        if "T" in value or "t" in value:
            return datetime.fromisoformat(value.replace("z", "Z")).date()
        return parse_iso_date(value, field="datetime")  # not 20260503 nor 2026-W18-7
    except (ValueError, InvalidInput):
        raise InvalidInput(
            "not an RFC 3339 date or date-time (2026-05-03 or 2026-05-03T08:00:00Z)",
            field="datetime",
        ) from None


def list_collections(session: Session, *, scope: Scope, on: date) -> list[CollectionInfo]:
    """The collections the caller may read, each with the extent of their rows in it."""
    return [
        describe_collection(session, collection_id=c.id, scope=scope, on=on)
        for c in readable_collections(scope)
    ]


def describe_collection(
    session: Session, *, collection_id: str, scope: Scope, on: date
) -> CollectionInfo:
    """One collection and the extent of the caller's rows in it."""
    collection = get_collection(collection_id)
    clause = rows_clause(collection, scope=scope, on=on)
    extent = queries.select_extent(
        session,
        collection,
        clause=clause,
        is_whole_table=is_whole_table(collection, scope=scope),
    )
    return CollectionInfo(collection=collection, extent=extent)


def _checked_day(collection: Collection, on: date | None) -> None:
    """A date asked of a collection without time is refused, not ignored."""
    if on is not None and not collection.is_temporal:
        raise InvalidInput(f"the {collection.id} collection has no time", field="datetime")


def items_page(
    session: Session, *, collection_id: str, scope: Scope, request: ItemsRequest, today: date
) -> FeaturePage:
    """A page of the caller's features of a collection, in id order."""
    collection = get_collection(collection_id)
    _checked_day(collection, request.on)
    return queries.select_page(
        session,
        collection,
        clause=rows_clause(collection, scope=scope, on=request.on or today),
        crs=request.crs,
        bbox=request.bbox,
        bbox_srid=request.bbox_srid,
        limit=request.limit,
        after=request.after,
    )


def item(
    session: Session,
    *,
    collection_id: str,
    feature_id: str,
    scope: Scope,
    crs: OgcCrs,
    today: date,
    on: date | None = None,
) -> str:
    """One feature as GeoJSON text, for temporal collections the version valid ``on`` (a
    ``datetime``, default ``today``), as the items page answers; NotFound when it does not
    exist then or lies outside the scope (the same answer)."""
    collection = get_collection(collection_id)
    _checked_day(collection, on)
    fid = _feature_id(collection, feature_id)
    clause = rows_clause(collection, scope=scope, on=on or today)
    feature = queries.select_feature(session, collection, clause=clause, fid=fid, crs=crs)
    if feature is None:
        when = f" on {on.isoformat()}" if on is not None else ""
        raise NotFound(f"no feature of {collection.id} has the id {fid}{when}", field="featureId")
    return feature


def _feature_id(collection: Collection, text: str) -> str:
    """A feature id in its stored spelling (codes are accepted grouped, with separators)."""
    if collection is BUILDINGS:
        return parse_code(text, field="featureId").code
    if collection is GRIDS:
        return parse_grid_code(text, field="featureId")
    return pad_code(text[:20], field_name="featureId")
