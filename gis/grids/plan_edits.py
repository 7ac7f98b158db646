"""Editing a draft plan: a grid's polygon, split by a line, merge, add, delete.

Geometries come in as GeoJSON in EPSG:4326 (RFC 7946) and are stored in EPSG:4490. Editing a
polygon with ``adjust_neighbours`` moves shared boundaries: the neighbours lose the area the
grid now takes, and area the grid gives up goes to the neighbour it shares most boundary with
(so the plan keeps tiling its communities). Every edit refreshes the cached impact of what it
touched (``gis.grids.plans.refresh_plan``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.ops import split as split_polygon
from sqlalchemy.orm import Session

from gis.access.scope import Scope, division_prefix
from gis.audit.service import record_audit
from gis.buildings.models import LineageEvent
from gis.crs import WGS84_SRID, SourceCrs, transform_geometries
from gis.divisions.models import DivisionLevel
from gis.errors import InvalidGeometry, InvalidInput, NotFound
from gis.geometry import check_polygons
from gis.grids import area_queries, plan_queries
from gis.grids.edit_snapping import SNAP_DEG, snapped_to_outlines, without_crumbs
from gis.grids.measure import area_m2
from gis.grids.models import GridPlan
from gis.grids.plan_problems import EditArea
from gis.grids.plans import get_plan, ref, refresh_plan
from gis.grids.topology import polygonal_parts

MAX_EDIT_VERTICES = 20_000


def geometry_from_geojson(value: Any, *, field: str, kind: str = "polygon") -> Any:
    """A GeoJSON geometry (EPSG:4326) as a shapely geometry in EPSG:4490, checked. A ``crs``
    member (pre-RFC 7946) naming any other CRS is refused rather than ignored."""
    member = value.get("crs") if isinstance(value, dict) else None
    if member is not None:
        name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
        if not (isinstance(name, str) and name.upper().endswith(("CRS84", "EPSG::4326", ":4326"))):
            raise InvalidInput(
                f"coordinates are lon/lat in EPSG:4326 (RFC 7946); a crs member naming {name!r} "
                "is not read",
                field=f"{field}.crs",
            )
    try:
        text_value = value if isinstance(value, str) else json.dumps(value)
        geom = shapely.from_geojson(text_value)
    except (TypeError, ValueError, shapely.errors.GEOSException) as error:
        raise InvalidGeometry(f"not a GeoJSON geometry: {error}", field=field) from None
    if shapely.get_num_coordinates(geom) > MAX_EDIT_VERTICES:
        raise InvalidGeometry(f"more than {MAX_EDIT_VERTICES:,} vertices", field=field)
    if kind == "line":
        if shapely.get_type_id(geom) not in (1, 5) or shapely.is_empty(geom):
            raise InvalidGeometry("a LineString is needed", field=field)
        coords = shapely.get_coordinates(geom)
        if not np.isfinite(coords).all() or (np.abs(coords) > [180, 90]).any():
            raise InvalidGeometry("coordinates must be lon/lat within ±180/±90", field=field)
    else:
        check = check_polygons(np.array([geom], dtype=object), repair=False, is_geographic=True)
        if not check.accepted[0]:
            raise InvalidGeometry(check.reasons[0], field=field)
        if len(shapely.get_parts(geom)) != 1:
            raise InvalidGeometry("a grid is one polygon (a MultiPolygon of one part)", field=field)
    return transform_geometries(np.array([geom], dtype=object), SourceCrs(epsg=WGS84_SRID))[0]


def _grid(
    session: Session, plan: GridPlan, grid_id: int, *, field: str = "grid_id"
) -> plan_queries.PlanGridRow:
    rows = plan_queries.select_plan_grids(session, plan_id=plan.id, ids=[grid_id])
    if not rows:
        raise NotFound(f"the plan has no grid {grid_id}", field=field)
    return rows[0]


def _communities_meeting(session: Session, geoms: Sequence[Any]) -> set[str]:
    area = shapely.union_all(np.array([g for g in geoms if g is not None], dtype=object))
    return area_queries.select_community_codes_meeting(session, wkb=shapely.to_wkb(area))


def _clean(geom: Any) -> Any:
    """The polygonal part of an overlay result, as one geometry (maybe empty)."""
    return shapely.union_all(np.array(polygonal_parts(geom), dtype=object))


def _outline(geom: Any) -> Any:
    return shapely.boundary(geom)


def _exact(session: Session, plan: GridPlan, *, old: Any, new: Any) -> Any:
    """``new`` snapped onto the outlines of the plan's grids and the communities around it
    (:func:`gis.grids.edit_snapping.snapped_to_outlines`)."""
    area = shapely.buffer(shapely.envelope(new), SNAP_DEG * 2)
    rows = plan_queries.select_plan_grids(
        session, plan_id=plan.id, meeting_wkb=shapely.to_wkb(area)
    )
    communities = area_queries.select_communities_meeting(session, wkb=shapely.to_wkb(area))
    outlines = [old, *(shapely.from_wkb(row.wkb) for row in rows)]
    outlines += [shapely.from_wkb(wkb) for wkb in communities.values()]
    return snapped_to_outlines(new, outlines, old=old)


def _take_and_give(
    session: Session, plan: GridPlan, *, grid_id: int, old: Any, new: Any
) -> tuple[dict[int, Any], set[int], list[plan_queries.PlanGridRow], Any]:
    """Neighbours lose what ``new`` takes; what ``old`` gives up goes to the neighbour sharing
    most boundary with it; crumbs ``new`` would leave of a neighbour go to ``new``. Deletes
    the neighbours left empty; returns the new polygons of the others (for the caller to store
    with its own), the deleted ids, the rows (as they were) of the neighbours changed or
    deleted, and ``new`` with the crumbs."""
    envelope = shapely.envelope(shapely.union_all([old, new]) if old is not None else new)
    rows = plan_queries.select_plan_grids(
        session, plan_id=plan.id, meeting_wkb=shapely.to_wkb(shapely.buffer(envelope, 1e-6))
    )
    neighbours: dict[int, Any] = {
        row.id: shapely.from_wkb(row.wkb) for row in rows if row.id != grid_id
    }
    changed: set[int] = set()
    crumbs: list[Any] = []
    for nid, geom in neighbours.items():
        if shapely.intersects(geom, new) and area_m2(shapely.intersection(geom, new)) > 0.01:
            neighbours[nid], lost = without_crumbs(_clean(shapely.difference(geom, new)), new)
            crumbs.extend(lost)
            changed.add(nid)
    if crumbs:
        new = _clean(shapely.union_all(np.array([new, *crumbs], dtype=object)))
    if old is not None:
        for piece in polygonal_parts(shapely.difference(old, new)):
            lengths = {
                nid: float(shapely.length(shapely.intersection(_outline(geom), _outline(piece))))
                for nid, geom in neighbours.items()
                if not shapely.is_empty(geom)
            }
            best = max(lengths, key=lambda k: lengths[k], default=None)
            if best is not None and lengths[best] > 0:
                neighbours[best] = _clean(shapely.union(neighbours[best], piece))
                changed.add(best)
    deleted = {nid for nid in changed if shapely.is_empty(neighbours[nid])}
    plan_queries.delete_plan_grids(session, ids=sorted(deleted))
    before = [row for row in rows if row.id in changed]
    return {nid: neighbours[nid] for nid in sorted(changed - deleted)}, deleted, before, new


def _edited(
    rows: Sequence[plan_queries.PlanGridRow],
    shapes: Mapping[int, Any],
    *,
    added: Sequence[int] = (),
    community: str | None = None,
) -> EditArea:
    """What an edit changed: ``rows`` as they were, ``shapes`` as they are, ``added`` grids."""
    polygons = [shapely.from_wkb(row.wkb) for row in rows] + list(shapes.values())
    return EditArea(
        polygons=tuple(p for p in polygons if p is not None and not shapely.is_empty(p)),
        refs=frozenset([ref(row) for row in rows] + [f"#{grid_id}" for grid_id in added]),
        communities=frozenset(
            [row.community_code for row in rows] + ([community] if community else [])
        ),
    )


def edit_grid(
    session: Session,
    *,
    plan_id: int,
    grid_id: int,
    geometry: Any,
    scope: Scope,
    adjust_neighbours: bool = True,
) -> list[int]:
    """Give a plan grid a new polygon; returns the ids of the grids that changed."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    row = _grid(session, plan, grid_id)
    old = shapely.from_wkb(row.wkb)
    new = _exact(session, plan, old=old, new=geometry_from_geojson(geometry, field="geometry"))
    shapes: dict[int, Any] = {}
    deleted: set[int] = set()
    before: list[plan_queries.PlanGridRow] = []
    if adjust_neighbours:
        shapes, deleted, before, new = _take_and_give(
            session, plan, grid_id=grid_id, old=old, new=new
        )
    shapes[grid_id] = new
    plan_queries.update_plan_grid_geometries(
        session, wkbs={gid: shapely.to_wkb(geom) for gid, geom in shapes.items()}
    )
    touched = set(shapes)
    communities = _communities_meeting(session, [old, new]) | {row.community_code}
    refresh_plan(
        session,
        plan=plan,
        grid_ids=touched,
        communities=communities,
        geometries=shapes,
        edited=_edited([row, *before], shapes),
    )
    record_audit(
        session,
        actor=scope.actor,
        action="plans.edit",
        target_codes=[str(plan.id), row.code or f"#{row.id}"],
    )
    return sorted(touched | deleted)


