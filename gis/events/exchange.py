"""Exchange with other regions: export our inflow records of a period, read another region's
outflow records (CSV or JSON, ``gridhouse-exchange/1``, keyed by citizen ID number), and
reconcile the two: matched, registered here but not there, registered there but not here.

An *inflow* record is a person living in our region (``residence_division``) whose hukou is
elsewhere; an *outflow* record, a person whose hukou is in the other region, living elsewhere.
Reconciling region Y's inflow with region X's outflow compares Y's people whose hukou is in X
with X's people who live in Y, by ID number. The two follow-up lists (协查) of a reconciliation
are kept (ID numbers encrypted) and can be read again by its batch number.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

from pydantic import ValidationError
from pydantic_core import to_json as to_json_bytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis.access.scope import Scope, requested_division_prefix
from gis.divisions.service import require_known_division
from gis.driver_sql import driver_rows
from gis.errors import InvalidInput, NotFound
from gis.events.models import ExchangeBatch, ExchangeFollowUp, FollowUpSide
from gis.events.schemas import (
    EXCHANGE_FORMAT,
    ExchangeFile,
    ExchangeRecord,
    ReconcileItem,
    ReconcileReport,
)
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.identity import parse_citizen_id
from gis.people.periods import checked_date
from gis.table_files import MalformedCsv, numbered_records
from gis.users.models import Role

CSV_FIELDS = ("citizen_id", "name", "hukou_division", "residence_division", "since")
MAX_PERIOD_DAYS = 366
EXCHANGERS = (Role.POLICE, Role.ADMIN)

# psycopg's own placeholders: the rows go to the driver as they are (gis.driver_sql.driver_rows)
_INFLOW = """
    SELECT DISTINCT ON (p.uid) p.id_number_enc, p.name, p.hukou_division_code,
           b.community_code, lower(r.period) AS since
    FROM residences r
    JOIN houses h ON h.uid = r.house_uid
    JOIN buildings b ON b.uid = h.building_uid
    JOIN people p ON p.uid = r.person_uid
    WHERE b.community_code LIKE %(prefix)s || '%%'
      AND b.district_code LIKE left(%(prefix)s, 6) || '%%'
      AND r.is_primary AND r.period && daterange(%(from)s, %(to)s, '[]')
      AND p.id_number_enc IS NOT NULL AND p.category <> 'overseas'
      AND p.hukou_division_code IS NOT NULL
      AND p.hukou_division_code NOT LIKE %(prefix)s || '%%'
      AND (CAST(%(other)s AS varchar) IS NULL OR p.hukou_division_code LIKE %(other)s || '%%')
    ORDER BY p.uid, lower(r.period) DESC
"""


def _check_region(scope: Scope, region: str) -> str:
    scope.require_role(*EXCHANGERS)
    prefix = requested_division_prefix(region, field="region")
    if scope.role is Role.POLICE and not prefix.startswith(scope.division_prefix or "\x00"):
        raise NotFound(f"no division {region} in your jurisdiction", field="region")
    return prefix


def _check_period(period_from: date, period_to: date, *, prefix: str = "") -> None:
    checked_date(period_from, field=f"{prefix}period_from")
    checked_date(period_to, field=f"{prefix}period_to")
    if period_to < period_from:
        raise InvalidInput("the period ends before it starts", field=f"{prefix}period_to")
    if (period_to - period_from).days > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"a period spans at most {MAX_PERIOD_DAYS} days", field=f"{prefix}period_to"
        )


class InflowRecord(NamedTuple):
    """One of our inflow records: the fields of :class:`ExchangeRecord`, read from our own
    tables (checked when they were stored), so not validated again: a district's export holds
    hundreds of thousands, and a pydantic record each took most of its time."""

    citizen_id: str
    name: str
    hukou_division: str
    residence_division: str
    since: date


@dataclass(frozen=True, slots=True)
class InflowExport:
    """Our inflow records of a period, the envelope of the exchange file around them."""

    region: str
    period_from: date
    period_to: date
    records: list[InflowRecord]
    kind: Literal["inflow"] = "inflow"


def inflow_records(
    session: Session,
    *,
    cipher: PeopleCipher,
    prefix: str,
    period_from: date,
    period_to: date,
    other_prefix: str | None = None,
) -> list[InflowRecord]:
    """People living in the region during the period whose hukou is elsewhere (or in
    ``other_prefix``), one record each (their latest residence), in ID number order."""
    rows = driver_rows(
        session,
        _INFLOW,
        {"prefix": prefix, "from": period_from, "to": period_to, "other": other_prefix},
    )
    records = [
        InflowRecord(cipher.open(sealed, field=SealedField.ID_NUMBER), name, hukou, here, since)
        for sealed, name, hukou, here, since in rows
    ]
    del rows
    records.sort()  # by ID number, then the other fields (a duplicated number: one order)
    return records


def export_inflow(
    session: Session,
    *,
    scope: Scope,
    cipher: PeopleCipher,
    region: str,
    period_from: date,
    period_to: date,
) -> InflowExport:
    """Our inflow records of a period as an exchange file (police in their jurisdiction,
    admins); the export is counted in ``exchange_batches``; the caller writes the audit row."""
    prefix = _check_region(scope, region)
    require_known_division(session, region, field="region")
    _check_period(period_from, period_to)
    records = inflow_records(
        session, cipher=cipher, prefix=prefix, period_from=period_from, period_to=period_to
    )
    session.add(
        ExchangeBatch(
            direction="export", region_code=region, period_from=period_from,
            period_to=period_to, record_count=len(records), made_by=scope.user_name,
        )
    )  # fmt: skip
    session.flush()
    return InflowExport(
        region=region, period_from=period_from, period_to=period_to, records=records
    )


def to_csv(file: ExchangeFile | InflowExport) -> str:
    """The CSV form: a header of :data:`CSV_FIELDS`, one record a line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows(
        (r.citizen_id, r.name, r.hukou_division, r.residence_division, r.since)
        for r in file.records
    )
    return out.getvalue()


