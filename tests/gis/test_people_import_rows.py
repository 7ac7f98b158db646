"""``import people``, row by row: good rows kept, bad ones rejected with their reason."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis.grids.building_counts import CURRENT_ON
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import Declaration, Person, Residence
from tests.access_world import World
from tests.gis.people_ledgers import FRESH, TODAY, run_people_import, write_csv
from tests.people_world import RESIDENTS, citizen_id


def _rows(world: World) -> list[tuple[list[str], str | None]]:
    """(values under CHINESE, the reason it must be refused or None)."""
    own = world.objects["houses"]["own"]
    second = world.objects["house_own_2"]["own"]
    missing = world.objects["houses"]["missing"]
    existing_name, existing_id, _ = RESIDENTS["own"]
    bad_check = FRESH[:-1] + ("0" if FRESH[-1] != "0" else "1")
    return [
        (["王一", FRESH, "13600000001", "男", "", "", own, "2025-01-01", "", "租住", "房东"], None),
        (["王二", bad_check, "", "", "", "", own, "2025-01-01", "", "", ""], "check character"),
        (
            [
                "王三",
                citizen_id("110105", date(1990, 1, 1), 3),
                "",
                "",
                "",
                "",
                own,
                "2025-13-01",
                "",
                "",
                "",
            ],
            "not a real date",
        ),
        (
            [
                "王四",
                citizen_id("110105", date(1990, 1, 1), 5),
                "",
                "",
                "",
                "",
                missing,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "no live house",
        ),
        (["别名", FRESH, "", "", "", "", own, "2025-01-01", "", "", ""], "another name"),
        (["王一", FRESH, "", "", "", "", second, "2024-01-01", "2024-12-31", "", ""], None),
        (["王一", FRESH, "", "", "", "", second, "2025-06-01", "", "", ""], "overlaps"),
        (
            [
                "Anna Berg",
                "E12345678",
                "",
                "女",
                "1988-02-03",
                "境外",
                second,
                "2025-02-01",
                "",
                "",
                "",
            ],
            None,
        ),
        (
            [
                "",
                citizen_id("110105", date(1990, 1, 1), 7),
                "",
                "",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "name",
        ),
        (
            [
                existing_name,
                existing_id,
                "",
                "",
                "",
                "",
                second,
                "2023-01-01",
                "2023-12-31",
                "",
                "",
            ],
            None,
        ),
        (
            ["冒名", RESIDENTS["other"][1], "", "", "", "", second, "2023-01-01", "", "", ""],
            "registered under another name",
        ),
        (["假冒", existing_id, "", "", "", "", second, "2023-01-01", "", "", ""], "another name"),
        (
            [
                "王五",
                citizen_id("110105", date(1990, 1, 1), 9),
                "12345",
                "",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "mobile number",
        ),
        (
            [
                "王六",
                citizen_id("110105", date(1990, 1, 1), 11),
                "",
                "",
                "",
                "",
                own,
                "2027-01-01",
                "",
                "",
                "",
            ],
            "future",
        ),
        (
            [
                "王七",
                citizen_id("110105", date(1990, 1, 1), 13),
                "",
                "女",
                "",
                "",
                own,
                "2025-01-01",
                "",
                "",
                "",
            ],
            "the ID number says M",
        ),
    ]


def _people_with(
    tmp_path: Path, column: str, people: list[tuple[str, str, str]], *, house: str
) -> Path:
    """A file of (name, ID number, ``column``'s value) moving into ``house`` on 2025-01-01."""
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "公民身份号码", column, "房屋编码", "入住日期"])
        for name, number, value in people:
            writer.writerow([name, number, value, house, "2025-01-01"])
    return path