def add_grid(
    session: Session,
    *,
    plan_id: int,
    geometry: Any,
    scope: Scope,
    community_code: str | None = None,
    name: str | None = None,
    adjust_neighbours: bool = True,
) -> int:
    """A new grid (its code is issued at publishing); its community is the one given, else the
    one holding most of it."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    new = _exact(session, plan, old=None, new=geometry_from_geojson(geometry, field="geometry"))
    meeting = area_queries.select_communities_meeting(session, wkb=shapely.to_wkb(new))
    if community_code is None:
        if not meeting:
            raise InvalidGeometry("the grid lies in no community", field="geometry")
        community_code = max(
            meeting, key=lambda c: area_m2(shapely.intersection(shapely.from_wkb(meeting[c]), new))
        )
    _check_community(session, plan, community_code)
    shapes: dict[int, Any] = {}
    before: list[plan_queries.PlanGridRow] = []
    if adjust_neighbours:
        shapes, _, before, new = _take_and_give(session, plan, grid_id=-1, old=None, new=new)
        plan_queries.update_plan_grid_geometries(
            session, wkbs={gid: shapely.to_wkb(geom) for gid, geom in shapes.items()}
        )
    values = {"plan_id": plan.id, "community_code": community_code, "name": name}
    new_id = plan_queries.insert_plan_grid(session, values=values, wkb=shapely.to_wkb(new))
    refresh_plan(
        session,
        plan=plan,
        grid_ids=set(shapes) | {new_id},
        communities=set(meeting) | {community_code},
        edited=_edited(before, {**shapes, new_id: new}, added=[new_id], community=community_code),
    )
    record_audit(session, actor=scope.actor, action="plans.add", target_codes=[str(plan.id)])
    return new_id


def _check_community(session: Session, plan: GridPlan, community_code: str) -> None:
    """A plan's grid belongs to a community (village level) under the plan's division: a
    district, a township or another plan's community would break the rules only later."""
    division = area_queries.select_division(session, code=community_code)
    if division is None:
        raise NotFound("no division has this code", field="community_code")
    if division.level is not DivisionLevel.VILLAGE:
        raise InvalidInput(
            f"{community_code} is a {division.level}, not a community: a grid belongs to a "
            "community (village level)",
            field="community_code",
        )
    if not community_code.startswith(division_prefix(plan.division_code)):
        raise InvalidInput(
            f"community {community_code} is not in the plan's division {plan.division_code}",
            field="community_code",
        )


