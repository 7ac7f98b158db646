"""Use cases of a building's life: status, retire, correct the footprint, split, merge, confirm.

Codes are issued once and never change or return: a retired building keeps its row and code,
a corrected footprint bumps ``version`` and keeps the old one in ``building_footprints``, and a
split or merge retires the parents, issues new codes to the children and records the lineage.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.buildings import queries
from gis.buildings.matching import OVERLAP_SHARE
from gis.buildings.models import (
    Building,
    BuildingFootprint,
    BuildingStatus,
    ChangeKind,
    ImportBatch,
    ImportChange,
    ImportKind,
    Lineage,
    LineageEvent,
)
from gis.buildings.placing import community_of_points
from gis.codes import format_codes, parse_code
from gis.crs import STORAGE_SRID
from gis.errors import Conflict, InvalidGeometry, InvalidInput, NotFound
from gis.geometry import check_polygons
from gis.houses import queries as house_queries

RETIRE_REASONS = ("demolished", "merged", "split", "error", "removed")
MANUAL_RETIRE_REASONS = ("demolished", "error", "removed")
"""What a person may give: ``split`` and ``merged`` come with lineage, from split and merge."""
TOUCH_DEG = 0.00003
"""How close (~3 m) merged buildings must be to one another."""
NEAR_BOUNDARY_DEG = 0.00005
"""How far (~5 m) outside its community a corrected or merged footprint's point may lie: a
correction along the boundary, never the ~500 m a file given ``--community`` may stray."""
MERGE_COVER = 0.5
"""How much of each building merged the merged footprint must hold (a wall redrawn may leave a
strip out; a footprint holding less is another building, or a wrong file or CRS)."""


def code_status(session: Session, *, code: str) -> str | None:
    """The status of an issued building or house code, None when it was never issued."""
    parsed = parse_code(code)
    if parsed.is_building:
        building = queries.select_building(session, code=parsed.code)
        return building.status.value if building else None
    house = house_queries.select_house(session, code=parsed.code)
    return house.status.value if house else None


def get_building(
    session: Session,
    *,
    code: str,
    for_update: bool = False,
    scope: Scope | None = None,
    field: str = "code",
) -> Building:
    """The building with this code (any status); NotFound when it was never issued or lies
    outside ``scope`` (the same answer, so a scope leaks nothing). Errors name ``field``, the
    request's name for the code."""
    parsed = parse_code(code, field=field)
    if not parsed.is_building:
        raise InvalidInput(f"{parsed.code} is a house code, not a building code", field=field)
    where = scope.buildings_clause() if scope is not None else None
    building = queries.select_building(
        session, code=parsed.code, for_update=for_update, where=where
    )
    if building is None:
        raise NotFound(f"no building has the code {parsed.code}", field=field)
    return building


def _live(session: Session, code: str) -> Building:
    building = get_building(session, code=code, for_update=True)
    if building.status is BuildingStatus.RETIRED:
        raise Conflict(f"building {building.code} is retired", field="code")
    return building


def checked_polygon(geom: Any, *, field: str = "geometry") -> Any:
    """One polygon already in EPSG:4490, checked like an import row, as a MultiPolygon."""
    check = check_polygons(np.array([geom], dtype=object), repair=False, is_geographic=True)
    if not check.accepted[0]:
        raise InvalidGeometry(check.reasons[0], field=field)
    return check.geoms[0]


def retire_building(session: Session, *, code: str, reason: str = "demolished") -> Building:
    """Mark a building retired (its code stays, forever); its houses are retired with it.
    Refused while people live in its houses: they are deregistered or moved first, so nobody
    is left living in a retired house."""
    if reason not in MANUAL_RETIRE_REASONS:
        raise InvalidInput(
            f"reason must be one of {', '.join(MANUAL_RETIRE_REASONS)} (split and merge record "
            "their own)",
            field="reason",
        )
    building = _live(session, code)
    _check_houses_empty(session, [building])
    return _retire(session, building, reason)


def _check_houses_empty(session: Session, buildings: list[Building]) -> None:
    uids = [building.uid for building in buildings]
    # the houses first: an arrival registered while this runs would otherwise be left living
    # in a house retired a moment later
    house_queries.lock_houses_of(session, building_uids=uids)
    codes = ", ".join(building.code for building in buildings)
    residents = queries.count_current_residents(session, building_uids=uids)
    if residents:
        raise Conflict(
            f"{residents:,} people live in the houses of {codes} today: deregister or move them "
            "first, so nobody is left in a retired house",
            field="code",
        )
    if organizations := queries.count_organizations_at(session, building_uids=uids):
        raise Conflict(
            f"{organizations:,} organization(s) are at the houses of {codes}: move them to "
            "another house first (POST /api/organizations/{credit_code}/move)",
            field="code",
        )