def test_good_rows_are_kept_and_every_bad_row_is_reported(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    rows = _rows(world)
    path = write_csv(tmp_path / "people.csv", [values for values, _ in rows])
    result = run_people_import(factory, cipher, path, tmp_path)
    expected_bad = {line: reason for line, (_, reason) in enumerate(rows, start=2) if reason}
    assert result.read == len(rows)
    assert result.imported == len(rows) - len(expected_bad)
    assert {line for line, _ in result.rejected} == set(expected_bad)
    for line, reason in result.rejected:
        assert expected_bad[line] in reason, (line, reason)
    # the rejects file holds each bad row with its reason and its values
    assert (tmp_path / "rejects.csv").stat().st_mode & 0o777 == 0o600  # full ID numbers
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig") as handle:
        written = {int(r["line"]): r for r in csv.DictReader(handle)}
    assert set(written) == set(expected_bad)
    assert written[3]["公民身份号码 id_number"] == rows[1][0][1]
    # the ID number on four lines is reported as a duplicate (masked)
    masked = FRESH[:6] + "********" + FRESH[-4:]
    assert result.duplicates[masked] == [2, 6, 7, 8]
    # what was kept is in the database: 王一 with two periods, the overseas resident
    digest = cipher.lookup_hash(FRESH, field=SealedField.ID_NUMBER)
    person = db.scalars(select(Person).where(Person.id_number_hash == digest)).one()
    assert person.batch_id == result.batch_id and person.category == "floating"
    spans = db.execute(
        select(func.lower(Residence.period), func.upper(Residence.period))
        .where(Residence.person_uid == person.uid)
        .order_by(func.lower(Residence.period))
    ).all()
    assert [tuple(s) for s in spans] == [
        (date(2024, 1, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), None),
    ]
    overseas = db.scalars(select(Person).where(Person.name == "Anna Berg")).one()
    assert overseas.category == "overseas" and overseas.id_number_masked == "*" * 9
    # the tenant of the let house was declared by the landlord with the registration
    declared = db.scalar(
        select(func.count()).select_from(Declaration).where(Declaration.person_uid == person.uid)
    )
    assert declared == 1
    # the buildings' kept counts are current after the load: the first map or dashboard after
    # it does not count the loaded buildings itself
    assert result.counted_again > 0
    not_current = text(
        f"SELECT count(*) FROM building_counts c WHERE NOT coalesce({CURRENT_ON}, false)"  # noqa: S608
    )
    assert db.execute(not_current, {"on": TODAY}).scalar_one() == 0
    # a second run finds everything there: nothing new, nothing lost
    again = run_people_import(factory, cipher, path, tmp_path, batch_size=100)
    assert again.imported == 0 and again.already_imported == result.imported
    assert len(again.rejected) == len(result.rejected)


@pytest.mark.parametrize(
    ("moved_out", "deregistered_on", "declared_on", "column", "reason"),
    [
        ("2025-06-01", "2025-05-31", "", "deregistered_on (注销日期)", "before the departure"),
        ("2025-06-01", "2026-11-23", "", "deregistered_on (注销日期)", "in the future"),
        ("", "", "2024-12-31", "declared_on (申报日期)", "before the move-in date"),
        ("", "", "2026-11-23", "declared_on (申报日期)", "in the future"),
        ("2025-06-01", "2025-06-01", "2025-01-01", None, None),
    ],
)
def test_impossible_deregistration_and_declaration_dates_are_rejected(
    factory: sessionmaker[Session],
    cipher: PeopleCipher,
    world: World,
    tmp_path: Path,
    moved_out: str,
    deregistered_on: str,
    declared_on: str,
    column: str | None,
    reason: str | None,
) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "公民身份号码", "房屋编码", "入住日期", "离开日期", "注销日期",
                         "申报日期"])  # fmt: skip
        writer.writerow(["王一", FRESH, world.objects["houses"]["own"], "2025-01-01", moved_out,
                         deregistered_on, declared_on])  # fmt: skip
    result = run_people_import(factory, cipher, path, tmp_path)
    if column is None:
        assert result.imported == 1 and not result.rejected
        return
    assert result.imported == 0
    assert [line for line, _ in result.rejected] == [2]
    assert result.rejected[0][1].startswith(f"{column}: ")
    assert reason is not None and reason in result.rejected[0][1]


def test_a_hukou_division_that_is_no_known_division_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """Like registration over HTTP: a hukou division that is neither a county of China nor a
    division loaded here (000000, 999999999999) is a rejected row, not a stored code with a
    category derived from it; a real county not loaded here (Beijing's 110105) is kept."""
    own = world.objects["houses"]["own"]
    people = [
        ("王一", citizen_id("110105", date(1990, 1, 1), 11), "000000"),
        ("王二", citizen_id("110105", date(1990, 1, 1), 13), "999999999999"),
        ("王三", citizen_id("110105", date(1990, 1, 1), 15), "110105"),
    ]
    path = _people_with(tmp_path, "户籍地区划代码", people, house=own)
    result = run_people_import(factory, cipher, path, tmp_path)
    assert result.imported == 1
    assert result.rejected == [
        (2, "hukou_division_code (户籍地区划代码): 000000000000 is not a known division: "
            "neither a county of China nor a division loaded here"),
        (3, "hukou_division_code (户籍地区划代码): 999999999999 is not a known division: "
            "neither a county of China nor a division loaded here"),
    ]  # fmt: skip
    stored = db.scalars(select(Person.hukou_division_code).where(Person.name.like("王_"))).all()
    assert stored == ["110105000000"]