def to_json(file: InflowExport) -> bytes:
    """The JSON form (:class:`ExchangeFile`) in UTF-8, one record a line: a district's file is
    read by other systems, and by people with an editor now and then."""
    envelope = to_json_bytes(
        {
            "format": EXCHANGE_FORMAT,
            "kind": file.kind,
            "region": file.region,
            "period_from": file.period_from,
            "period_to": file.period_to,
        }
    )
    records = b",\n".join(to_json_bytes(r._asdict()) for r in file.records)
    return envelope[:-1] + b',"records":[\n' + records + b"\n]}\n"


def read_exchange_file(
    content: str,
    *,
    suffix: str,
    kind: Literal["inflow", "outflow"],
    region: str,
    period_from: date,
    period_to: date,
) -> ExchangeFile:
    """An exchange file from JSON (the whole envelope) or CSV (records only; the envelope comes
    from the arguments). Every bad record is refused with its line and field."""
    if suffix == ".json":
        try:
            data = json.loads(content)
        except json.JSONDecodeError as error:
            raise InvalidInput(
                f"not JSON: {error.msg} at line {error.lineno}", field="file"
            ) from None
        parsed: ExchangeFile = _validated(lambda: ExchangeFile.model_validate(data))
        return parsed
    records: list[ExchangeRecord] = []
    rows = numbered_records(io.StringIO(content))
    try:
        _, header = next(rows, (1, []))
        missing = set(CSV_FIELDS) - set(header)
        if missing:
            columns = ", ".join(sorted(missing))
            raise InvalidInput(f"the CSV lacks the columns {columns}", field="file")
        for line, cells in rows:
            if not cells:  # a blank line
                continue
            row = dict(zip(header, cells, strict=False))
            values = {key: (row.get(key) or "").strip() for key in CSV_FIELDS}
            records.append(_validated(lambda v=values: ExchangeRecord.model_validate(v), line=line))
    except MalformedCsv as error:
        raise InvalidInput(str(error), field="file") from None
    return ExchangeFile(
        format=EXCHANGE_FORMAT, kind=kind, region=region, period_from=period_from,
        period_to=period_to, records=records,
    )  # fmt: skip


def _validated(make: Any, *, line: int | None = None) -> Any:
    try:
        return make()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        prefix = f"line {line}: " if line else ""
        raise InvalidInput(f"{prefix}{first['msg']}", field=where or "file") from None


