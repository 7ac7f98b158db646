"""SQL of draft plans: copying live grids in, reading and writing plan grids, their GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.grids.models import GridPlan, PlanGrid


@dataclass(frozen=True)
class PlanGridRow:
    """A plan grid as the services use it (geometry as WKB when asked for)."""

    id: int
    code: str | None
    community_code: str
    name: str | None
    parent_codes: list[str]
    lineage_event: str | None
    is_changed: bool
    stats: dict[str, Any]
    wkb: bytes | None


_COPY_LIVE = text(
    """
    INSERT INTO plan_grids (plan_id, code, source_version, community_code, name, geom)
    SELECT :plan_id, code, version, community_code, name, ST_Multi(geom)
    FROM grids
    WHERE valid_to IS NULL AND community_code = ANY(CAST(:communities AS varchar[]))
    ORDER BY code
    RETURNING id
    """
)

_REFRESH_CHANGED = text(
    """
    UPDATE plan_grids pg SET is_changed = NOT EXISTS (
        SELECT 1 FROM grids g
        WHERE g.code = pg.code AND g.version = pg.source_version
          AND ST_Equals(ST_Multi(g.geom), pg.geom)
    )
    WHERE pg.id = ANY(CAST(:ids AS bigint[])) AND pg.code IS NOT NULL
    """
)


def copy_live_grids(session: Session, *, plan_id: int, communities: Sequence[str]) -> list[int]:
    """Copy the open grids of ``communities`` into the plan; returns the new plan grid ids."""
    rows = session.execute(_COPY_LIVE, {"plan_id": plan_id, "communities": list(communities)})
    return [int(row[0]) for row in rows]


def select_plan(session: Session, *, plan_id: int, for_update: bool = False) -> GridPlan | None:
    statement = select(GridPlan).where(GridPlan.id == plan_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def select_plans(session: Session, *, before_id: int | None, limit: int) -> list[GridPlan]:
    statement = select(GridPlan).order_by(GridPlan.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(GridPlan.id < before_id)
    return list(session.scalars(statement))


def select_plan_grids(
    session: Session,
    *,
    plan_id: int,
    ids: Sequence[int] | None = None,
    communities: Sequence[str] | None = None,
    meeting_wkb: bytes | None = None,
    with_geometry: bool = True,
) -> list[PlanGridRow]:
    """Grids of a plan (some ids, some communities, or those meeting a geometry), by id."""
    geometry: Any = func.ST_AsBinary(PlanGrid.geom) if with_geometry else null()
    statement = (
        select(
            PlanGrid.id,
            PlanGrid.code,
            PlanGrid.community_code,
            PlanGrid.name,
            PlanGrid.parent_codes,
            PlanGrid.lineage_event,
            PlanGrid.is_changed,
            PlanGrid.stats,
            geometry,
        )
        .where(PlanGrid.plan_id == plan_id)
        .order_by(PlanGrid.id)
    )
    if ids is not None:
        statement = statement.where(PlanGrid.id.in_(list(ids)))
    if communities is not None:
        statement = statement.where(PlanGrid.community_code.in_(list(communities)))
    if meeting_wkb is not None:
        area = func.ST_GeomFromWKB(meeting_wkb, STORAGE_SRID)
        statement = statement.where(
            PlanGrid.geom.op("&&")(area), func.ST_Intersects(PlanGrid.geom, area)
        )
    return [
        PlanGridRow(
            int(i),
            code,
            community,
            name,
            list(parents or []),
            None if event is None else str(event),
            bool(changed),
            stats or {},
            None if wkb is None else bytes(wkb),
        )
        for i, code, community, name, parents, event, changed, stats, wkb in session.execute(
            statement
        )
    ]


_GRID_STATS = text(
    """
    SELECT coalesce(json_agg(json_build_array(id, code, community_code, name, parent_codes,
                                              lineage_event, is_changed, stats) ORDER BY id),
                    '[]')::text
    FROM plan_grids WHERE plan_id = :plan_id
    """
)


def select_plan_grid_stats(session: Session, *, plan_id: int) -> list[PlanGridRow]:
    """Every grid of a plan without its geometry, read as one JSON document (thousands of
    rows decode much faster at once than row by row)."""
    text_value = session.execute(_GRID_STATS, {"plan_id": plan_id}).scalar_one()
    return [
        PlanGridRow(
            int(i),
            code,
            community,
            name,
            list(parents or []),
            event,
            bool(changed),
            stats or {},
            None,
        )
        for i, code, community, name, parents, event, changed, stats in json.loads(text_value)
    ]


# The stats an edit's answer needs of every grid of the plan (classes are ranked against all of
# them, the diff sums them), as one array per column: each row's JSON parsed once and no Python
# object per grid, so thousands of grids read in milliseconds. ``predicted``: what the last
# edit's answer said of the grid's class (``gis.grids.impact.apply_edit``).
NUMBER_STATS = (
    "households",
    "resident_count",
    "floating_count",
    "rented_houses",
    "large_rentals",
    "organizations",
    "key_person_count",
    "open_events",
    "moved_buildings",
    "moved_households",
    "moved_residents",
)
_GRID_NUMBERS = text(
    """
    SELECT array_agg(g.id ORDER BY g.id), array_agg(g.code ORDER BY g.id),
           array_agg(g.is_changed ORDER BY g.id), array_agg(s.predicted ORDER BY g.id),
           array_agg(coalesce(s.households_estimated, false) ORDER BY g.id),
           array_agg(coalesce(s.households, 0) ORDER BY g.id),
           array_agg(coalesce(s.resident_count, 0) ORDER BY g.id),
           array_agg(coalesce(s.floating_count, 0) ORDER BY g.id),
           array_agg(coalesce(s.rented_houses, 0) ORDER BY g.id),
           array_agg(coalesce(s.large_rentals, 0) ORDER BY g.id),
           array_agg(coalesce(s.organizations, 0) ORDER BY g.id),
           array_agg(coalesce(s.key_person_count, 0) ORDER BY g.id),
           array_agg(coalesce(s.open_events, 0) ORDER BY g.id),
           array_agg(coalesce(s.moved_buildings, 0) ORDER BY g.id),
           array_agg(coalesce(s.moved_households, 0) ORDER BY g.id),
           array_agg(coalesce(s.moved_residents, 0) ORDER BY g.id)
    FROM plan_grids g,
         jsonb_to_record(g.stats) AS s(
             predicted text, households_estimated boolean, households int, resident_count int,
             floating_count int, rented_houses int, large_rentals int, organizations int,
             key_person_count int, open_events int, moved_buildings int, moved_households int,
             moved_residents int)
    WHERE g.plan_id = :plan_id
    """
)
_GRID_IDS = text("SELECT coalesce(array_agg(id), '{}') FROM plan_grids WHERE plan_id = :plan_id")
_SET_PREDICTED = text(
    """
    UPDATE plan_grids SET stats = stats || jsonb_build_object('predicted', CAST(:predicted AS text))
    WHERE id = :id
    """
)


@dataclass(frozen=True)
class PlanNumbers:
    """Columns of every grid of a plan, by id: :data:`NUMBER_STATS` in ``numbers``."""

    ids: list[int]
    codes: list[str | None]
    is_changed: list[bool]
    predicted: list[str | None]
    estimated: list[bool]
    numbers: dict[str, list[int]]


def select_plan_numbers(session: Session, *, plan_id: int) -> PlanNumbers:
    """The numbers of every grid of a plan (no name, parents or geometry)."""
    row = session.execute(_GRID_NUMBERS, {"plan_id": plan_id}).one()
    ids, codes, changed, predicted, estimated, *numbers = (list(value or []) for value in row)
    return PlanNumbers(
        ids=ids,
        codes=codes,
        is_changed=changed,
        predicted=predicted,
        estimated=estimated,
        numbers=dict(zip(NUMBER_STATS, numbers, strict=True)),
    )


def select_plan_grid_ids(session: Session, *, plan_id: int) -> set[int]:
    return set(session.execute(_GRID_IDS, {"plan_id": plan_id}).scalar_one())


def update_predicted(session: Session, *, predicted: dict[int, str]) -> None:
    """Remember what an edit's answer said of these grids' classes (many parameter sets)."""
    if predicted:
        session.execute(
            _SET_PREDICTED, [{"id": grid_id, "predicted": p} for grid_id, p in predicted.items()]
        )


_SNAPSHOT_POINTS = text(
    """
    SELECT building_code, ST_X(geom), ST_Y(geom), community_code FROM plan_buildings
    WHERE plan_id = :plan_id AND community_code = ANY(CAST(:communities AS varchar[]))
      AND geom && ST_MakeEnvelope(:min_x, :min_y, :max_x, :max_y, 4490)
    ORDER BY building_code
    """
)


def select_snapshot_points(
    session: Session,
    *,
    plan_id: int,
    communities: Sequence[str],
    bounds: tuple[float, float, float, float],
) -> list[tuple[str, float, float, str]]:
    """(code, x, y, community) of the plan snapshot's buildings in the communities, whose
    points lie within ``bounds`` (their polygons' bounds): found through the points' spatial
    index rather than by reading the whole district's snapshot."""
    min_x, min_y, max_x, max_y = bounds
    rows = session.execute(
        _SNAPSHOT_POINTS,
        {
            "plan_id": plan_id,
            "communities": list(communities),
            "min_x": min_x,
            "min_y": min_y,
            "max_x": max_x,
            "max_y": max_y,
        },
    )
    return [(code, x, y, community) for code, x, y, community in rows]


def insert_plan_grid(session: Session, *, values: dict[str, Any], wkb: bytes) -> int:
    geom = func.ST_Multi(func.ST_GeomFromWKB(wkb, STORAGE_SRID))
    statement = insert(PlanGrid).values(**values, geom=geom).returning(PlanGrid.id)
    return int(session.execute(statement).scalar_one())


def update_plan_grid_geometry(session: Session, *, grid_id: int, wkb: bytes) -> None:
    geom = func.ST_Multi(func.ST_GeomFromWKB(wkb, STORAGE_SRID))
    session.execute(update(PlanGrid).where(PlanGrid.id == grid_id).values(geom=geom))


def update_plan_grid_geometries(session: Session, *, wkbs: dict[int, bytes]) -> None:
    """New polygons of several plan grids in one statement (many parameter sets)."""
    if wkbs:
        table = PlanGrid.__table__
        geom = func.ST_Multi(func.ST_GeomFromWKB(bindparam("b_wkb"), STORAGE_SRID))
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(geom=geom),  # type: ignore[arg-type]
            [{"b_id": grid_id, "b_wkb": wkb} for grid_id, wkb in wkbs.items()],
        )


