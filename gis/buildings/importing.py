"""Importing building footprints: check, convert to EPSG:4490, assign a community, issue codes.

Each batch of the file is one transaction (the caller's session factory opens it here, because an
import is a loop of units of work); a failure leaves earlier batches in place and the batch record
marked failed. Rejected rows go to a CSV file with their reason.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
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

from gis.buildings import queries
from gis.buildings.models import BuildingStatus, ImportKind
from gis.buildings.reading import FootprintBatch, FootprintSource, read_batches
from gis.codes import format_codes
from gis.crs import STORAGE_SRID, transform_geometries
from gis.db import transaction
from gis.errors import Conflict, GisError, InvalidInput
from gis.geometry import check_polygons, mend_conversion_artifacts

METRES_PER_FLOOR = 3.0


@dataclass
class Rejection:
    row: int
    source_id: str | None
    reason: str


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


@dataclass
class PreparedBatch:
    """Footprints of one batch that passed the checks, in EPSG:4490, with their points on
    surface; ``rejections`` holds the others."""

    batch: FootprintBatch
    rejections: list[Rejection]
    repaired_ids: list[str]


MAX_HEIGHT_M = 1000.0  # the tallest building is 828 m
MAX_FLOORS = 200
MIN_AREA_M2 = 1.0
METRES_PER_DEGREE = 111_320.0


def row_problems(
    batch: FootprintBatch, geoms: npt.NDArray[Any], rows: npt.NDArray[np.int64]
) -> dict[int, str]:
    """Why rows whose polygons passed (``geoms`` in EPSG:4490) are still no building: a
    structure class other than 1, 2 or 3, a height or a floor count no building has, a footprint
    under 1 m², or the same footprint as an earlier row of the batch (it would get a second
    code)."""
    problems: dict[int, str] = {}
    if rows.size == 0:
        return problems
    shapes = geoms[rows]
    lat = np.radians(shapely.get_y(shapely.centroid(shapes)))
    areas_m2 = shapely.area(shapes) * METRES_PER_DEGREE**2 * np.cos(lat)
    # the same outline: coordinates equal to 1e-7° (~1 cm), in the same normal order
    rounded = shapely.transform(shapes, lambda xy: np.round(xy, 7))
    keys = shapely.to_wkb(shapely.normalize(rounded))
    seen: dict[bytes, int] = {}
    for position, i in enumerate(rows.tolist()):
        if batch.structure_classes[i] == 0:
            problems[i] = "structure_class is not 1, 2 or 3"
        elif batch.heights_m[i] > MAX_HEIGHT_M:
            problems[i] = f"height_m {batch.heights_m[i]:g} is more than {MAX_HEIGHT_M:g} m"
        elif batch.floors[i] > MAX_FLOORS:
            problems[i] = f"floors {batch.floors[i]:g} is more than {MAX_FLOORS}"
        elif areas_m2[position] < MIN_AREA_M2:
            problems[i] = f"the footprint is {areas_m2[position]:.2g} m², under {MIN_AREA_M2:g} m²"
        elif keys[position] in seen:
            problems[i] = f"the same footprint as row {int(batch.rows[seen[keys[position]]])}"
        else:
            seen[keys[position]] = i
    return problems


def prepare_batch(batch: FootprintBatch, *, source: FootprintSource, repair: bool) -> PreparedBatch:
    """Check the geometries in the source CRS, convert the good ones, re-check after conversion."""
    check = check_polygons(batch.geoms, repair=repair, is_geographic=source.crs.is_geographic)
    index = np.flatnonzero(check.accepted)
    converted = check.geoms[index]
    if index.size and source.crs.epsg != STORAGE_SRID:  # nothing to convert for EPSG:4490
        converted, broken = mend_conversion_artifacts(transform_geometries(converted, source.crs))
        for position in np.flatnonzero(broken):
            check.refuse(int(index[position]), "invalid after conversion to EPSG:4490")
    geoms = check.geoms.copy()
    geoms[index] = converted
    for i, reason in row_problems(batch, geoms, np.flatnonzero(check.accepted)).items():
        check.refuse(i, reason)
    keep = np.flatnonzero(check.accepted)
    rejections = [
        Rejection(int(batch.rows[i]), batch.source_ids[i], reason)
        for i, reason in sorted(check.reasons.items())
    ]
    repaired_ids = [
        batch.source_ids[i] or f"row {batch.rows[i]}"
        for i in np.flatnonzero(check.repaired & check.accepted)
    ]
    kept = batch.take(keep)
    kept.geoms = shapely.set_srid(geoms[keep], STORAGE_SRID)
    return PreparedBatch(batch=kept, rejections=rejections, repaired_ids=repaired_ids)


def assign_communities(
    session: Session, batch: FootprintBatch, *, community_code: str | None
) -> npt.NDArray[np.object_]:
    """The community of each footprint: the fixed one, or the village polygon that holds the
    footprint's point on surface (None where no polygon does)."""
    if community_code is not None:
        return np.full(len(batch), community_code, dtype=object)
    return community_of_points(session, shapely.point_on_surface(batch.geoms), default=None)


