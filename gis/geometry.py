"""Polygon checks at the door: empty, wrong type, NaN, out of range, invalid (refused/repaired)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

MAX_VERTICES = 100_000
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


@dataclass
class PolygonCheck:
    """Outcome per input: ``accepted`` mask, a reason for each refused one, repaired mask, and
    the (possibly repaired) geometries as MultiPolygons where accepted."""

    geoms: npt.NDArray[Any]
    accepted: npt.NDArray[np.bool_]
    repaired: npt.NDArray[np.bool_]
    reasons: dict[int, str] = field(default_factory=dict)

    def refuse(self, index: int, reason: str) -> None:
        self.accepted[index] = False
        self.reasons.setdefault(index, reason)


def check_polygons(geoms: npt.NDArray[Any], *, repair: bool, is_geographic: bool) -> PolygonCheck:
    """Check polygon geometries in their source CRS; repair invalid ones only when asked."""
    geoms = np.asarray(geoms, dtype=object).copy()
    count = len(geoms)
    result = PolygonCheck(
        geoms=geoms, accepted=np.ones(count, dtype=bool), repaired=np.zeros(count, dtype=bool)
    )
    missing = shapely.is_missing(geoms)
    for index in np.flatnonzero(missing):
        result.refuse(int(index), "unreadable or missing geometry")
    present = ~missing
    empty = np.zeros(count, dtype=bool)
    empty[present] = shapely.is_empty(geoms[present])
    for index in np.flatnonzero(empty):
        result.refuse(int(index), "empty geometry")
    type_ids = np.full(count, -1)
    type_ids[present] = shapely.get_type_id(geoms[present])
    for index in np.flatnonzero(present & ~empty & ~np.isin(type_ids, [_POLYGON, _MULTIPOLYGON])):
        result.refuse(int(index), f"not a polygon ({geoms[index].geom_type})")
    _check_coordinates(result, is_geographic=is_geographic)
    candidates = np.flatnonzero(result.accepted)
    valid = shapely.is_valid(geoms[candidates])
    for index in candidates[~valid]:
        reason = shapely.is_valid_reason(geoms[index])
        if not repair:
            result.refuse(int(index), f"invalid polygon: {reason}")
            continue
        fixed = _polygonal_part(shapely.make_valid(geoms[index]))
        if fixed is None:
            result.refuse(int(index), f"invalid polygon that cannot be repaired: {reason}")
        else:
            geoms[index] = fixed
            result.repaired[index] = True
    result.geoms = to_multipolygons(geoms, result.accepted)
    return result


def _check_coordinates(result: PolygonCheck, *, is_geographic: bool) -> None:
    index = np.flatnonzero(result.accepted)
    if index.size == 0:
        return
    counts = shapely.get_num_coordinates(result.geoms[index])
    coords, owner = shapely.get_coordinates(result.geoms[index], return_index=True)
    non_finite = ~np.isfinite(coords).all(axis=1)
    for position in np.unique(owner[non_finite]):
        result.refuse(int(index[position]), "coordinates are NaN or infinite")
    for position in np.flatnonzero(counts > MAX_VERTICES):
        result.refuse(int(index[position]), f"more than {MAX_VERTICES:,} vertices")
    if is_geographic:
        with np.errstate(invalid="ignore"):
            bad_lat = np.abs(coords[:, 1]) > 90
            bad_lon = np.abs(coords[:, 0]) > 180
        for position in np.unique(owner[bad_lat]):
            result.refuse(
                int(index[position]),
                "latitude beyond ±90° (are longitude and latitude swapped?)",
            )
        for position in np.unique(owner[bad_lon]):
            result.refuse(int(index[position]), "longitude beyond ±180°")


def _polygonal_part(geom: Any) -> Any | None:
    """The polygons of a repaired geometry (make_valid may add lines and points)."""
    if shapely.get_type_id(geom) in (_POLYGON, _MULTIPOLYGON):
        return None if shapely.is_empty(geom) else geom
    parts = [
        part
        for part in shapely.get_parts(geom)
        if shapely.get_type_id(part) in (_POLYGON, _MULTIPOLYGON) and not shapely.is_empty(part)
    ]
    if not parts:
        return None
    return shapely.union_all(parts)


def to_multipolygons(geoms: npt.NDArray[Any], mask: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    """Promote the Polygons selected by ``mask`` to MultiPolygons (vectorised)."""
    out = np.asarray(geoms, dtype=object).copy()
    index = np.flatnonzero(mask)
    if index.size == 0:
        return out
    parts, owner = shapely.get_parts(out[index], return_index=True)
    out[index] = shapely.multipolygons(parts, indices=owner)
    return out


def mend_conversion_artifacts(
    geoms: npt.NDArray[Any], *, tolerance: float = 1e-3
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]:
    """Mend polygons that a CRS conversion pinched into a self-intersection.

    Rounding in the conversion can make two nearly touching edges cross. Such a polygon is
    remade valid when that changes its area by less than ``tolerance`` (0.1%); otherwise it is
    reported as broken. Returns the geometries and the mask of broken ones.
    """
    out = np.asarray(geoms, dtype=object).copy()
    broken = np.zeros(len(out), dtype=bool)
    for index in np.flatnonzero(~shapely.is_valid(out)):
        before = shapely.area(out[index])
        fixed = _polygonal_part(shapely.make_valid(out[index]))
        if fixed is None or abs(shapely.area(fixed) - before) > tolerance * before:
            broken[index] = True
        else:
            out[index] = to_multipolygons(np.array([fixed], dtype=object), np.array([True]))[0]
    return out, broken
