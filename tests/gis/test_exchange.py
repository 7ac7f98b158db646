"""Exchange with other regions: inflow export (JSON and CSV round trip) and reconciliation of
two generated regions with known differences."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.errors import Forbidden, InvalidInput, NotFound
from gis.events import exchange
from gis.events.models import ExchangeBatch, ExchangeFollowUp
from gis.events.schemas import ExchangeFile, ExchangeRecord
from gis.houses.models import House
from gis.people.crypto import PeopleCipher
from gis.table_files import MAX_FIELD_CHARS
from gis.users.models import Role
from tests.access_world import World, build_world
from tests.people_world import add_people_world, add_person, add_residence, citizen_id

HERE = "990101000000"  # region Y: the world's county
THERE = "110105000000"  # region X: where the generated residents' hukou is
ADMIN = Scope.system()
PERIOD = (date(2025, 1, 1), date(2025, 12, 31))


@pytest.fixture
def world(db: Session, cipher: PeopleCipher) -> World:
    """The access-control world with its people (no grid plans: these tests need none)."""
    return add_people_world(db, build_world(db), cipher)


def _resident(db: Session, cipher: PeopleCipher, house: House, seq: int, hukou: str) -> str:
    number = citizen_id(hukou[:6], date(1991, 4, 5), seq)
    person = add_person(db, cipher, name=f"流入{seq}", id_number=number, phone=None,
                        birth=date(1991, 4, 5))  # fmt: skip
    person.hukou_division_code = hukou
    db.flush()
    add_residence(db, person=person, house=house, since=date(2025, 3, 1))
    return number


def _record(number: str, residence: str = "990101001001") -> ExchangeRecord:
    return ExchangeRecord(citizen_id=number, name="外出", hukou_division=THERE,
                          residence_division=residence, since=date(2025, 2, 1))  # fmt: skip


def test_reconciling_two_regions_reports_exactly_their_differences(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    house = db.scalars(select(House).where(House.code == world.objects["houses"]["own"])).one()
    ours = [_resident(db, cipher, house, seq, THERE) for seq in range(401, 409)]  # 8 from X
    from_elsewhere = _resident(db, cipher, house, 409, "310101000000")  # hukou in Z: not X's
    db.flush()
    not_here = [citizen_id("110105", date(1992, 1, 1), seq) for seq in (501, 502, 503)]
    elsewhere = [citizen_id("110105", date(1993, 1, 1), seq) for seq in (601, 602)]
    outflow = ExchangeFile(
        kind="outflow", region=THERE, period_from=PERIOD[0], period_to=PERIOD[1],
        records=[_record(n) for n in ours[:6] + not_here]
        + [_record(n, residence="440305000000") for n in elsewhere],  # live in a third region
    )  # fmt: skip
    report = exchange.reconcile(db, scope=ADMIN, cipher=cipher, region=HERE, outflow=outflow)
    assert report.matched == 6
    assert [item.citizen_id for item in report.here_not_there] == sorted(ours[6:])
    assert [item.citizen_id for item in report.there_not_here] == sorted(not_here)
    assert from_elsewhere not in {i.citizen_id for i in report.here_not_there}


def test_the_inflow_export_round_trips_through_csv(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    house = db.scalars(select(House).where(House.code == world.objects["houses"]["own"])).one()
    numbers = sorted(_resident(db, cipher, house, seq, THERE) for seq in (411, 412))
    local = _resident(db, cipher, house, 413, "990101001001")  # hukou here: not inflow
    db.flush()
    file = exchange.export_inflow(db, scope=ADMIN, cipher=cipher, region=HERE,
                                  period_from=PERIOD[0], period_to=PERIOD[1])  # fmt: skip
    assert [r.citizen_id for r in file.records] == numbers and local not in str(file)
    read = exchange.read_exchange_file(exchange.to_csv(file), suffix=".csv", kind="inflow",
                                       region=HERE, period_from=PERIOD[0],
                                       period_to=PERIOD[1])  # fmt: skip
    assert read.records == [ExchangeRecord(**r._asdict()) for r in file.records]
    # the JSON form is the exchange file's schema, with the same records
    as_json = ExchangeFile.model_validate_json(exchange.to_json(file))
    assert as_json == read
    empty = exchange.to_json(exchange.InflowExport(HERE, PERIOD[0], PERIOD[1], records=[]))
    assert ExchangeFile.model_validate_json(empty).records == []
    bad = exchange.to_csv(file).replace(numbers[1], "11010519910405412")
    with pytest.raises(InvalidInput, match="line 3: String should have at least 18"):
        exchange.read_exchange_file(bad, suffix=".csv", kind="inflow", region=HERE,
                                    period_from=PERIOD[0], period_to=PERIOD[1])  # fmt: skip
    # the line an editor shows, not the record's count (a blank line after the header)
    header, rest = bad.split("\n", 1)
    with pytest.raises(InvalidInput, match="line 4: String should have at least 18"):
        exchange.read_exchange_file(f"{header}\n\n{rest}", suffix=".csv", kind="inflow",
                                    region=HERE, period_from=PERIOD[0],
                                    period_to=PERIOD[1])  # fmt: skip


def test_an_over_long_csv_field_is_refused_with_its_line() -> None:
    header = ",".join(exchange.CSV_FIELDS)
    open_quote = header + "\n" + '"' + "1" * (MAX_FIELD_CHARS + 10) + "\n"
    with pytest.raises(InvalidInput, match="line 2: a field longer than") as caught:
        exchange.read_exchange_file(open_quote, suffix=".csv", kind="outflow", region=HERE,
                                    period_from=PERIOD[0], period_to=PERIOD[1])  # fmt: skip
    assert caught.value.field == "file"


def test_exchanges_are_for_police_of_the_region_and_admins(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    officer = Scope(user_name="o", role=Role.OFFICER, grid_codes=frozenset({"990101001001001"}))
    with pytest.raises(Forbidden):
        exchange.export_inflow(db, scope=officer, cipher=cipher, region=HERE,
                               period_from=PERIOD[0], period_to=PERIOD[1])  # fmt: skip
    far_police = Scope(user_name="p", role=Role.POLICE, division_prefix="990102")
    with pytest.raises(NotFound):
        exchange.export_inflow(db, scope=far_police, cipher=cipher, region=HERE,
                               period_from=PERIOD[0], period_to=PERIOD[1])  # fmt: skip
    with pytest.raises(InvalidInput, match="period_to: the period ends before it starts"):
        exchange.export_inflow(db, scope=ADMIN, cipher=cipher, region=HERE,
                               period_from=PERIOD[1], period_to=PERIOD[0])  # fmt: skip


def test_a_past_reconciliation_can_be_read_again_with_its_follow_up_ids(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    house = db.scalars(select(House).where(House.code == world.objects["houses"]["own"])).one()
    ours = [_resident(db, cipher, house, seq, THERE) for seq in range(421, 424)]
    db.flush()
    not_here = citizen_id("110105", date(1992, 1, 1), 521)
    outflow = ExchangeFile(
        kind="outflow", region=THERE, period_from=PERIOD[0], period_to=PERIOD[1],
        records=[_record(n) for n in [ours[0], not_here]],
    )  # fmt: skip
    made = exchange.reconcile(db, scope=ADMIN, cipher=cipher, region=HERE, outflow=outflow)
    police = Scope(user_name="p", role=Role.POLICE, division_prefix="990101")
    again = exchange.reconciliation_report(db, scope=police, cipher=cipher, batch_id=made.batch_id)
    assert again == made
    assert [i.citizen_id for i in again.here_not_there] == sorted(ours[1:])
    assert [i.citizen_id for i in again.there_not_here] == [not_here]
    stored = db.scalars(
        select(ExchangeFollowUp.citizen_id_enc).where(ExchangeFollowUp.batch_id == made.batch_id)
    ).all()
    assert len(stored) == 3 and not any(not_here.encode() in bytes(blob) for blob in stored)
    far_police = Scope(user_name="p", role=Role.POLICE, division_prefix="990102")
    with pytest.raises(NotFound, match=f"no reconciliation {made.batch_id}"):
        exchange.reconciliation_report(db, scope=far_police, cipher=cipher, batch_id=made.batch_id)
    officer = Scope(user_name="o", role=Role.OFFICER, grid_codes=frozenset({"990101001001001"}))
    with pytest.raises(Forbidden):
        exchange.reconciliation_report(db, scope=officer, cipher=cipher, batch_id=made.batch_id)


def test_exports_and_reconciliations_whose_lists_were_not_kept_are_refused(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    export = ExchangeBatch(direction="export", region_code=HERE, period_from=PERIOD[0],
                           period_to=PERIOD[1], record_count=2, made_by="t")  # fmt: skip
    old = ExchangeBatch(direction="reconcile", region_code=HERE, other_region_code=THERE,
                        period_from=PERIOD[0], period_to=PERIOD[1], record_count=2, matched=1,
                        here_not_there=1, there_not_here=0, made_by="t")  # fmt: skip
    db.add_all([export, old])
    db.flush()
    with pytest.raises(NotFound, match=f"no reconciliation {export.id}"):
        exchange.reconciliation_report(db, scope=ADMIN, cipher=cipher, batch_id=export.id)
    with pytest.raises(NotFound, match="were not kept"):
        exchange.reconciliation_report(db, scope=ADMIN, cipher=cipher, batch_id=old.id)


def test_unknown_regions_impossible_dates_and_foreign_records_are_refused_storing_nothing(
    db: Session, world: World, cipher: PeopleCipher
) -> None:
    def export(region: str, start: date, end: date) -> None:
        exchange.export_inflow(db, scope=ADMIN, cipher=cipher, region=region,
                               period_from=start, period_to=end)  # fmt: skip

    batches = db.scalar(select(func.count()).select_from(ExchangeBatch))
    with pytest.raises(NotFound, match="region: no division 999999999999"):
        export("999999999999", *PERIOD)
    with pytest.raises(InvalidInput, match=r"period_from: 9999-01-01 is outside"):
        export(HERE, date(9999, 1, 1), date(9999, 12, 31))
    with pytest.raises(InvalidInput, match=r"period_from: 0001-01-01 is outside"):
        export(HERE, date(1, 1, 1), date(1, 12, 31))

    def reconcile(outflow: ExchangeFile) -> None:
        exchange.reconcile(db, scope=ADMIN, cipher=cipher, region=HERE, outflow=outflow)

    number = citizen_id("110105", date(1992, 1, 1), 701)
    good = ExchangeFile(kind="outflow", region=THERE, period_from=PERIOD[0],
                        period_to=PERIOD[1], records=[_record(number)])  # fmt: skip
    with pytest.raises(InvalidInput, match=r"outflow.period_to: 9999-12-31 is outside"):
        reconcile(good.model_copy(update={"period_to": date(9999, 12, 31)}))
    early = _record(number).model_copy(update={"since": date(1, 1, 1)})
    with pytest.raises(InvalidInput, match=r"outflow.records.0.since: 0001-01-01 is outside"):
        reconcile(good.model_copy(update={"records": [early]}))
    foreign = _record(number).model_copy(update={"hukou_division": "310101000000"})
    with pytest.raises(
        InvalidInput, match=r"outflow.records.0.hukou_division: 310101000000 is not in the outflow"
    ):
        reconcile(good.model_copy(update={"records": [foreign]}))
    # a number twice: which records, never the number (a 422 never echoes personal data)
    with pytest.raises(InvalidInput) as twice:
        reconcile(good.model_copy(update={"records": [_record(number), _record(number)]}))
    assert str(twice.value) == "outflow.records.1.citizen_id: listed twice: records 0 and 1"
    assert number not in str(twice.value)
    assert db.scalar(select(func.count()).select_from(ExchangeBatch)) == batches
