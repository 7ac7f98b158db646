"""Re-survey: match a new set of footprints to the live buildings they replace, keep their codes.

The coverage of a re-survey is the set of communities its footprints fall in (or the one given
with ``--community``): a survey is done community by community, so a live building of a covered
community that the file lacks is flagged for removal, and buildings elsewhere are untouched. A
building belongs to the community its point on surface lies in today, not only to the one its
frozen code names; and every live building a footprint of the file lies over is matched too, so
a footprint never gets a second code over a coded building of the next community.

Matching is by overlap in metres (areas on the spheroid). A new footprint and a live building are
linked when their IoU is at least 0.5 or one covers at least half of the other; each connected
group of links is then 1:1 (IoU ≥ 0.5 keeps the code; the version goes up when the footprint
changed), 1:0 (pending removal, never retired by the import), 0:1 (a new provisional code), or
1:n, n:1, m:n (a review item with the lineage it suggests; nothing is applied).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session, sessionmaker

from gis.buildings import queries
from gis.buildings import resurvey_queries as rq
from gis.buildings.checks import Rejection, prepare_batch, write_rejections
from gis.buildings.importing import building_rows
from gis.buildings.models import BuildingStatus, ChangeKind, ImportKind
from gis.buildings.placing import (
    assign_communities,
    check_community,
    community_of_points,
    issue_codes,
)
from gis.buildings.reading import FootprintBatch, FootprintSource, read_batches
from gis.db import copy_rows, transaction

MATCH_IOU = 0.5
LINK_COVER = 0.5
TOLERANCE_M = 1.5  # positional accuracy of a survey: footprints grown by this before a 2nd IoU
SAME_DEG = 1e-8
"""Footprints whose vertices all lie within this (~1 mm) of one another are the same: a file's
decimals (GeoJSON: 15 significant digits) or a change of CRS move them by ~1e-10°, and such
noise is no change of the building."""


@dataclass
class ResurveySummary:
    batch_id: int
    read: int = 0
    rejected: int = 0
    repaired: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    pending_removal: int = 0
    review: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)
    review_items: list[dict[str, Any]] = field(default_factory=list)
    repaired_ids: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        names = (
            "read",
            "rejected",
            "repaired",
            "added",
            "changed",
            "unchanged",
            "pending_removal",
            "review",
        )
        return {name: getattr(self, name) for name in names} | {"seconds": round(self.seconds, 2)}

    @property
    def changes(self) -> int:
        """What the batch changed in the database (review items change nothing)."""
        return self.added + self.changed + self.pending_removal


def _concat(batches: list[FootprintBatch]) -> FootprintBatch:
    return FootprintBatch(
        rows=np.concatenate([b.rows for b in batches]),
        source_ids=[sid for b in batches for sid in b.source_ids],
        geoms=np.concatenate([b.geoms for b in batches]),
        heights_m=np.concatenate([b.heights_m for b in batches]),
        floors=np.concatenate([b.floors for b in batches]),
        structure_classes=np.concatenate([b.structure_classes for b in batches]),
    )


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


def overlap_pairs(new: Any, old: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Every overlapping (new, old) pair as parallel arrays: indices, IoU, cover (overlap over
    the smaller footprint) and whether the two are the same (every vertex within
    :data:`SAME_DEG`).

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
    return new_index.tolist(), old_index.tolist(), iou.tolist(), cover.tolist(), same.tolist()


def _link(pairs: list[dict[str, Any]]) -> list[tuple[list[int], list[Any]]]:
    """Groups of new footprints and old buildings linked by IoU ≥ 0.5 or cover ≥ 0.5."""
    linked = [p for p in pairs if p["match_iou"] >= MATCH_IOU or (p["cover"] or 0) >= LINK_COVER]
    return _components([(p["idx"], p["uid"]) for p in linked])


def _apply_tolerance(
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
    for pair, value in zip(candidates, _grown_iou(new, old), strict=True):
        pair["match_iou"] = max(pair["match_iou"], float(value))


def _grown_iou(a: Any, b: Any) -> Any:
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


def resurvey_buildings(
    factory: sessionmaker[Session],
    *,
    source: FootprintSource,
    community_code: str | None,
    repair: bool,
    rejects_file: Path,
    batch_size: int = 50_000,
) -> ResurveySummary:
    """Match the file against the live buildings of its coverage and apply the outcome in one
    transaction; the changelog is stored in ``import_changes`` under the batch."""
    started = time.perf_counter()
    with transaction(factory) as session:
        if community_code is not None:
            check_community(session, community_code)
        batch_id = queries.insert_import_batch(
            session, kind=ImportKind.BUILDINGS, source=f"{source.path} (re-survey)"
        )
    summary = ResurveySummary(batch_id=batch_id)
    prepared = []
    for raw in read_batches(source, batch_size=batch_size):
        summary.read += len(raw)
        batch = prepare_batch(raw, source=source, repair=repair)
        summary.rejections.extend(batch.rejections)
        summary.repaired += len(batch.repaired_ids)
        summary.repaired_ids.extend(batch.repaired_ids)
        prepared.append(batch.batch)
    with transaction(factory) as session:
        _match_and_apply(session, _concat(prepared), summary=summary, community_code=community_code)
        summary.rejected = len(summary.rejections)
        summary.seconds = time.perf_counter() - started
        queries.finish_import_batch(
            session, batch_id=batch_id, status="done", counts=summary.counts()
        )
    write_rejections(rejects_file, summary.rejections)
    return summary


def _match_and_apply(
    session: Session, batch: FootprintBatch, *, summary: ResurveySummary, community_code: str | None
) -> None:
    communities = assign_communities(session, batch, community_code=community_code)
    for i in np.flatnonzero(communities == None).tolist():  # noqa: E711 - object array
        summary.rejections.append(
            Rejection(
                int(batch.rows[i]),
                batch.source_ids[i],
                "no community polygon holds its point on surface",
            )
        )
    keep = np.flatnonzero(communities != None)  # noqa: E711
    batch, communities = batch.take(keep), communities[keep]
    coverage = sorted({str(c) for c in communities.tolist()})
    rq.stage_footprints(
        session,
        zip(
            range(len(batch)),
            batch.source_ids,
            shapely.to_wkb(batch.geoms, include_srid=True).tolist(),
            batch.structure_classes.tolist(),
            [None if np.isnan(h) else h for h in batch.heights_m.tolist()],
            [None if np.isnan(f) else int(f) for f in batch.floors.tolist()],
            strict=True,
        ),
    )
    queries.lock_communities(session, communities=coverage)
    live = {row["uid"]: row for row in rq.select_live(session, coverage=coverage)}
    uids = list(live)
    old_geoms = shapely.from_wkb([live[uid].pop("wkb") for uid in uids])
    covered = _covered(
        session, [live[uid] for uid in uids], old_geoms, coverage=coverage,
        by_code=community_code is not None,
    )  # fmt: skip
    pairs = [
        {"idx": idx, "uid": uids[old], "code": live[uids[old]]["code"], "iou": iou,
         "cover": cover, "same": same, "match_iou": iou}
        for idx, old, iou, cover, same in zip(*overlap_pairs(batch.geoms, old_geoms), strict=True)
    ]  # fmt: skip
    groups = _link(pairs)
    _apply_tolerance(pairs, groups, batch=batch, old_geoms=dict(zip(uids, old_geoms, strict=True)))
    groups = _link(pairs)
    by_pair = {(p["idx"], p["uid"]): p for p in pairs}
    linked_new = {idx for news, _ in groups for idx in news}
    linked_old = {uid for _, olds in groups for uid in olds}
    changes: list[tuple[Any, ...]] = []
    moved, restored = [], []
    for news, olds in groups:
        match = by_pair.get((news[0], olds[0])) if len(news) == len(olds) == 1 else None
        if match is not None and match["match_iou"] >= MATCH_IOU:
            pair = match
            old = live[olds[0]]
            detail = {
                "iou": round(float(pair["iou"] or 0), 4),
                "match_iou": round(float(pair["match_iou"]), 4),
            }
            if pair["same"] and old["status"] != BuildingStatus.PENDING_REMOVAL:
                summary.unchanged += 1
                changes.append(
                    (ChangeKind.UNCHANGED.value, old["code"], batch.source_ids[news[0]], detail)
                )
                continue
            if pair["same"]:
                restored.append(old["uid"])
            else:
                moved.append((old["uid"], news[0]))
            summary.changed += 1
            changes.append(
                (ChangeKind.CHANGED.value, old["code"], batch.source_ids[news[0]], detail)
            )
            continue
        proposal = (
            "split"
            if len(olds) == 1 and len(news) > 1
            else "merge"
            if len(news) == 1 and len(olds) > 1
            else "replace"
            if len(olds) == len(news) == 1
            else "complex"
        )
        item = {
            "proposed": proposal,
            "old_codes": sorted(live[uid]["code"] for uid in olds),
            "new_rows": sorted(int(batch.rows[idx]) for idx in news),
            "new_source_ids": [batch.source_ids[idx] for idx in sorted(news)],
            "iou": {
                f"{live[u]['code']}:{int(batch.rows[i])}": round(
                    float(by_pair[(i, u)]["iou"] or 0), 4
                )
                for i in news
                for u in olds
                if (i, u) in by_pair
            },
        }
        summary.review_items.append(item)
        changes.append((ChangeKind.REVIEW.value, None, None, item))
    summary.review = len(summary.review_items)
    # only a building of the surveyed communities that the file lacks is gone: one of another
    # community is here because a footprint lies over it, to be matched, never flagged
    gone = [uid for uid, is_covered in zip(uids, covered, strict=True)
            if is_covered and uid not in linked_old]  # fmt: skip
    # one already pending removal (an earlier re-survey's) is neither counted nor logged again
    flagged = [uid for uid in gone if live[uid]["status"] != BuildingStatus.PENDING_REMOVAL]
    summary.pending_removal = len(flagged)
    for uid in flagged:
        changes.append(
            (
                ChangeKind.PENDING_REMOVAL.value,
                live[uid]["code"],
                None,
                {"was": str(live[uid]["status"])},
            )
        )
    rq.apply_geometry_changes(session, matches=moved, batch_id=summary.batch_id)
    rq.restore(session, uids=restored)
    rq.mark_pending_removal(session, uids=flagged)
    new_index = np.array(sorted(set(range(len(batch))) - linked_new), dtype=np.int64)
    added = batch.take(new_index)
    if len(added):
        added_communities = communities[new_index]
        codes, seqs = issue_codes(
            session, communities=added_communities, structure_classes=added.structure_classes
        )
        queries.copy_buildings(
            session,
            building_rows(
                added,
                codes=codes,
                communities=added_communities,
                seqs=seqs,
                status=BuildingStatus.PROVISIONAL,
                batch_id=summary.batch_id,
            ),
        )
        for code, source_id in zip(codes.tolist(), added.source_ids, strict=True):
            changes.append((ChangeKind.ADDED.value, code, source_id, {}))
    summary.added = len(added)
    copy_rows(
        session,
        table="import_changes",
        columns=("batch_id", "change", "code", "source_id", "detail"),
        rows=(
            (summary.batch_id, kind, code, sid, _json(detail))
            for kind, code, sid, detail in changes
        ),
    )
    session.flush()


def _covered(
    session: Session,
    rows: list[dict[str, Any]],
    geoms: Any,
    *,
    coverage: list[str],
    by_code: bool,
) -> list[bool]:
    """Whether each live building belongs to the survey: its point on surface lies in a covered
    community's polygon today, or its code names a covered community and no polygon holds it
    (or the community was named with ``--community``, for the whole file)."""
    today = community_of_points(
        session, shapely.point_on_surface(np.asarray(geoms, dtype=object)), default=None
    )
    wanted = set(coverage)
    return [
        community in wanted or (row["community_code"] in wanted and (community is None or by_code))
        for row, community in zip(rows, today.tolist(), strict=True)
    ]


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
