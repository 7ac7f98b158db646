"""SQL of grids: versions valid on a date, code counters, version switches, lineage, GeoJSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Text,
    and_,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis.buildings.models import Building
from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.errors import Conflict
from gis.grids.models import Grid, GridLineage

GRIDS_LOCK_KEY = 0x67726964_73776368  # "gridswch": per district, XOR-ed with the district code
Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class GridRow:
    """A grid version as the services use it (geometry as WKB, EPSG:4490)."""

    uid: Any
    code: str
    version: int
    name: str | None
    community_code: str
    grid_class: str | None
    valid_from: date
    valid_to: date | None
    wkb: bytes
    indicators: dict[str, Any]


def valid_on(on: date | Any, grid: Any = Grid) -> ColumnElement[bool]:
    """The grid version is valid on ``on``: ``valid_from <= on < valid_to`` (open when NULL)."""
    return and_(grid.valid_from <= on, or_(grid.valid_to.is_(None), grid.valid_to > on))


def prefix_clause(prefix: str, grid: Any = Grid) -> ColumnElement[bool]:
    """Grids of the division whose significant prefix is ``prefix`` (district index first)."""
    district = (
        grid.district_code == prefix[:6]
        if len(prefix) >= 6
        else grid.district_code.startswith(prefix, autoescape=True)
    )
    return and_(district, grid.community_code.startswith(prefix, autoescape=True))


_ROW_COLUMNS = (
    Grid.uid,
    Grid.code,
    Grid.version,
    Grid.name,
    Grid.community_code,
    Grid.grid_class,
    Grid.valid_from,
    Grid.valid_to,
    func.ST_AsBinary(Grid.geom),
    Grid.indicators,
)


def _rows(session: Session, statement: Any) -> list[GridRow]:
    rows = []
    for uid, code, version, name, community, cls, start, end, wkb, indicators in session.execute(
        statement
    ):
        grid_class = None if cls is None else str(cls)
        rows.append(
            GridRow(uid, code, version, name, community, grid_class, start, end, bytes(wkb),
                    indicators or {})
        )  # fmt: skip
    return rows


def select_grid_rows(
    session: Session,
    *,
    on: date | None = None,
    prefix: str | None = None,
    codes: Sequence[str] | None = None,
    communities: Sequence[str] | None = None,
    open_only: bool = False,
    for_update: bool = False,
) -> list[GridRow]:
    """Grid versions valid on ``on`` (or the open ones: ``valid_to`` NULL, which includes a
    switch scheduled for a later date), of a division prefix and/or some codes, in code order."""
    statement = select(*_ROW_COLUMNS).order_by(Grid.code)
    if open_only:
        statement = statement.where(Grid.valid_to.is_(None))
    if on is not None:
        statement = statement.where(valid_on(on))
    if prefix is not None:
        statement = statement.where(prefix_clause(prefix))
    if codes is not None:
        statement = statement.where(Grid.code.in_(sorted(codes)))
    if communities is not None:
        statement = statement.where(Grid.community_code.in_(sorted(communities)))
    if for_update:
        statement = statement.with_for_update(of=Grid)
    return _rows(session, statement)


@dataclass(frozen=True)
class ClassRow:
    """What classifying a grid version needs of it (no polygon, no stored indicators)."""

    uid: Any
    code: str
    community_code: str
    grid_class: str | None


def select_class_rows(session: Session, *, on: date, prefix: str | None) -> list[ClassRow]:
    """The grid versions valid on ``on`` under ``prefix`` (all when None), in code order."""
    statement = (
        select(Grid.uid, Grid.code, Grid.community_code, Grid.grid_class)
        .where(valid_on(on))
        .order_by(Grid.code)
    )
    if prefix is not None:
        statement = statement.where(prefix_clause(prefix))
    return [
        ClassRow(uid, code, community, None if cls is None else str(cls))
        for uid, code, community, cls in session.execute(statement)
    ]


def select_grid(session: Session, *, code: str, on: date, where: Any = None) -> Grid | None:
    """The version of grid ``code`` valid on ``on`` (if ``where`` also admits it)."""
    statement = select(Grid).where(Grid.code == code, valid_on(on))
    if where is not None:
        statement = statement.where(where)
    return session.scalars(statement).one_or_none()


def select_versions(session: Session, *, code: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Grid.version, Grid.valid_from, Grid.valid_to, Grid.grid_class, Grid.name)
        .where(Grid.code == code)
        .order_by(Grid.version)
    ).mappings()
    return [dict(row) for row in rows]


def code_was_issued(session: Session, *, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` exist in any version (live, scheduled or retired)."""
    return set(session.scalars(select(Grid.code).where(Grid.code.in_(sorted(codes))).distinct()))


def select_grid_lineage(session: Session, *, code: str) -> list[GridLineage]:
    statement = (
        select(GridLineage)
        .where((GridLineage.parent_code == code) | (GridLineage.child_code == code))
        .order_by(GridLineage.id)
    )
    return list(session.scalars(statement))


def grid_feature(session: Session, *, uid: Any) -> dict[str, Any]:
    """One grid version as a GeoJSON Feature (EPSG:4326) built by PostGIS."""
    row = session.execute(select(_feature_expression()).where(Grid.uid == uid)).scalar_one()
    return dict(row)


