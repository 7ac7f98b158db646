"""SQL of draft plans: copying live grids in, reading and writing plan grids, their GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    JSON,
    Text,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gis.crs import STORAGE_SRID, WGS84_SRID
from gis.grids.class_arrays import COLUMNS as CLASS_COLUMNS
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
    if not for_update:
        return session.scalars(statement).one_or_none()
    known = session.identity_map.get(session.identity_key(GridPlan, plan_id))
    if known is None:
        return session.scalars(statement.with_for_update()).one_or_none()
    # already in this session (an edit locks its plan for its answer, then for the edit): lock
    # the row without reading its JSON again (a SELECT would not refresh a loaded object either)
    lock = select(GridPlan.id).where(GridPlan.id == plan_id).with_for_update()
    return known if session.execute(lock).scalar_one_or_none() is not None else None


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
        # the plan's polygons in the box through the (plan_id, geom) index first, whatever the
        # statistics say (right after drafting they do not know the plan's rows, and every
        # polygon of the plan was read from TOAST to test it against the box: 14 ms)
        area = func.ST_GeomFromWKB(meeting_wkb, STORAGE_SRID)
        boxed = (
            select(PlanGrid.id.label("id"))
            .where(PlanGrid.plan_id == plan_id, PlanGrid.geom.op("&&")(area))
            .cte("boxed")
            .prefix_with("MATERIALIZED")
        )
        statement = statement.where(
            PlanGrid.id.in_(select(boxed.c.id)), func.ST_Intersects(PlanGrid.geom, area)
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


# The numbers an edit's answer needs of every grid of the plan (classes are ranked against all of
# them, the diff sums them), kept in ``plan_grids.numbers`` in this order (the last is 1 when the
# households are estimated): a short integer array stays in the row, where the ``stats`` JSON is
# stored compressed out of line and cost a TOAST fetch per grid. ``predicted``: what the last
# edit's answer said of the grid's class (``gis.grids.edit_impact.apply_edit``).
NUMBER_STATS = (
    *CLASS_COLUMNS,
    "moved_buildings",
    "moved_households",
    "moved_residents",
    "households_estimated",
)
_GRID_NUMBERS = text(
    "SELECT id, code, is_changed, predicted, numbers FROM plan_grids "
    "WHERE plan_id = :plan_id ORDER BY id"
)
_GRID_IDS = text("SELECT coalesce(array_agg(id), '{}') FROM plan_grids WHERE plan_id = :plan_id")
_SET_PREDICTED = text(
    """
    UPDATE plan_grids g SET predicted = v.predicted
    FROM unnest(CAST(:ids AS bigint[]), CAST(:predicted AS text[])) AS v(id, predicted)
    WHERE g.id = v.id
    """
)


def numbers_of(stats: dict[str, Any]) -> list[int]:
    """A grid's ``stats`` as its ``numbers`` (:data:`NUMBER_STATS` order)."""
    return [int(stats.get(name) or 0) for name in NUMBER_STATS]


@dataclass(frozen=True)
class PlanNumbers:
    """Columns of every grid of a plan, by id: :data:`NUMBER_STATS` in ``numbers``."""

    ids: list[int]
    codes: list[str | None]
    is_changed: list[bool]
    predicted: list[str | None]
    estimated: npt.NDArray[np.bool_]
    numbers: dict[str, npt.NDArray[np.int64]]


def select_plan_numbers(session: Session, *, plan_id: int) -> PlanNumbers:
    """The numbers of every grid of a plan (no name, parents, stats or geometry), as columns."""
    rows = session.execute(_GRID_NUMBERS, {"plan_id": plan_id}).all()
    width = len(NUMBER_STATS)
    lists = [row[4] for row in rows]
    if any(len(values) != width for values in lists):  # a grid not measured yet: zeros
        lists = [(list(values) + [0] * width)[:width] for values in lists]
    table = np.array(lists, dtype=np.int64).reshape(len(lists), width)
    return PlanNumbers(
        ids=[row[0] for row in rows],
        codes=[row[1] for row in rows],
        is_changed=[row[2] for row in rows],
        predicted=[row[3] for row in rows],
        estimated=table[:, -1].astype(bool),
        numbers={name: table[:, i] for i, name in enumerate(NUMBER_STATS[:-1])},
    )


def select_plan_grid_ids(session: Session, *, plan_id: int) -> set[int]:
    return set(session.execute(_GRID_IDS, {"plan_id": plan_id}).scalar_one())


def update_predicted(session: Session, *, predicted: dict[int, str]) -> None:
    """Remember what an edit's answer said of these grids' classes (one statement)."""
    if predicted:
        session.execute(
            _SET_PREDICTED, {"ids": list(predicted), "predicted": list(predicted.values())}
        )


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
    """Store the cached stats of plan grids, and their numbers (one statement, many parameter
    sets)."""
    if stats:
        table = PlanGrid.__table__
        statement = update(table).where(table.c.id == bindparam("b_id"))  # type: ignore[arg-type]
        session.connection().execute(
            statement.values(stats=bindparam("b_stats"), numbers=bindparam("b_numbers")),
            [
                {"b_id": grid_id, "b_stats": values, "b_numbers": numbers_of(values)}
                for grid_id, values in stats.items()
            ],
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
        func.json_agg(aggregate_order_by(page.c.feature, page.c.id)), literal_column("'[]'::json")
    )
    statement = select(
        func.json_build_object("type", "FeatureCollection", "features", features).cast(Text)
    ).select_from(page)
    return str(session.execute(statement).scalar_one())
