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
1:n, n:1, m:n (a review item with the lineage it suggests; nothing is applied). A new footprint
that no link matches but that lies over a live building (more than 5% of the footprint covered,
slivers along a shared wall being less) is a review item too (``overlap``): it gets no code over
a coded building, and the buildings under it are not flagged for removal.
"""

from __future__ import annotations

import time
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
from gis.buildings.matching import (
    MATCH_IOU,
    apply_tolerance,
    link_groups,
    lying_over,
    overlap_pairs,
)
from gis.buildings.models import BuildingStatus, ChangeKind, ImportKind
from gis.buildings.placing import (
    assign_communities,
    check_community,
    community_of_points,
    issue_codes,
)
from gis.buildings.reading import FootprintBatch, FootprintSource, read_batches
from gis.db import copy_rows, transaction


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
    live = _lock_and_read_live(session, coverage=coverage)
    uids = list(live)
    old_geoms = shapely.from_wkb([live[uid].pop("wkb") for uid in uids])
    covered = _covered(
        session, [live[uid] for uid in uids], old_geoms, coverage=coverage,
        by_code=community_code is not None,
    )  # fmt: skip
    pairs = [
        {"idx": idx, "uid": uids[old], "code": live[uids[old]]["code"], "iou": iou,
         "cover": cover, "share": share, "same": same, "match_iou": iou}
        for idx, old, iou, cover, share, same in zip(
            *overlap_pairs(batch.geoms, old_geoms), strict=True
        )
    ]  # fmt: skip
    groups = link_groups(pairs)
    apply_tolerance(pairs, groups, batch=batch, old_geoms=dict(zip(uids, old_geoms, strict=True)))
    groups = link_groups(pairs)
    held = lying_over(pairs, groups)
    by_pair = {(p["idx"], p["uid"]): p for p in pairs}
    # a footprint held for review is neither added nor does it let the buildings under it go
    linked_new = {idx for news, _ in groups + held for idx in news}
    linked_old = {uid for _, olds in groups + held for uid in olds}
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
        item = _review_item(proposal, news, olds, batch=batch, live=live, by_pair=by_pair)
        summary.review_items.append(item)
        changes.append((ChangeKind.REVIEW.value, None, None, item))
    for news, olds in held:
        # with the share of each new footprint a building covers: more than 5% is a second
        # building drawn over a coded one (or a coded one the survey moved), for a person
        item = _review_item(
            "overlap", news, olds, batch=batch, live=live, by_pair=by_pair,
            measures=(("iou", "iou"), ("covered", "share")),
        )  # fmt: skip
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


def _lock_and_read_live(session: Session, *, coverage: list[str]) -> dict[Any, dict[str, Any]]:
    """The live buildings to match against (by uid), read once the code counters of every
    community they belong to are locked: the surveyed ones, then any neighbour whose buildings
    the file lies over or that a correction moved in (and the buildings read again). A
    concurrent import or re-survey of any of them waits for this one, or this one for it, and
    sees what the other stored. A neighbour is locked after the surveyed communities, out of
    code order: two re-surveys each lying over the other's buildings at the same moment may
    deadlock, and PostgreSQL then ends one of them (nothing of it stored; run it again). Finding
    the neighbours before the first lock would read the buildings twice in every re-survey
    (8 s more for 100,000 footprints), for a case that takes two surveys at once."""
    locked = set(coverage)
    queries.lock_communities(session, communities=sorted(locked))
    while True:
        live = {row["uid"]: row for row in rq.select_live(session, coverage=coverage)}
        more = {str(row["community_code"]) for row in live.values()} - locked
        if not more:
            return live
        locked |= more
        queries.lock_communities(session, communities=sorted(more))


def _review_item(
    proposal: str,
    news: list[int],
    olds: list[Any],
    *,
    batch: FootprintBatch,
    live: dict[Any, dict[str, Any]],
    by_pair: dict[tuple[int, Any], dict[str, Any]],
    measures: tuple[tuple[str, str], ...] = (("iou", "iou"),),
) -> dict[str, Any]:
    """A review item; each of ``measures`` (key in the item, measure of a pair) gives the
    measure of every overlapping (new, old) pair of it, keyed ``CODE:ROW``."""
    item: dict[str, Any] = {
        "proposed": proposal,
        "old_codes": sorted(live[uid]["code"] for uid in olds),
        "new_rows": sorted(int(batch.rows[idx]) for idx in news),
        "new_source_ids": [batch.source_ids[idx] for idx in sorted(news)],
    }
    for key, measure in measures:
        item[key] = {
            f"{live[u]['code']}:{int(batch.rows[i])}": round(
                float(by_pair[(i, u)][measure] or 0), 4
            )
            for i in news
            for u in olds
            if (i, u) in by_pair
        }
    return item


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
