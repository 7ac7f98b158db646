"""Geometry checks at the door (polygons, lines): empty, wrong type, NaN, out of range, invalid
(refused, polygons repaired when asked)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

MAX_VERTICES = 100_000
_LINESTRING, _MULTILINESTRING = 1, 5
_WKB_LINESTRING, _WKB_MULTILINESTRING = 2, 5  # WKB numbers kinds its own way
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


@dataclass
class GeometryCheck:
    """Outcome per input: ``accepted`` mask, a reason for each refused one, repaired mask, and
    the (possibly repaired) geometries as MultiPolygons (MultiLineStrings) where accepted."""

    geoms: npt.NDArray[Any]
    accepted: npt.NDArray[np.bool_]
    repaired: npt.NDArray[np.bool_]
    reasons: dict[int, str] = field(default_factory=dict)

    def refuse(self, index: int, reason: str) -> None:
        self.accepted[index] = False
        self.reasons.setdefault(index, reason)


def check_polygons(geoms: npt.NDArray[Any], *, repair: bool, is_geographic: bool) -> GeometryCheck:
    """Check polygon geometries in their source CRS; repair invalid ones only when asked."""
    result = _check_kind(geoms, (_POLYGON, _MULTIPOLYGON), kind="a polygon")
    geoms = result.geoms
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


def check_lines(
    geoms: npt.NDArray[Any], *, is_geographic: bool, wkb: list[bytes | None] | None = None
) -> GeometryCheck:
    """Check line geometries in their source CRS: missing, empty, not a line, a line of fewer
    than 2 points (GEOS cannot even build it: ``wkb``, the geometries as read, says so), NaN or
    out-of-range coordinates, invalid (every point the same).

    >>> from shapely import LineString, Point
    >>> check = check_lines(np.array([LineString([(0, 0), (1, 1)]), Point(0, 0)]),
    ...                     is_geographic=True)
    >>> check.accepted.tolist(), check.reasons
    ([True, False], {1: 'not a line (Point)'})
    """
    result = _check_kind(geoms, (_LINESTRING, _MULTILINESTRING), kind="a line", wkb=wkb)
    _check_coordinates(result, is_geographic=is_geographic)
    candidates = np.flatnonzero(result.accepted)
    valid = shapely.is_valid(result.geoms[candidates])
    for index in candidates[~valid]:
        result.refuse(int(index), f"invalid line: {shapely.is_valid_reason(result.geoms[index])}")
    index = np.flatnonzero(result.accepted)
    if index.size:
        parts, owner = shapely.get_parts(result.geoms[index], return_index=True)
        result.geoms[index] = shapely.multilinestrings(parts, indices=owner)
    return result


def _check_kind(
    geoms: npt.NDArray[Any],
    type_ids: tuple[int, ...],
    *,
    kind: str,
    wkb: list[bytes | None] | None = None,
) -> GeometryCheck:
    """Refuse missing (unreadable), empty and other kinds of geometries."""
    geoms = np.asarray(geoms, dtype=object).copy()
    count = len(geoms)
    result = GeometryCheck(
        geoms=geoms, accepted=np.ones(count, dtype=bool), repaired=np.zeros(count, dtype=bool)
    )
    missing = shapely.is_missing(geoms)
    for index in np.flatnonzero(missing):
        raw = wkb[index] if wkb is not None else None
        reason = unreadable_reason(raw) if raw is not None else "unreadable or missing geometry"
        result.refuse(int(index), reason)
    present = ~missing
    empty = np.zeros(count, dtype=bool)
    empty[present] = shapely.is_empty(geoms[present])
    for index in np.flatnonzero(empty):
        result.refuse(int(index), "empty geometry")
    found = np.full(count, -1)
    found[present] = shapely.get_type_id(geoms[present])
    for index in np.flatnonzero(present & ~empty & ~np.isin(found, type_ids)):
        result.refuse(int(index), f"not {kind} ({geoms[index].geom_type})")
    return result


def unreadable_reason(wkb: bytes) -> str:
    """Why GEOS cannot build a geometry from ``wkb``: a (part of a) line with one point is
    what files hold; anything else is just unreadable.

    >>> unreadable_reason(bytes.fromhex("0102000000" "01000000") + bytes(16))
    'a line needs at least 2 points'
    """
    try:
        if _has_short_line(memoryview(wkb), 0)[0]:
            return "a line needs at least 2 points"
    except (struct.error, ValueError, IndexError):
        pass
    return "unreadable or missing geometry"


def _has_short_line(data: memoryview, offset: int) -> tuple[bool, int]:
    """(whether the WKB geometry at ``offset`` is or holds a line of fewer than 2 points, the
    offset after it); ISO and extended WKB, lines and multi-lines only."""
    order = "<" if data[offset] == 1 else ">"
    (code,) = struct.unpack_from(f"{order}I", data, offset + 1)
    offset += 5
    if code & 0x20000000:  # extended WKB with an SRID
        offset += 4
    dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)
    code &= 0x0FFFFFFF
    dims += {1: 1, 2: 1, 3: 2}.get(code // 1000, 0)
    (count,) = struct.unpack_from(f"{order}I", data, offset)
    offset += 4
    if code % 1000 == _WKB_LINESTRING:
        return count < 2, offset + 8 * dims * count
    if code % 1000 != _WKB_MULTILINESTRING:
        raise ValueError("not a line")
    short = False
    for _ in range(count):
        part_short, offset = _has_short_line(data, offset)
        short = short or part_short
    return short, offset


def _check_coordinates(result: GeometryCheck, *, is_geographic: bool) -> None:
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
