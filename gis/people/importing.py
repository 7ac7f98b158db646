"""``gridhouse import people FILE``: residents from a CSV or XLSX list, atomic per batch.

Every row is checked (:mod:`gis.people.import_rows`); a bad row is written to the rejects file
with its reason and never stops the good ones. Within the file, one ID number must keep one name
and its primary residences must not overlap; an ID number already stored is the same person (its
name must match). A row whose residence is already stored (same person, house and move-in date)
is skipped, so an interrupted import can be run again. Each batch is one transaction, audited.
"""

from __future__ import annotations

import csv
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.db import transaction
from gis.errors import InvalidInput
from gis.grids import building_counts
from gis.houses.models import House
from gis.people import queries
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.identity import compact_citizen_id, mask_any_id
from gis.people.import_queries import (
    finish_people_batch,
    select_existing_residences,
    select_houses_with_communities,
    select_voided_residence,
    start_people_batch,
)
from gis.people.import_rows import COLUMNS, PeopleRow, label, parse_row, read_rows
from gis.people.models import Declaration, DeclaredBy, Person, Residence, ResidenceKind
from gis.people.periods import (
    CHINA,
    WorkCalendar,
    describe_period,
    make_period,
    periods_overlap,
)
from gis.people.registry import (
    derive_category,
    person_values,
    unknown_division_reason,
    unknown_hukou_divisions,
)
from gis.private_files import open_private

DEFAULT_BATCH_SIZE = 5000


@dataclass
class PeopleImportResult:
    read: int = 0
    imported: int = 0
    people_created: int = 0
    already_imported: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    rejects_file: Path | None = None
    batch_id: int | None = None
    counted_again: int = 0
    """Buildings whose kept counts (``gis.grids.building_counts``) were brought up to date after
    the load."""