def _feature_expression() -> Any:
    return func.json_build_object(
        "type",
        "Feature",
        "id",
        Grid.code,
        "geometry",
        func.ST_AsGeoJSON(func.ST_Transform(Grid.geom, WGS84_SRID), 7).cast(JSON),
        "properties",
        func.json_build_object(
            "code",
            Grid.code,
            "version",
            Grid.version,
            "name",
            Grid.name,
            "community_code",
            Grid.community_code,
            "class",
            Grid.grid_class,
            "valid_from",
            Grid.valid_from,
            "valid_to",
            Grid.valid_to,
        ),
    )


def grids_geojson(
    session: Session,
    *,
    on: date,
    bbox: Bbox | None,
    prefix: str | None,
    building_code: str | None,
    limit: int,
    after: str,
) -> tuple[str, str | None]:
    """A page of grid versions valid on ``on`` as a FeatureCollection (text, built by PostGIS),
    in code order, and the cursor of the next page (None at the end). ``building_code``: only
    the grid holding that building's point on surface."""
    conditions: list[Any] = [valid_on(on)]
    if bbox is not None:
        conditions.append(Grid.geom.op("&&")(func.ST_MakeEnvelope(*bbox, STORAGE_SRID)))
    if prefix is not None:
        conditions.append(prefix_clause(prefix))
    if building_code is not None:
        point = (
            select(func.ST_PointOnSurface(Building.geom))
            .where(Building.code == building_code)
            .scalar_subquery()
        )
        conditions.append(func.ST_Covers(Grid.geom, point))
    page = (
        select(Grid.code.label("code"), _feature_expression().label("feature"))
        .where(*conditions, Grid.code > after)
        .order_by(Grid.code)
        .limit(limit)
        .subquery()
    )
    features = func.coalesce(
        func.json_agg(aggregate_order_by(page.c.feature, page.c.code)), literal_column("'[]'::json")
    )
    body, count, last = session.execute(
        select(
            func.json_build_object("type", "FeatureCollection", "features", features).cast(Text),
            func.count(),
            func.max(page.c.code),
        ).select_from(page)
    ).one()
    more = count == limit and session.scalar(
        select(select(Grid.uid).where(*conditions, Grid.code > last).exists())
    )
    return str(body), (str(last) if more else None)


def lock_district(session: Session, *, district_code: str) -> None:
    """Serialise grid switches (publish, import) in one district until the transaction ends."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": GRIDS_LOCK_KEY ^ int(district_code)},
    )


def lock_districts_of(session: Session, *, communities: Iterable[str]) -> None:
    """:func:`lock_district` for each district of these communities, in code order (two
    switches over several districts cannot deadlock)."""
    for district in sorted({code[:6] for code in communities}):
        lock_district(session, district_code=district)


_ALLOCATE = text(
    """
    INSERT INTO grid_code_counters (community_code, last_seq)
    SELECT community, n FROM unnest(CAST(:communities AS varchar[]), CAST(:counts AS int[]))
        AS wanted(community, n)
    ORDER BY community
    ON CONFLICT (community_code)
    DO UPDATE SET last_seq = grid_code_counters.last_seq + EXCLUDED.last_seq
    RETURNING community_code, last_seq
    """
)

_RAISE = text(
    """
    INSERT INTO grid_code_counters (community_code, last_seq)
    SELECT community, seq FROM unnest(CAST(:communities AS varchar[]), CAST(:seqs AS int[]))
        AS kept(community, seq)
    ORDER BY community
    ON CONFLICT (community_code)
    DO UPDATE SET last_seq = greatest(grid_code_counters.last_seq, EXCLUDED.last_seq)
    """
)


def allocate_grid_sequences(session: Session, *, counts: dict[str, int]) -> dict[str, int]:
    """Reserve ``n`` grid sequences per community; returns the first of each (rows locked in
    code order until the transaction ends, so concurrent writers queue and never share one)."""
    if not counts:
        return {}
    communities = sorted(counts)
    try:
        with session.begin_nested():
            rows = session.execute(
                _ALLOCATE, {"communities": communities, "counts": [counts[c] for c in communities]}
            ).all()
    except IntegrityError as error:
        if "last_seq_range" in str(error.orig):
            raise Conflict(
                "a community has run out of grid sequences (999 issued)", field="community_code"
            ) from None
        raise
    return {community: last - counts[community] + 1 for community, last in rows}


def raise_grid_counters(session: Session, *, kept: dict[str, int]) -> None:
    """Make sure no counter is below a sequence kept from a file (it is never issued again)."""
    if kept:
        communities = sorted(kept)
        seqs = [kept[c] for c in communities]
        session.execute(_RAISE, {"communities": communities, "seqs": seqs})


def close_versions(session: Session, *, uids: Sequence[Any], valid_to: date) -> None:
    if uids:
        session.execute(update(Grid).where(Grid.uid.in_(uids)).values(valid_to=valid_to))


def insert_version(session: Session, *, values: dict[str, Any], wkb: bytes) -> None:
    """A new grid version; ``wkb`` is a Polygon in EPSG:4490."""
    session.execute(insert(Grid).values(**values, geom=func.ST_GeomFromWKB(wkb, STORAGE_SRID)))


def insert_lineage(session: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(GridLineage), list(rows))


def exists_open_grids(session: Session, *, communities: Sequence[str]) -> bool:
    statement = select(
        select(Grid.uid)
        .where(Grid.valid_to.is_(None), Grid.community_code.in_(communities))
        .exists()
    )
    return bool(session.scalar(statement))
