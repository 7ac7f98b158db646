"""How a re-survey's new footprints link to the live buildings they may replace, in metres.

A new footprint and a live building are linked when their IoU is at least :data:`MATCH_IOU` or
one covers at least :data:`LINK_COVER` of the other; small footprints moved by survey noise get a
second IoU with both grown by :data:`TOLERANCE_M`; the links fall into connected groups (1:1,
1:n, n:1, m:n) that :mod:`gis.buildings.resurvey` applies or sends to review. A new footprint
that no link matches is new, unless it lies over a live building (:data:`OVERLAP_SHARE`): then
it goes to review too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import shapely

from gis.buildings.reading import FootprintBatch

MATCH_IOU = 0.5
LINK_COVER = 0.5
OVERLAP_SHARE = 0.05
"""How much of a new or corrected footprint another live building may cover (a survey's slivers
along a shared wall): more is a second building drawn over one already coded. A re-survey's new
footprint that matches no building and lies over one by more goes to review; a correction, a
split or a merge is refused (``gis.buildings.service``)."""
TOLERANCE_M = 1.5  # positional accuracy of a survey: footprints grown by this before a 2nd IoU
SAME_DEG = 1e-8
"""Footprints whose vertices all lie within this (~1 mm) of one another are the same: a file's
decimals (GeoJSON: 15 significant digits) or a change of CRS move them by ~1e-10°, and such
noise is no change of the building."""


def _components(edges: list[tuple[int, Any]]) -> list[tuple[list[int], list[Any]]]:
    """Connected groups of (new footprint index, old building uid) links: links whose two ends
    have no other link are 1:1 groups at once; union-find joins the rest."""
    new_degree = Counter(idx for idx, _ in edges)
    old_degree = Counter(uid for _, uid in edges)
    simple = [([idx], [uid]) for idx, uid in edges if new_degree[idx] == old_degree[uid] == 1]
    edges = [(idx, uid) for idx, uid in edges if not new_degree[idx] == old_degree[uid] == 1]
    return simple + _union_find(edges)


def _union_find(edges: list[tuple[int, Any]]) -> list[tuple[list[int], list[Any]]]:
    parent: dict[Any, Any] = {}

    def find(node: Any) -> Any:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for idx, uid in edges:
        parent[find(("new", idx))] = find(("old", uid))
    groups: dict[Any, tuple[list[int], list[Any]]] = defaultdict(lambda: ([], []))
    for node in list(parent):
        kind, key = node
        groups[find(node)][0 if kind == "new" else 1].append(key)
    return list(groups.values())


def overlap_pairs(new: Any, old: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Every overlapping (new, old) pair as parallel arrays: indices, IoU, cover (overlap over
    the smaller footprint), share (overlap over the new footprint) and whether the two are the
    same (every vertex within :data:`SAME_DEG`).

    Areas are planar in degrees²: over a footprint the map to metres is affine to within ~1e-6
    and a ratio of areas survives an affine map, so these are the IoU and cover in metres
    (tests/gis/test_resurvey.py checks them against areas on the spheroid). Computed here with
    vectorised GEOS rather than in SQL, which spends most of its time converting geometries.
    """
    new_index, old_index = shapely.STRtree(old).query(new, predicate="intersects")
    a, b = new[new_index], old[old_index]
    same = shapely.equals_exact(a, b, tolerance=SAME_DEG)
    # the same rings written from another vertex or the other way round
    same[~same] = shapely.equals_exact(
        shapely.normalize(a[~same]), shapely.normalize(b[~same]), tolerance=SAME_DEG
    )
    area_a, area_b = shapely.area(a), shapely.area(b)
    inter = area_a.copy()
    inter[~same] = shapely.area(shapely.intersection(a[~same], b[~same]))
    union = area_a + area_b - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    smaller = np.minimum(area_a, area_b)
    cover = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    share = np.divide(inter, area_a, out=np.zeros_like(inter), where=area_a > 0)
    return (
        new_index.tolist(), old_index.tolist(), iou.tolist(), cover.tolist(), share.tolist(),
        same.tolist(),
    )  # fmt: skip


def link_groups(pairs: list[dict[str, Any]]) -> list[tuple[list[int], list[Any]]]:
    """Groups of new footprints and old buildings linked by IoU ≥ 0.5 or cover ≥ 0.5."""
    linked = [p for p in pairs if p["match_iou"] >= MATCH_IOU or (p["cover"] or 0) >= LINK_COVER]
    return _components([(p["idx"], p["uid"]) for p in linked])


def lying_over(
    pairs: list[dict[str, Any]], groups: list[tuple[list[int], list[Any]]]
) -> list[tuple[list[int], list[Any]]]:
    """Groups of the new footprints that no link matches but that lie over live buildings (more
    than :data:`OVERLAP_SHARE` of the footprint covered by one), with those buildings: such a
    footprint is not issued a code over a coded building, it goes to review."""
    linked_new = {idx for news, _ in groups for idx in news}
    over = [
        (p["idx"], p["uid"]) for p in pairs
        if p["idx"] not in linked_new and p["share"] > OVERLAP_SHARE
    ]  # fmt: skip
    return _components(over)


def apply_tolerance(
    pairs: list[dict[str, Any]],
    groups: list[tuple[list[int], list[Any]]],
    *,
    batch: FootprintBatch,
    old_geoms: dict[Any, Any],
) -> None:
    """Give a second chance to small footprints moved by survey noise: for 1:1 groups below
    the IoU threshold and for overlapping footprints left unmatched, ``match_iou`` becomes the
    IoU of both footprints grown by ``TOLERANCE_M`` (in metres, on a local projection)."""
    linked_new = {idx for news, _ in groups for idx in news}
    linked_old = {uid for _, olds in groups for uid in olds}
    weak_pairs = {(news[0], olds[0]) for news, olds in groups if len(news) == len(olds) == 1}
    candidates = [
        p for p in pairs
        if p["match_iou"] < MATCH_IOU
        and ((p["idx"], p["uid"]) in weak_pairs
             or (p["idx"] not in linked_new and p["uid"] not in linked_old))
    ]  # fmt: skip
    if not candidates:
        return
    new = batch.geoms[[p["idx"] for p in candidates]]
    old = np.asarray([old_geoms[p["uid"]] for p in candidates])
    for pair, value in zip(candidates, grown_iou(new, old), strict=True):
        pair["match_iou"] = max(pair["match_iou"], float(value))


def grown_iou(a: Any, b: Any) -> Any:
    """IoU of pairs of footprints after growing both by ``TOLERANCE_M`` metres."""
    lat0 = np.radians(shapely.get_y(shapely.centroid(a)))
    scale_x, scale_y = 111_320.0 * np.cos(lat0), 110_574.0

    def scaled(geom: Any, factor_x: float) -> Any:
        factors = np.array([factor_x, scale_y])
        return shapely.transform(geom, lambda xy: xy * factors)

    def to_metres(geoms: Any) -> Any:
        parts = [scaled(geom, sx) for geom, sx in zip(geoms, scale_x, strict=True)]
        return shapely.buffer(np.asarray(parts), TOLERANCE_M)

    grown_a, grown_b = to_metres(a), to_metres(b)
    inter = shapely.area(shapely.intersection(grown_a, grown_b))
    union = shapely.area(grown_a) + shapely.area(grown_b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
