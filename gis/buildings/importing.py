"""Importing building footprints: check, convert to EPSG:4490, assign a community, issue codes
(the checks: ``gis.buildings.checks``; communities and codes: ``gis.buildings.placing``).

Each batch of the file is one transaction (the caller's session factory opens it here, because an
import is a loop of units of work); a failure leaves earlier batches in place and the batch record
marked failed. Rejected rows go to a CSV file with their reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.buildings import queries
from gis.buildings.checks import PreparedBatch, Rejection, prepare_batch, write_rejections
from gis.buildings.models import BuildingStatus, ImportKind
from gis.buildings.placing import (
    assign_communities,
    check_community,
    far_from_community,
    issue_codes,
)
from gis.buildings.reading import FootprintBatch, FootprintSource, read_batches
from gis.db import transaction
from gis.errors import Conflict, GisError, InvalidInput

METRES_PER_FLOOR = 3.0


@dataclass
class ImportSummary:
    """What an import did, for the summary line and the batch record."""

    batch_id: int
    read: int = 0
    imported: int = 0
    rejected: int = 0
    repaired: int = 0
    seconds: float = 0.0
    rejects_file: Path | None = None
    repaired_ids: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "imported": self.imported,
            "rejected": self.rejected,
            "repaired": self.repaired,
            "seconds": round(self.seconds, 2),
        }


def floors_of(batch: FootprintBatch) -> npt.NDArray[np.float64]:
    """Floors as given, else estimated from the height (3 m a floor), else unknown (NaN)."""
    estimated = np.maximum(1.0, np.round(batch.heights_m / METRES_PER_FLOOR))
    return np.where(np.isfinite(batch.floors), batch.floors, estimated)


def building_rows(
    batch: FootprintBatch,
    *,
    codes: npt.NDArray[np.str_],
    communities: npt.NDArray[np.object_],
    seqs: npt.NDArray[np.int64],
    status: BuildingStatus,
    batch_id: int,
) -> Iterator[tuple[Any, ...]]:
    """Rows in ``queries.BUILDING_COPY_COLUMNS`` order, for a binary COPY (raw EWKB)."""
    count = len(batch)
    heights = batch.heights_m
    floors = np.minimum(floors_of(batch), 32767)
    community_list = communities.tolist()
    return zip(
        codes.tolist(),
        [community[:6] for community in community_list],
        community_list,
        batch.structure_classes.tolist(),
        seqs.tolist(),
        [status.value] * count,
        [1] * count,
        shapely.to_wkb(batch.geoms, include_srid=True).tolist(),
        [None if np.isnan(h) else h for h in heights.tolist()],
        [None if np.isnan(f) else int(f) for f in floors.tolist()],
        batch.source_ids,
        [batch_id] * count,
        strict=True,
    )


def _prepared_ahead(
    source: FootprintSource, *, repair: bool, batch_size: int
) -> Iterator[tuple[int, PreparedBatch]]:
    """Batches read and checked one step ahead in a worker thread, so the file and the checks
    (GEOS and GDAL release the GIL) overlap the database loading the previous batch."""
    batches = read_batches(source, batch_size=batch_size)

    def next_prepared() -> tuple[int, PreparedBatch] | None:
        raw = next(batches, None)
        return None if raw is None else (len(raw), prepare_batch(raw, source=source, repair=repair))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as pool:
        upcoming = pool.submit(next_prepared)
        while (ready := upcoming.result()) is not None:
            upcoming = pool.submit(next_prepared)
            yield ready


def import_buildings(
    factory: sessionmaker[Session],
    *,
    source: FootprintSource,
    community_code: str | None,
    repair: bool,
    rejects_file: Path,
    batch_size: int = 50_000,
    on_progress: Callable[[int], None] | None = None,
    loaders: int = 1,
    actor: Actor | None = None,
) -> ImportSummary:
    """Load every footprint of ``source`` as a new active building with a new code.

    With ``loaders`` > 1, that many batches load at once, each in its own transaction on its
    own connection (the factory must hand out independent connections): on a 2-core machine the
    database's per-row work (indexes, checks) is the bottleneck, and two server processes share
    it. Batches in the same community still queue on its code counter, so codes stay in file
    order per community only with one loader.

    With ``actor``, each batch writes its audit row (``buildings.import``, the batch and the
    file's name, the buildings it stored) in its own transaction: what is stored is audited
    even when a later batch fails or the process is killed.
    """
    started = time.perf_counter()
    with transaction(factory) as session:
        if community_code is not None:
            check_community(session, community_code)
        batch_id = queries.insert_import_batch(
            session, kind=ImportKind.BUILDINGS, source=str(source.path)
        )
    summary = ImportSummary(batch_id=batch_id, rejects_file=rejects_file)

    def load(prepared: PreparedBatch) -> tuple[int, list[Rejection]]:
        with transaction(factory) as session:
            done = _load_batch(session, prepared, batch_id=batch_id, community_code=community_code)
            if actor is not None:
                record_audit(
                    session, actor=actor, action="buildings.import",
                    target_codes=[f"batch:{batch_id}", source.path.name], row_count=done[0],
                )  # fmt: skip
            return done

    def collect(done: tuple[int, list[Rejection]]) -> None:
        summary.imported += done[0]
        summary.rejections.extend(done[1])

    try:
        with ThreadPoolExecutor(max_workers=loaders, thread_name_prefix="import-load") as pool:
            pending: list[tuple[int, Future[tuple[int, list[Rejection]]]]] = []
            for raw_count, prepared in _prepared_ahead(
                source, repair=repair, batch_size=batch_size
            ):
                summary.read += raw_count
                summary.rejections.extend(prepared.rejections)
                summary.repaired_ids.extend(prepared.repaired_ids)
                pending.append((raw_count, pool.submit(load, prepared)))
                while len(pending) >= loaders:
                    count, future = pending.pop(0)
                    collect(future.result())
                    if on_progress is not None:
                        on_progress(count)
            for count, future in pending:
                collect(future.result())
                if on_progress is not None:
                    on_progress(count)
    except BaseException as error:
        write_rejections(rejects_file, summary.rejections)  # what was refused is not lost
        with transaction(factory) as session:
            stored = queries.count_batch_buildings(session, batch_id=batch_id)
            # with two loaders a batch may have committed without being collected yet: the
            # batch record says what the database holds
            summary.imported = stored
            queries.finish_import_batch(
                session, batch_id=batch_id, status="failed", counts=summary.counts()
            )
        if stored and type(error) in (InvalidInput, Conflict) and isinstance(error, GisError):
            # one transaction a batch: say what stays, and how to carry on without new codes
            raise type(error)(
                f"{error.message}; {stored:,} buildings of the batches before are stored "
                f"(import batch {batch_id}): import the whole file again with --resurvey to "
                "keep their codes",
                field=error.field,
            ) from error
        raise
    summary.rejected = len(summary.rejections)
    summary.repaired = len(summary.repaired_ids)
    write_rejections(rejects_file, summary.rejections)
    summary.seconds = time.perf_counter() - started
    with transaction(factory) as session:
        queries.finish_import_batch(
            session, batch_id=batch_id, status="done", counts=summary.counts()
        )
    return summary


def _load_batch(
    session: Session, prepared: PreparedBatch, *, batch_id: int, community_code: str | None
) -> tuple[int, list[Rejection]]:
    """Assign communities, issue codes and COPY one batch; returns (loaded, rejections)."""
    batch = prepared.batch
    rejections: list[Rejection] = []
    if len(batch) == 0:
        return 0, rejections
    min_x, min_y, max_x, max_y = (float(v) for v in shapely.total_bounds(batch.geoms))
    nearby = queries.count_live_buildings(
        session, bbox=(min_x, min_y, max_x, max_y), other_than_batch=batch_id
    )
    # buildings in the batch's box (cheap) are only a conflict when a footprint lies over one:
    # new buildings between coded ones are what a plain import is for
    existing = nearby and queries.count_overlapped_live(
        session, geoms_wkb=shapely.to_wkb(batch.geoms).tolist(), other_than_batch=batch_id
    )
    if existing:
        raise Conflict(
            f"{existing:,} buildings already exist where this file's footprints lie: "
            "import it with --resurvey to match footprints to their codes",
            field="--resurvey",
        )
    communities = assign_communities(session, batch, community_code=community_code)
    outside = np.flatnonzero(communities == None)  # noqa: E711 - element-wise on an object array
    for i in outside.tolist():
        rejections.append(
            Rejection(
                int(batch.rows[i]),
                batch.source_ids[i],
                "no community polygon holds its point on surface",
            )
        )
    if community_code is not None:
        far = far_from_community(session, batch, community_code=community_code)
        for i in np.flatnonzero(far).tolist():
            communities[i] = None
            rejections.append(
                Rejection(
                    int(batch.rows[i]),
                    batch.source_ids[i],
                    f"its point lies outside community {community_code} (more than ~500 m from "
                    "its boundary): wrong --community or --crs?",
                )
            )
    inside = np.flatnonzero(communities != None)  # noqa: E711
    batch, communities = batch.take(inside), communities[inside]
    if len(batch) == 0:
        return 0, rejections
    codes, seqs = issue_codes(
        session, communities=communities, structure_classes=batch.structure_classes
    )
    rows = building_rows(
        batch,
        codes=codes,
        communities=communities,
        seqs=seqs,
        status=BuildingStatus.ACTIVE,
        batch_id=batch_id,
    )
    try:
        with session.begin_nested():
            return queries.copy_buildings(session, rows), rejections
    except IntegrityError as error:
        if "uq_buildings_code" in str(error.orig) or "uq_buildings_community_code_seq" in str(
            error.orig
        ):
            raise Conflict(
                "a code about to be issued was issued before (the community's code counter is "
                "behind its buildings); refusing to reissue it",
                field="community_code",
            ) from None
        raise