def test_a_township_or_village_that_is_not_loaded_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """As over HTTP: below a county (12 digits not ending in 000000) only a loaded division is
    known; ``440305999999`` was kept, its first six digits being a county of China."""
    own = world.objects["houses"]["own"]
    people = [
        ("赵一", citizen_id("110105", date(1990, 1, 1), 21), "440305999999"),
        ("赵二", citizen_id("110105", date(1990, 1, 1), 23), "110105123456"),
        ("赵三", citizen_id("110105", date(1990, 1, 1), 25), "990101999999"),
        ("赵四", citizen_id("110105", date(1990, 1, 1), 27), "990101001001"),
        ("赵五", citizen_id("110105", date(1990, 1, 1), 29), "990102"),
    ]
    path = _people_with(tmp_path, "户籍地区划代码", people, house=own)
    result = run_people_import(factory, cipher, path, tmp_path)
    column = "hukou_division_code (户籍地区划代码)"
    assert result.rejected == [
        (2, f"{column}: 440305999999 is not a known division: no township or village "
            "440305999999 is loaded here (the county alone: 440305)"),
        (3, f"{column}: 110105123456 is not a known division: no township or village "
            "110105123456 is loaded here (the county alone: 110105)"),
        (4, f"{column}: 990101999999 is not a known division: neither a county of China nor a "
            "division loaded here"),
    ]  # fmt: skip
    stored = db.scalars(
        select(Person.hukou_division_code)
        .where(Person.name.like("赵_"))
        .order_by(Person.hukou_division_code)
    ).all()
    assert stored == ["990101001001", "990102000000"]


def test_a_hukou_address_with_a_control_character_is_rejected(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """As over HTTP (a bell and a direction override were stored as read): one line, trimmed,
    none when blank."""
    own = world.objects["houses"]["own"]
    people = [
        ("钱一", citizen_id("110105", date(1990, 1, 1), 31), "深圳\u202e市南山区"),
        ("钱二", citizen_id("110105", date(1990, 1, 1), 33), "\u0007bell"),
        ("钱三", citizen_id("110105", date(1990, 1, 1), 35), "  "),
        ("钱四", citizen_id("110105", date(1990, 1, 1), 37), " 广东省深圳市南山区 "),
    ]
    path = _people_with(tmp_path, "户籍地址", people, house=own)
    result = run_people_import(factory, cipher, path, tmp_path)
    reason = (
        "hukou_address (户籍地址): may not contain control characters (line breaks, tabs, "
        "escapes, direction overrides)"
    )
    assert result.rejected == [(2, reason), (3, reason)]
    stored = db.execute(
        select(Person.name, Person.hukou_address)
        .where(Person.name.like("钱_"))
        .order_by(Person.name)
    ).all()
    assert [tuple(row) for row in stored] == [("钱三", None), ("钱四", "广东省深圳市南山区")]


def test_a_tenant_on_a_fixed_term_owes_a_declaration_a_past_stay_none(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, db: Session, tmp_path: Path
) -> None:
    """A tenant imported with a departure ahead (a one-year lease) got no declaration, which a
    registration over HTTP gives; a stay that ended before the import owes none."""
    let = world.objects["houses"]["own"]  # a let house
    term = citizen_id("110105", date(1992, 2, 2), 41)
    past = citizen_id("110105", date(1992, 2, 3), 43)
    path = write_csv(tmp_path / "people.csv", [
        ["租期内", term, "", "", "", "", let, "2026-11-20", "2027-06-30", "租住", "本人"],
        ["已离开", past, "", "", "", "", let, "2025-01-06", "2025-03-01", "租住", "本人"],
    ])  # fmt: skip
    assert run_people_import(factory, cipher, path, tmp_path).imported == 2
    due = dict(
        db.execute(
            select(Person.name, Declaration.due_on)
            .join(Declaration, Declaration.person_uid == Person.uid)
            .where(Person.name.in_(["租期内", "已离开"]))
        ).all()
    )
    assert due == {"租期内": date(2026, 11, 25)}