def _retire(session: Session, building: Building, reason: str) -> Building:
    building.status = BuildingStatus.RETIRED
    building.retired_at = func.now()
    building.retired_reason = reason
    house_queries.retire_houses_of(session, building_uid=building.uid)
    session.flush()
    return building


def confirm_building(session: Session, *, code: str) -> Building:
    """Provisional → active; pending removal → retired (a re-survey's removals, confirmed)."""
    building = _live(session, code)
    if building.status is BuildingStatus.PROVISIONAL:
        building.status = BuildingStatus.ACTIVE
        session.flush()
        return building
    if building.status is BuildingStatus.PENDING_REMOVAL:
        _check_houses_empty(session, [building])
        return _retire(session, building, "removed")
    raise Conflict(f"building {building.code} is already active", field="code")


def confirm_provisional_of_batch(session: Session, *, batch_id: int) -> list[str]:
    """Provisional → active for every building a re-survey (import batch ``batch_id``) added;
    the codes confirmed. Removals (pending_removal) are confirmed one code at a time: each
    retires a building."""
    buildings = session.scalars(
        select(Building)
        .where(Building.batch_id == batch_id, Building.status == BuildingStatus.PROVISIONAL)
        .order_by(Building.code)
    ).all()
    if not buildings:
        raise NotFound(f"import batch {batch_id} has no provisional building", field="--batch")
    for building in buildings:
        building.status = BuildingStatus.ACTIVE
    session.flush()
    return [building.code for building in buildings]


def resurvey_changes(
    session: Session, *, batch_id: int, change: ChangeKind | None = None
) -> list[ImportChange]:
    """The changelog of a re-survey (import batch ``batch_id``) in the order it was written,
    only the lines of ``change`` when given; a plain import's batch has none."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.kind is not ImportKind.BUILDINGS:
        raise NotFound(f"no buildings import batch {batch_id}", field="BATCH")
    statement = select(ImportChange).where(ImportChange.batch_id == batch_id)
    if change is not None:
        statement = statement.where(ImportChange.change == change)
    return list(session.scalars(statement.order_by(ImportChange.id)))


def correct_geometry(
    session: Session,
    *,
    code: str,
    geom: Any,
    reason: str = "correction",
    batch_id: int | None = None,
) -> Building:
    """Replace a footprint: the code stays, ``version`` goes up, the old footprint is kept.
    The new footprint must stay in the building's community and not lie over another live
    building."""
    building = _live(session, code)
    new_geom = checked_polygon(geom)
    _check_placement(session, new_geom, community_code=building.community_code,
                     replacing=[building.uid], field="geometry")  # fmt: skip
    session.add(
        BuildingFootprint(
            building_uid=building.uid,
            version=building.version,
            geom=building.geom,
            valid_from=building.updated_at,
            valid_to=func.now(),
            batch_id=batch_id,
            reason=reason,
        )
    )
    building.geom = from_shape(new_geom, srid=STORAGE_SRID)
    building.version = building.version + 1
    building.updated_at = func.now()
    session.flush()
    return building


def _issue_children(
    session: Session, *, geoms: list[Any], like: Building, batch_id: int | None
) -> list[Building]:
    """New active buildings in the community holding each one's point on surface."""
    points = shapely.point_on_surface(np.array(geoms, dtype=object))
    communities = community_of_points(session, points, default=like.community_code)
    counts: dict[str, int] = {}
    for community in communities:
        counts[community] = counts.get(community, 0) + 1
    starts = queries.allocate_sequences(session, counts=counts)
    seqs = []
    for community in communities:
        seqs.append(starts[community])
        starts[community] += 1
    codes = format_codes(
        community_codes=np.array(communities, dtype="U12"),
        structure_classes=like.structure_class,
        seqs=np.array(seqs, dtype=np.int64),
    )
    children = [
        Building(
            code=str(code),
            district_code=community[:6],
            community_code=community,
            structure_class=like.structure_class,
            seq=seq,
            status=BuildingStatus.ACTIVE,
            version=1,
            geom=from_shape(geom, srid=STORAGE_SRID),
            height_m=like.height_m,
            floors=like.floors,
            use=like.use,
            batch_id=batch_id,
        )
        for code, community, seq, geom in zip(codes, communities, seqs, geoms, strict=True)
    ]
    session.add_all(children)
    session.flush()
    return children