NEAR_COMMUNITY_DEG = 0.005
"""How far (~500 m) outside the boundary of the ``--community`` a footprint's point may lie."""


def far_from_community(
    session: Session, batch: FootprintBatch, *, community_code: str
) -> npt.NDArray[np.bool_]:
    """Footprints of a batch given one community whose point lies far outside its boundary
    (all ``False`` when the community has no boundary to check against): the community was
    named for the whole file, so a wrong file or CRS would otherwise be coded there."""
    boundary = queries.select_division_boundary(session, code=community_code)
    if boundary is None:
        return np.zeros(len(batch), dtype=bool)
    points = shapely.point_on_surface(batch.geoms)
    near = shapely.dwithin(points, shapely.from_wkb(boundary), NEAR_COMMUNITY_DEG)
    return np.asarray(~near, dtype=bool)


def community_of_points(
    session: Session, points: npt.NDArray[Any], *, default: str | None
) -> npt.NDArray[np.object_]:
    """The community polygon holding each point (EPSG:4490), else ``default``."""
    result = np.full(len(points), default, dtype=object)
    if len(points) == 0:
        return result
    min_x, min_y, max_x, max_y = (float(v) for v in shapely.total_bounds(points))
    communities = queries.select_communities(session, bbox=(min_x, min_y, max_x, max_y))
    if not communities:
        return result
    codes = np.array([code for code, _ in communities], dtype=object)
    tree = shapely.STRtree(shapely.from_wkb([wkb for _, wkb in communities]))
    point_index, polygon_index = tree.query(points, predicate="within")
    result[point_index] = codes[polygon_index]
    return result


def issue_codes(
    session: Session,
    *,
    communities: npt.NDArray[np.object_],
    structure_classes: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Allocate sequences per community in file order and format the codes."""
    counts = Counter(communities.tolist())
    starts = queries.allocate_sequences(session, counts=dict(counts))
    seqs = np.zeros(len(communities), dtype=np.int64)
    for community in counts:
        where = np.flatnonzero(communities == community)
        seqs[where] = starts[community] + np.arange(where.size)
    codes = format_codes(
        community_codes=communities.astype("U12"), structure_classes=structure_classes, seqs=seqs
    )
    return codes, seqs


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
) -> ImportSummary:
    """Load every footprint of ``source`` as a new active building with a new code.

    With ``loaders`` > 1, that many batches load at once, each in its own transaction on its
    own connection (the factory must hand out independent connections): on a 2-core machine the
    database's per-row work (indexes, checks) is the bottleneck, and two server processes share
    it. Batches in the same community still queue on its code counter, so codes stay in file
    order per community only with one loader.
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
            return _load_batch(session, prepared, batch_id=batch_id, community_code=community_code)

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


def check_community(session: Session, community_code: str) -> None:
    """``--community`` must name a stored community (village-level, 12 digits)."""
    rank = queries.select_division_rank(session, code=community_code)
    if rank is None:
        raise InvalidInput(f"no division has the code {community_code}", field="--community")
    if rank != 5:
        raise InvalidInput(
            f"{community_code} is not a community (社区/村) code", field="--community"
        )


def write_rejections(path: Path, rejections: list[Rejection]) -> None:
    """The rejected-rows file: row, source id, reason (always written, header only when none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "source_id", "reason"])
        for rejection in sorted(rejections, key=lambda r: r.row):
            writer.writerow([rejection.row, rejection.source_id or "", rejection.reason])