def delete_plan_grids(session: Session, *, ids: Sequence[int]) -> None:
    if ids:
        session.execute(delete(PlanGrid).where(PlanGrid.id.in_(list(ids))))


def refresh_changed(session: Session, *, ids: Sequence[int]) -> None:
    """``is_changed``: the polygon differs from the live version the grid was copied from."""
    if ids:
        session.execute(_REFRESH_CHANGED, {"ids": list(ids)})


def update_stats(session: Session, *, stats: dict[int, dict[str, Any]]) -> None:
    """Store the cached stats of plan grids (one statement, many parameter sets)."""
    if stats:
        table = PlanGrid.__table__
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(stats=bindparam("b_stats")),  # type: ignore[arg-type]
            [{"b_id": grid_id, "b_stats": values} for grid_id, values in stats.items()],
        )


def update_plan(session: Session, *, plan_id: int, values: dict[str, Any]) -> None:
    session.execute(
        update(GridPlan).where(GridPlan.id == plan_id).values(**values, updated_at=func.now())
    )


def plan_geojson(session: Session, *, plan_id: int, ids: Sequence[int] | None = None) -> str:
    """The grids of a plan (or some of them) as a FeatureCollection (EPSG:4326), built by
    PostGIS."""
    feature = func.json_build_object(
        "type",
        "Feature",
        "id",
        PlanGrid.id,
        "geometry",
        func.ST_AsGeoJSON(func.ST_Transform(PlanGrid.geom, WGS84_SRID), 7).cast(JSON),
        "properties",
        func.json_build_object(
            "id",
            PlanGrid.id,
            "code",
            PlanGrid.code,
            "community_code",
            PlanGrid.community_code,
            "name",
            PlanGrid.name,
            "is_changed",
            PlanGrid.is_changed,
            "parent_codes",
            PlanGrid.parent_codes,
            "lineage_event",
            PlanGrid.lineage_event,
        ),
    )
    chosen = select(PlanGrid.id.label("id"), feature.label("feature")).where(
        PlanGrid.plan_id == plan_id
    )
    if ids is not None:
        chosen = chosen.where(PlanGrid.id.in_(list(ids)))
    page = chosen.subquery()
    features = func.coalesce(
        func.json_agg(aggregate_order_by(page.c.feature, page.c.id)), cast("[]", JSON)
    )
    statement = select(
        func.json_build_object("type", "FeatureCollection", "features", features).cast(Text)
    ).select_from(page)
    return str(session.execute(statement).scalar_one())