@dataclass
class _FileState:
    """What earlier rows of the file established: each ID number's name and periods."""

    names: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Each ID number's first name and line in the file, whatever became of that row (a row
    refused for a bad house code still says whose the number is)."""
    periods: dict[str, list[tuple[int, object]]] = field(default_factory=dict)
    lines: dict[str, list[int]] = field(default_factory=dict)

    def note(self, line: int, row: dict[str, str]) -> None:
        """The ID number and name a row gives, before anything else of it is checked."""
        number = _loose_id(row.get("id_number") or "")
        if not number:
            return
        self.lines.setdefault(number, []).append(line)
        name = unicodedata.normalize("NFC", row.get("name") or "").strip()
        if name:
            self.names.setdefault(number, (name, line))


def _loose_id(text: str) -> str:
    """An ID number as rows are compared by it: as it is checked and stored (white space
    dropped, ``x`` upper-cased, full-width characters read as ASCII), so the same number typed
    two ways is one number in the duplicates report too."""
    return compact_citizen_id(text)


def _stamp(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, 12, tzinfo=CHINA) if day else None


def _check_in_file(row: PeopleRow, state: _FileState) -> str | None:
    """A conflict with an earlier row of the file: the same ID number under another name (any
    row: which name is right is for the file's owner to say), or a primary residence
    overlapping one of a kept row."""
    number = row.person.id_number
    known = state.names.get(_loose_id(number))
    if known is not None and known[1] != row.line and known[0] != row.person.name:
        return f"id_number (公民身份号码): line {known[1]} gives this ID number another name"
    period = make_period(row.moved_in, row.moved_out)
    for line, other in state.periods.get(number, []):
        assert isinstance(other, type(period))
        if periods_overlap(period, other):
            return (
                f"moved_in (入住日期): {describe_period(period)} overlaps "
                f"{describe_period(other)} of line {line} (one primary residence at a time)"
            )
    return None


def _remember(row: PeopleRow, state: _FileState) -> None:
    """A kept row's period, for the rows after it."""
    number = row.person.id_number
    state.periods.setdefault(number, []).append(
        (row.line, make_period(row.moved_in, row.moved_out))
    )


def _kind(row: PeopleRow, house: House) -> ResidenceKind:
    if row.kind is not None:
        return row.kind
    return ResidenceKind.TENANT if house.is_rented else ResidenceKind.FAMILY


def import_batch(
    session: Session,
    *,
    rows: list[PeopleRow],
    cipher: PeopleCipher,
    calendar: WorkCalendar,
    actor: Actor,
    batch_id: int,
    result: PeopleImportResult,
    today: date,
    state: _FileState | None = None,
) -> None:
    """Store the rows of one batch (checked against the database and the earlier rows of the
    file that were kept); flushes, never commits."""
    state = state if state is not None else _FileState()
    houses = select_houses_with_communities(session, codes=sorted({r.house_code for r in rows}))
    digests = {
        r.person.id_number: cipher.lookup_hash(r.person.id_number, field=SealedField.ID_NUMBER)
        for r in rows
    }
    queries.lock_id_numbers(session, hashes=digests.values())  # against a concurrent import
    stored = queries.select_people_by_id_hash(session, hashes=sorted(set(digests.values())))
    unknown_hukou = unknown_hukou_divisions(
        session, [r.person.hukou_division_code for r in rows if r.person.hukou_division_code]
    )
    created: dict[str, Person] = {}
    residences: list[Residence] = []
    declarations: list[Declaration] = []
    imported = 0
    for row in rows:
        found = houses.get(row.house_code)
        if found is None:
            result.rejected.append((row.line, "house_code (房屋编码): no live house has this code"))
            continue
        house, community = found
        hukou = row.person.hukou_division_code
        if hukou in unknown_hukou:
            reason = unknown_division_reason(hukou)
            result.rejected.append((row.line, f"{label('hukou_division_code')}: {reason}"))
            continue
        problem = _check_in_file(row, state)
        if problem is not None:
            result.rejected.append((row.line, problem))
            continue
        person = stored.get(digests[row.person.id_number]) or created.get(row.person.id_number)
        is_stored = person is not None and person.uid not in {p.uid for p in created.values()}
        if person is not None and person.name != row.person.name:
            if not is_stored or queries.person_has_records(session, uid=person.uid):
                result.rejected.append(
                    (row.line, "id_number (公民身份号码): registered under another name")
                )
                continue
            # nothing but voided registrations: the person is as this row gives them
            renewed = person_values(
                row.person,
                cipher=cipher,
                category=derive_category(row.person, community_code=community),
                district_code=house.district_code,
                batch_id=batch_id,
            )
            for column, value in renewed.items():
                setattr(person, column, value)
        period = make_period(row.moved_in, row.moved_out)
        if person is not None and is_stored:
            existing = select_existing_residences(session, person_uid=person.uid)
            if any(r.house_uid == house.uid and r.period.lower == row.moved_in for r in existing):
                result.already_imported += 1  # (registered again by hand after a void, too)
                _remember(row, state)
                continue
            voided = select_voided_residence(
                session, person_uid=person.uid, house_uid=house.uid, moved_in=row.moved_in
            )
            if voided is not None:
                when = voided.voided_at.astimezone(CHINA).date()
                result.rejected.append(
                    (row.line, f"moved_in (入住日期): this residence was voided on {when} "
                               f"({voided.void_reason}); correct the file's row")
                )  # fmt: skip
                continue
            clash = next(
                (r for r in existing if r.is_primary and periods_overlap(r.period, period)), None
            )
            if clash is not None:
                result.rejected.append(
                    (
                        row.line,
                        f"moved_in (入住日期): {describe_period(period)} overlaps the stored "
                        f"primary residence {describe_period(clash.period)}",
                    )
                )
                continue
        if person is None:
            category = derive_category(row.person, community_code=community)
            person = Person(
                uid=uuid.uuid4(),
                **person_values(
                    row.person,
                    cipher=cipher,
                    category=category,
                    district_code=house.district_code,
                    batch_id=batch_id,
                ),
            )
            created[row.person.id_number] = person
        kind = _kind(row, house)
        declared = _stamp(row.declared_on) or datetime.now(UTC)
        residence = Residence(
            uid=uuid.uuid4(), person_uid=person.uid, house_uid=house.uid, period=period, kind=kind,
            is_primary=True, declared_by=row.declared_by, declared_at=declared,
            registered_by=(actor.name or "import")[:64],
            deregistered_at=_stamp(row.deregistered_on),
        )  # fmt: skip
        residences.append(residence)
        # a tenant on a fixed term (离开日期 ahead) owes a declaration as an open-ended one
        # does; a stay that has already ended, brought in as history, owes none
        still_there = row.moved_out is None or row.moved_out > today
        if kind is ResidenceKind.TENANT and house.is_rented and still_there:
            by_landlord = row.declared_by is DeclaredBy.LANDLORD
            declarations.append(
                Declaration(
                    residence_uid=residence.uid, house_uid=house.uid, person_uid=person.uid,
                    moved_in=row.moved_in, due_on=calendar.add_working_days(row.moved_in),
                    declared_at=declared if by_landlord else None,
                    declared_by=DeclaredBy.LANDLORD if by_landlord else None,
                )
            )  # fmt: skip
        imported += 1
        _remember(row, state)
    # in dependency order: the unit of work cannot sort tables that form a cycle with houses
    for rows_of_a_table in (list(created.values()), residences, declarations):
        session.add_all(rows_of_a_table)
        session.flush()
    result.imported += imported
    result.people_created += len(created)
    record_audit(
        session,
        actor=actor,
        action="people.import",
        target_codes=[f"batch:{batch_id}"],
        row_count=imported,
    )


def import_people(
    factory: sessionmaker[Session],
    *,
    path: Path,
    cipher: PeopleCipher,
    calendar: WorkCalendar,
    actor: Actor,
    today: date,
    rejects_file: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Callable[[int], None] = lambda _: None,
) -> PeopleImportResult:
    """Import a people file; see the module docstring. ``on_progress`` gets rows read so far."""
    rows = read_rows(path)  # an unreadable file is refused here, before anything is stored
    result = PeopleImportResult()
    state = _FileState()
    with transaction(factory) as session:
        result.batch_id = start_people_batch(session, source=str(path))
    raw: dict[int, dict[str, str]] = {}
    pending: list[PeopleRow] = []

    def flush_batch() -> None:
        if not pending:
            return
        with transaction(factory) as session:
            assert result.batch_id is not None
            import_batch(
                session,
                rows=pending,
                cipher=cipher,
                calendar=calendar,
                actor=actor,
                batch_id=result.batch_id,
                result=result,
                today=today,
                state=state,
            )
        pending.clear()
        on_progress(result.read)

    def counts() -> dict[str, int]:
        return {
            "read": result.read,
            "imported": result.imported,
            "rejected": len(result.rejected),
            "already_imported": result.already_imported,
            "people_created": result.people_created,
        }

    try:
        for line, row in rows:
            result.read += 1
            raw[line] = row
            state.note(line, row)
            try:
                parsed = parse_row(line, row, today=today)
            except InvalidInput as error:
                result.rejected.append((line, str(error)))
                continue
            pending.append(parsed)
            if len(pending) >= batch_size:
                flush_batch()
        flush_batch()
    except BaseException:  # the batches before are stored (and audited); the record says so
        with transaction(factory) as session:
            finish_people_batch(session, batch_id=result.batch_id, counts=counts(), status="failed")
        raise
    result.rejected.sort()
    result.duplicates = {
        mask_any_id(number): lines for number, lines in state.lines.items() if len(lines) > 1
    }
    with transaction(factory) as session:
        finish_people_batch(session, batch_id=result.batch_id, counts=counts())
    if result.imported:
        with transaction(factory) as session:
            result.counted_again = building_counts.store_all_current(session, on=today)
    if result.rejected:
        write_rejects(rejects_file, result.rejected, raw)
        result.rejects_file = rejects_file
    return result


def write_rejects(
    path: Path, rejected: list[tuple[int, str]], raw: dict[int, dict[str, str]]
) -> None:
    """``line, reason`` and the row's values under the bilingual headers."""
    with open_private(path, encoding="utf-8-sig") as handle:  # full ID numbers and phones
        writer = csv.writer(handle)
        writer.writerow(
            [
                "line",
                "reason",
                *(f"{chinese} {english}" for english, chinese, _ in COLUMNS.values()),
            ]
        )
        for line, reason in rejected:
            values = raw.get(line, {})
            writer.writerow([line, reason, *(values.get(column, "") for column in COLUMNS)])