def split_building(
    session: Session, *, code: str, parts: list[Any], on: date | None = None
) -> list[Building]:
    """1 → n: retire the parent, issue a new code to each part, record split lineage."""
    if len(parts) < 2:
        raise InvalidGeometry("a split needs at least two parts", field="parts")
    parent = _live(session, code)
    _check_houses_empty(session, [parent])  # its houses are retired with it
    geoms = [checked_polygon(part, field=f"parts[{i}]") for i, part in enumerate(parts)]
    parent_shape = shapely.from_wkb(bytes(parent.geom.data))
    for i, geom in enumerate(geoms):
        outside = shapely.area(shapely.difference(geom, parent_shape)) / shapely.area(geom)
        if outside > OVERLAP_SHARE:
            raise InvalidGeometry(
                f"part {i + 1} lies {outside:.0%} outside building {parent.code}: the parts of "
                "a split are pieces of the building",
                field=f"parts[{i}]",
            )
        for j in range(i):
            shared = shapely.area(shapely.intersection(geom, geoms[j])) / shapely.area(geom)
            if shared > OVERLAP_SHARE:
                raise InvalidGeometry(
                    f"parts {j + 1} and {i + 1} overlap ({shared:.0%} of part {i + 1})",
                    field=f"parts[{i}]",
                )
    children = _issue_children(session, geoms=geoms, like=parent, batch_id=None)
    _retire(session, parent, "split")
    for child in children:
        session.add(_lineage(parent.code, child.code, LineageEvent.SPLIT, on))
    session.flush()
    return children


def merge_buildings(
    session: Session, *, codes: list[str], geom: Any | None = None, on: date | None = None
) -> Building:
    """n → 1: retire the parents, issue one new code (footprint: given, else their union). A
    given footprint holds at least half of each parent."""
    unique = list(dict.fromkeys(parse_code(code).code for code in codes))
    if len(unique) < 2:
        raise InvalidGeometry("a merge needs at least two different buildings", field="codes")
    parents = [_live(session, code) for code in sorted(unique)]
    shapes = [shapely.from_wkb(bytes(p.geom.data)) for p in parents]
    near = shapely.union_all(shapely.buffer(np.array(shapes, dtype=object), TOUCH_DEG / 2))
    if len(shapely.get_parts(near)) > 1:
        raise InvalidGeometry(
            "the buildings of a merge must touch (within ~3 m of one another): "
            f"{', '.join(p.code for p in parents)} lie apart",
            field="codes",
        )
    _check_houses_empty(session, parents)  # their houses are retired with them
    merged = checked_polygon(geom if geom is not None else shapely.union_all(shapes))
    _check_covers_parents(merged, parents, shapes)
    _check_placement(session, merged, community_code=parents[0].community_code,
                     replacing=[p.uid for p in parents], field="geometry")  # fmt: skip
    (child,) = _issue_children(session, geoms=[merged], like=parents[0], batch_id=None)
    for parent in parents:
        _retire(session, parent, "merged")
        session.add(_lineage(parent.code, child.code, LineageEvent.MERGE, on))
    session.flush()
    return child


def _check_covers_parents(merged: Any, parents: list[Building], shapes: list[Any]) -> None:
    """A merged footprint holds at least :data:`MERGE_COVER` of each building merged."""
    parts = np.array(shapes, dtype=object)
    inside = shapely.area(shapely.intersection(parts, merged)) / shapely.area(parts)
    short = [(p.code, float(share)) for p, share in zip(parents, inside, strict=True)
             if share < MERGE_COVER]  # fmt: skip
    if short:
        raise InvalidGeometry(
            f"the merged footprint leaves building{'s' if len(short) > 1 else ''} "
            f"{', '.join(code for code, _ in short)} outside "
            f"({', '.join(f'{share:.0%}' for _, share in short)} inside): a merged footprint "
            f"holds at least {MERGE_COVER:.0%} of each building merged (wrong file or --crs?)",
            field="geometry",
        )


def _check_placement(
    session: Session, geom: Any, *, community_code: str, replacing: list[Any], field: str
) -> None:
    """A footprint's point on surface must lie in (or within ~5 m of) its community when the
    community has a boundary, and other live buildings may cover at most
    :data:`OVERLAP_SHARE` of it."""
    point = shapely.to_wkb(shapely.point_on_surface(geom))
    near = queries.community_holds_near(
        session, community_code=community_code, point_wkb=point, within_deg=NEAR_BOUNDARY_DEG
    )
    if near is False:
        raise InvalidGeometry(
            f"the footprint lies outside community {community_code} (its point on surface more "
            "than ~5 m from the boundary): wrong file or --crs?",
            field=field,
        )
    overlapping = queries.select_overlapping_live(
        session, geom_wkb=shapely.to_wkb(geom), other_than=replacing
    )
    if overlapping and overlapping[0][1] > OVERLAP_SHARE:
        code, share = overlapping[0]
        raise InvalidGeometry(
            f"building {code} already covers {share:.0%} of the footprint", field=field
        )


def _lineage(parent: str, child: str, event: LineageEvent, on: date | None) -> Lineage:
    lineage = Lineage(parent_code=parent, child_code=child, event=event)
    if on is not None:
        lineage.happened_on = on
    return lineage