def delete_grid(session: Session, *, plan_id: int, grid_id: int, scope: Scope) -> None:
    """Remove a grid from the plan (its area is a gap until a neighbour takes it)."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    row = _grid(session, plan, grid_id)
    plan_queries.delete_plan_grids(session, ids=[grid_id])
    communities = _communities_meeting(session, [shapely.from_wkb(row.wkb)])
    refresh_plan(
        session,
        plan=plan,
        grid_ids=[],
        communities=communities | {row.community_code},
        edited=_edited([row], {}),
    )
    record_audit(
        session,
        actor=scope.actor,
        action="plans.delete",
        target_codes=[str(plan.id), row.code or f"#{row.id}"],
    )


def _parents(row: plan_queries.PlanGridRow) -> list[str]:
    return [row.code] if row.code is not None else list(row.parent_codes)


def split_grid(
    session: Session, *, plan_id: int, grid_id: int, line: Any, scope: Scope
) -> list[int]:
    """Cut a grid along a line drawn across it; each piece becomes a new grid (new codes at
    publishing, split lineage from the old one)."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    row = _grid(session, plan, grid_id)
    cutter = geometry_from_geojson(line, field="line", kind="line")
    geom = shapely.from_wkb(row.wkb)
    pieces = [p for p in split_polygon(_clean(geom), cutter).geoms if area_m2(p) > 0.01]
    if len(pieces) < 2:
        raise InvalidGeometry(
            "the line does not cut the grid in two: draw it across the grid from edge to edge",
            field="line",
        )
    plan_queries.delete_plan_grids(session, ids=[grid_id])
    values = {
        "plan_id": plan.id,
        "community_code": row.community_code,
        "name": row.name,
        "parent_codes": _parents(row),
        "lineage_event": LineageEvent.SPLIT,
    }
    ids = [
        plan_queries.insert_plan_grid(session, values=values, wkb=shapely.to_wkb(piece))
        for piece in pieces
    ]
    refresh_plan(
        session,
        plan=plan,
        grid_ids=ids,
        communities={row.community_code},
        edited=_edited([row], dict(zip(ids, pieces, strict=True)), added=ids),
    )
    record_audit(
        session,
        actor=scope.actor,
        action="plans.split",
        target_codes=[str(plan.id), row.code or f"#{row.id}"],
    )
    return ids


