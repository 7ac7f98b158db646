"""``gridhouse import events FILE``: events from a CSV, XLSX or GeoJSON file, atomic per batch.

Every row is checked (:mod:`gis.events.import_rows`); a bad row goes to the rejects file with
its row number, column and reason and never stops the good ones. Each event lands in the grid
that covered its place on the day it was reported (else the grid covering it today); a place
in no grid is refused, because nobody would ever see the event. A row whose ``source_id`` was
imported before is skipped when it is the same event (same kind and report time) and refused
when it is not, so importing a file again adds nothing. Each batch is one transaction, audited.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.buildings.models import ImportKind, ImportStatus
from gis.buildings.queries import finish_import_batch, insert_import_batch
from gis.clock import CHINA
from gis.crs import SourceCrs
from gis.db import transaction
from gis.errors import CrsRequired, GisError
from gis.events import import_queries as sql
from gis.events import queries
from gis.events.import_files import COLUMNS, label, read_event_file
from gis.events.import_rows import EventRow, parse_row
from gis.events.lifecycle import DEADLINES
from gis.events.models import Event, EventSource, EventStatus, EventStep
from gis.events.places import building_place, house_place, no_grid_reason

DEFAULT_BATCH_SIZE = 2000
IMPORT_ROLE = "import"
"""The role written on the ``reported`` step of an imported event."""


@dataclass(frozen=True)
class Rejected:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass
class EventImportResult:
    read: int = 0
    imported: int = 0
    already_imported: int = 0
    without_source_id: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejects_file: Path | None = None
    batch_id: int | None = None
    crs: str | None = None


def _reject(result: EventImportResult, row: int, error: GisError) -> None:
    result.rejected.append(Rejected(row, error.field or "row", error.message))


def _place_field(row: EventRow) -> str:
    if row.house_code:
        return label("house_code")
    if row.building_code:
        return label("building_code")
    return label("lon")


def import_batch(
    session: Session,
    *,
    rows: list[EventRow],
    actor: Actor,
    batch_id: int,
    now: datetime,
    result: EventImportResult,
) -> None:
    """Store the rows of one batch (checked against the database); flushes, never commits."""
    sql.lock_event_imports(session)
    buildings = queries.select_building_places(
        session, codes=sorted({r.building_code for r in rows if r.building_code})
    )
    houses = queries.select_house_places(
        session, codes=sorted({r.house_code for r in rows if r.house_code})
    )
    imported = sql.select_imported(
        session, source_ids=sorted({r.source_id for r in rows if r.source_id})
    )
    placed: list[tuple[EventRow, float, float, queries.Place | None]] = []
    for row in rows:
        if row.source_id and row.source_id in imported:
            event = imported[row.source_id]
            if event.kind is row.kind and event.reported_at == row.reported_at:
                result.already_imported += 1
            else:
                reason = (
                    f"{row.source_id!r} was imported before as event {event.id} "
                    f"({event.kind}, reported {event.reported_at.astimezone(CHINA):%Y-%m-%d %H:%M})"
                    " and this row differs"
                )
                result.rejected.append(Rejected(row.number, label("source_id"), reason))
            continue
        if row.point is not None:
            placed.append((row, row.point[0], row.point[1], None))
            continue
        try:  # the rule of a report over HTTP (gis.events.places), in the same words
            found = (
                house_place(houses, row.house_code, field=_place_field(row))
                if row.house_code
                else building_place(buildings, row.building_code or "", field=_place_field(row))
            )
        except GisError as error:
            _reject(result, row.number, error)
            continue
        placed.append((row, found.x, found.y, found))
    today = now.astimezone(CHINA).date()
    grids = sql.select_grids_at(
        session,
        points=[(x, y, row.reported_at.astimezone(CHINA).date()) for row, x, y, _ in placed],
        today=today,
    )
    events: list[Event] = []
    for index, (row, x, y, place) in enumerate(placed):
        grid = grids.get(index)
        if grid is None:
            reason = no_grid_reason(is_point=place is None, crs="--crs")
            result.rejected.append(Rejected(row.number, _place_field(row), reason))
            continue
        grid_code, community = grid
        reporter = row.reporter or actor.name or IMPORT_ROLE
        events.append(
            Event(
                kind=row.kind, status=EventStatus.REPORTED, title=row.title,
                description=row.description, geom=f"SRID=4490;POINT({x!r} {y!r})",
                building_uid=place.building_uid if place else None,
                house_uid=place.house_uid if place else None, grid_code=grid_code,
                community_code=community, district_code=community[:6],
                source=EventSource.IMPORT, reported_by=reporter[:64],
                reported_at=row.reported_at, due_at=row.reported_at + DEADLINES[row.kind],
                source_id=row.source_id, batch_id=batch_id,
            )
        )  # fmt: skip
    session.add_all(events)
    session.flush()
    session.add_all(
        EventStep(
            event_id=event.id, from_status=None, to_status=EventStatus.REPORTED,
            actor=event.reported_by, role=IMPORT_ROLE, at=event.reported_at,
            note=event.description,
        )
        for event in events
    )  # fmt: skip
    session.flush()
    result.imported += len(events)
    record_audit(
        session,
        actor=actor,
        action="events.import",
        target_codes=[f"batch:{batch_id}"],
        row_count=len(events),
    )


def import_events(
    factory: sessionmaker[Session],
    *,
    path: Path,
    crs: SourceCrs | None,
    actor: Actor,
    now: datetime,
    rejects_file: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] = lambda _: None,
) -> EventImportResult:
    """Import an events file; see the module docstring. ``crs`` overrides a GeoJSON file's own
    and is required for lon/lat columns. ``on_progress`` gets the rows done so far."""
    file = read_event_file(path)
    source = crs or file.crs
    if source is None and {"lon", "lat"} & file.columns:
        raise CrsRequired(
            f"{path.name} has lon/lat columns: name their CRS with --crs "
            "(EPSG:4326, EPSG:4490, GCJ02 or BD09)",
            field="--crs",
        )
    result = EventImportResult(crs=source.label if source else None)
    with transaction(factory) as session:
        result.batch_id = insert_import_batch(session, kind=ImportKind.EVENTS, source=str(path))
    batch_id = result.batch_id
    seen: dict[str, int] = {}
    pending: list[EventRow] = []

    def flush_batch() -> None:
        if pending:
            with transaction(factory) as session:
                import_batch(
                    session, rows=pending, actor=actor, batch_id=batch_id, now=now, result=result
                )
            pending.clear()
        on_progress(result.read)

    try:
        for raw in file.rows:
            result.read += 1
            try:
                row = parse_row(raw, crs=source, now=now)
            except GisError as error:
                _reject(result, raw.number, error)
                continue
            if row.source_id is None:
                result.without_source_id += 1
            elif row.source_id in seen:
                reason = f"row {seen[row.source_id]} has the same source id"
                result.rejected.append(Rejected(row.number, label("source_id"), reason))
                continue
            else:
                seen[row.source_id] = row.number
            pending.append(row)
            if len(pending) >= batch_size:
                flush_batch()
        flush_batch()
    except BaseException:
        _finish(factory, result, ImportStatus.FAILED)
        raise
    result.rejected.sort(key=lambda r: r.row)
    _finish(factory, result, ImportStatus.DONE)
    if result.rejected:
        write_rejects(rejects_file, result.rejected, {raw.number: raw.cells for raw in file.rows})
        result.rejects_file = rejects_file
    return result


def _finish(
    factory: sessionmaker[Session], result: EventImportResult, status: ImportStatus
) -> None:
    assert result.batch_id is not None
    counts = {
        "read": result.read,
        "imported": result.imported,
        "already_imported": result.already_imported,
        "rejected": len(result.rejected),
        "without_source_id": result.without_source_id,
    }
    with transaction(factory) as session:
        finish_import_batch(session, batch_id=result.batch_id, status=status, counts=counts)


def write_rejects(path: Path, rejected: list[Rejected], cells: dict[int, dict[str, str]]) -> None:
    """``row, field, reason`` and the row's values under the English headers (UTF-8 with a
    BOM, so that Excel reads the Chinese)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "reason", *COLUMNS])
        for item in rejected:
            values = cells.get(item.row, {})
            writer.writerow(
                [item.row, item.field, item.reason, *(values.get(c, "") for c in COLUMNS)]
            )