def reconcile(
    session: Session, *, scope: Scope, cipher: PeopleCipher, region: str, outflow: ExchangeFile
) -> ReconcileReport:
    """Compare another region's outflow records with our inflow from that region over the same
    period, by citizen ID number; records of theirs that live outside our region are ignored."""
    prefix = _check_region(scope, region)
    if outflow.kind != "outflow":
        raise InvalidInput("reconcile an outflow file (kind 'outflow')", field="outflow.kind")
    require_known_division(session, region, field="region")
    _check_period(outflow.period_from, outflow.period_to, prefix="outflow.")
    # the other region is checked for its form only: its divisions need not be loaded here
    other = requested_division_prefix(outflow.region, field="outflow.region")
    if other.startswith(prefix) or prefix.startswith(other):
        raise InvalidInput("the other region overlaps ours", field="outflow.region")
    theirs: dict[str, ExchangeRecord] = {}
    for i, record in enumerate(outflow.records):
        field = f"outflow.records.{i}.citizen_id"
        number = parse_citizen_id(record.citizen_id, field=field).number
        if number in theirs:
            first = list(theirs).index(number)
            raise InvalidInput(f"listed twice: records {first} and {i}", field=field)
        if not record.hukou_division.ljust(12, "0").startswith(other):
            raise InvalidInput(
                f"{record.hukou_division} is not in the outflow region {outflow.region}",
                field=f"outflow.records.{i}.hukou_division",
            )
        checked_date(record.since, field=f"outflow.records.{i}.since")
        if record.residence_division.ljust(12, "0").startswith(prefix):
            theirs[number] = record
    ours = {
        r.citizen_id: r
        for r in inflow_records(
            session,
            cipher=cipher,
            prefix=prefix,
            period_from=outflow.period_from,
            period_to=outflow.period_to,
            other_prefix=other,
        )
    }
    matched = ours.keys() & theirs.keys()
    here = [_item(ours[n]) for n in sorted(ours.keys() - theirs.keys())]
    there = [_item(theirs[n]) for n in sorted(theirs.keys() - ours.keys())]
    batch = ExchangeBatch(
        direction="reconcile", region_code=region, other_region_code=outflow.region,
        period_from=outflow.period_from, period_to=outflow.period_to,
        record_count=len(outflow.records), matched=len(matched), here_not_there=len(here),
        there_not_here=len(there), made_by=scope.user_name,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    lists = ((FollowUpSide.HERE_NOT_THERE, here), (FollowUpSide.THERE_NOT_HERE, there))
    session.add_all(
        ExchangeFollowUp(
            batch_id=batch.id, side=side,
            citizen_id_enc=cipher.seal(item.citizen_id, field=SealedField.ID_NUMBER),
            name=item.name, hukou_division=item.hukou_division,
            residence_division=item.residence_division,
        )
        for side, items in lists
        for item in items
    )  # fmt: skip
    session.flush()
    return ReconcileReport(
        batch_id=batch.id, region=region, other_region=outflow.region,
        period_from=outflow.period_from, period_to=outflow.period_to, matched=len(matched),
        here_not_there=here, there_not_here=there,
    )  # fmt: skip


def _item(record: ExchangeRecord | InflowRecord) -> ReconcileItem:
    return ReconcileItem(
        citizen_id=record.citizen_id, name=record.name, hukou_division=record.hukou_division,
        residence_division=record.residence_division,
    )  # fmt: skip


def reconciliation_report(
    session: Session, *, scope: Scope, cipher: PeopleCipher, batch_id: int
) -> ReconcileReport:
    """The report of a past reconciliation with its follow-up lists, full ID numbers (police of
    its region, admins; any other batch answers like a missing one). The caller audits."""
    scope.require_role(*EXCHANGERS)
    missing = NotFound(f"no reconciliation {batch_id}", field="batch_id")
    batch = session.get(ExchangeBatch, batch_id)
    if batch is None or batch.direction != "reconcile" or batch.other_region_code is None:
        raise missing
    try:
        _check_region(scope, batch.region_code)
    except NotFound:
        raise missing from None
    rows = session.scalars(
        select(ExchangeFollowUp)
        .where(ExchangeFollowUp.batch_id == batch.id)
        .order_by(ExchangeFollowUp.id)
    ).all()
    expected = (batch.here_not_there or 0) + (batch.there_not_here or 0)
    if len(rows) != expected:
        raise NotFound(
            f"the follow-up lists of reconciliation {batch_id} were not kept (it was made "
            "before gridhouse kept them): reconcile the file again",
            field="batch_id",
        )
    lists: dict[FollowUpSide, list[ReconcileItem]] = {side: [] for side in FollowUpSide}
    for row in rows:
        lists[row.side].append(
            ReconcileItem(
                citizen_id=cipher.open(row.citizen_id_enc, field=SealedField.ID_NUMBER),
                name=row.name, hukou_division=row.hukou_division,
                residence_division=row.residence_division,
            )
        )  # fmt: skip
    return ReconcileReport(
        batch_id=batch.id, region=batch.region_code, other_region=batch.other_region_code,
        period_from=batch.period_from, period_to=batch.period_to, matched=batch.matched or 0,
        here_not_there=lists[FollowUpSide.HERE_NOT_THERE],
        there_not_here=lists[FollowUpSide.THERE_NOT_HERE],
    )  # fmt: skip