def merge_grids(session: Session, *, plan_id: int, grid_ids: Sequence[int], scope: Scope) -> int:
    """Merge grids of one community that touch into one new grid (merge lineage)."""
    plan = get_plan(session, plan_id=plan_id, scope=scope, for_update=True, draft=True)
    unique = sorted(set(grid_ids))
    if len(unique) < 2:
        raise InvalidInput("a merge needs at least two different grids", field="grid_ids")
    rows = [_grid(session, plan, grid_id, field="grid_ids") for grid_id in unique]
    communities = {row.community_code for row in rows}
    if len(communities) > 1:
        raise InvalidInput("grids of different communities cannot be merged", field="grid_ids")
    merged = _clean(shapely.union_all([shapely.from_wkb(row.wkb) for row in rows]))
    if len(polygonal_parts(merged)) != 1:
        raise InvalidGeometry(
            "the grids do not touch: a merged grid must be one polygon", field="grid_ids"
        )
    plan_queries.delete_plan_grids(session, ids=unique)
    parents = sorted({code for row in rows for code in _parents(row)})
    values = {
        "plan_id": plan.id,
        "community_code": rows[0].community_code,
        "name": rows[0].name,
        "parent_codes": parents,
        "lineage_event": LineageEvent.MERGE,
    }
    new_id = plan_queries.insert_plan_grid(session, values=values, wkb=shapely.to_wkb(merged))
    refresh_plan(
        session,
        plan=plan,
        grid_ids=[new_id],
        communities=communities,
        edited=_edited(rows, {new_id: merged}, added=[new_id]),
    )
    record_audit(
        session, actor=scope.actor, action="plans.merge", target_codes=[str(plan.id), *parents]
    )
    return new_id
