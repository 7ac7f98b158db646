"""``import people``: one ID number, one name, across rows, runs and voided residences."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.people.corrections import void_residence
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import Person, Residence
from gis.people.periods import today_in_china
from gis.users.models import Role
from tests.access_world import World
from tests.gis.people_ledgers import TODAY, run_people_import, write_csv
from tests.people_world import citizen_id


def test_a_rejected_row_blocks_no_row_after_it(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """A row rejected against the database (a house code no live house has) was still taken
    as the person's period, so the corrected row after it was refused as overlapping it."""
    number = citizen_id("110105", date(1992, 2, 2), 21)
    missing, own = world.objects["houses"]["missing"], world.objects["houses"]["own"]
    path = write_csv(tmp_path / "people.csv", [
        ["赵六", number, "", "", "", "", missing, "2025-03-01", "", "", ""],
        ["赵六", number, "", "", "", "", own, "2025-03-01", "", "", ""],
        ["赵六", number, "", "", "", "", own, "2025-04-01", "", "", ""],
    ])  # fmt: skip
    result = run_people_import(factory, cipher, path, tmp_path, batch_size=1)  # across batches too
    assert result.imported == 1
    assert result.rejected == [
        (2, "house_code (房屋编码): no live house has this code"),
        (4, "moved_in (入住日期): [2025-04-01, open) overlaps [2025-03-01, open) of line 3 "
            "(one primary residence at a time)"),
    ]  # fmt: skip
    assert list(result.duplicates.values()) == [[2, 3, 4]]


def test_one_id_number_keeps_one_name_whatever_became_of_its_first_row(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """The first row (refused for its house code) was forgotten: the second row's name went in
    unnoticed, and the first row, once corrected, was refused as 'registered under another
    name'; nor were the two reported as duplicates."""
    number = citizen_id("110105", date(1994, 4, 4), 31)
    own = world.objects["houses"]["own"]
    path = write_csv(tmp_path / "people.csv", [
        ["甲一", number, "", "", "", "", own[:-1] + "Z", "2025-03-01", "", "", ""],
        ["甲二", number.lower(), "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    result = run_people_import(factory, cipher, path, tmp_path)
    assert result.imported == 0
    assert [line for line, _ in result.rejected] == [2, 3]
    assert result.rejected[1] == (
        3, "id_number (公民身份号码): line 2 gives this ID number another name"
    )  # fmt: skip
    assert list(result.duplicates.values()) == [[2, 3]]


def test_one_id_number_typed_with_full_width_digits_is_a_duplicate_too(
    factory: sessionmaker[Session], cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    """The second row was refused as the first's number under another name, but the report
    counted no duplicated ID number: it compared the raw text."""
    number = citizen_id("110105", date(1995, 5, 5), 41)
    wide = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    own = world.objects["houses"]["own"]
    path = write_csv(tmp_path / "people.csv", [
        ["张三", number, "", "", "", "", own, "2025-03-01", "", "", ""],
        ["李四", wide, "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    result = run_people_import(factory, cipher, path, tmp_path)
    assert [line for line, _ in result.rejected] == [3]
    assert list(result.duplicates.values()) == [[2, 3]]


def test_a_voided_residence_is_not_imported_again_and_its_person_is_renewed(
    factory: sessionmaker[Session], db: Session, cipher: PeopleCipher, world: World, tmp_path: Path
) -> None:
    number = citizen_id("110105", date(1993, 3, 3), 23)
    own, second = world.objects["houses"]["own"], world.objects["house_own_2"]["own"]
    path = write_csv(tmp_path / "people.csv", [
        ["钱七", number, "", "", "", "", own, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    assert run_people_import(factory, cipher, path, tmp_path).imported == 1
    digest = cipher.lookup_hash(number, field=SealedField.ID_NUMBER)
    person = db.scalars(select(Person).where(Person.id_number_hash == digest)).one()
    residence = db.scalars(select(Residence).where(Residence.person_uid == person.uid)).one()
    void_residence(db, scope=Scope("t_admin", Role.ADMIN), residence_uid=residence.uid,
                   reason="导入了错误的名单", today=TODAY)  # fmt: skip
    # the same file again: the row the officer voided is reported, not brought back
    again = run_people_import(factory, cipher, path, tmp_path)
    assert again.imported == 0 and again.already_imported == 0
    assert again.rejected == [
        (2, f"moved_in (入住日期): this residence was voided on {today_in_china()} "
            "(导入了错误的名单); correct the file's row"),
    ]  # fmt: skip
    # the corrected row, under the right name: nothing but the voided row named the person
    fixed = write_csv(tmp_path / "fixed.csv", [
        ["钱七七", number, "", "", "", "", second, "2025-03-01", "", "", ""],
    ])  # fmt: skip
    assert run_people_import(factory, cipher, fixed, tmp_path).imported == 1
    db.expire_all()
    renamed = db.get(Person, person.uid)
    assert renamed is not None and renamed.name == "钱七七"
    # once a residence names the person, another name is refused as before
    other = write_csv(tmp_path / "other.csv", [
        ["孙八", number, "", "", "", "", own, "2026-01-01", "", "", ""],
    ])  # fmt: skip
    refused = run_people_import(factory, cipher, other, tmp_path)
    assert refused.rejected == [(2, "id_number (公民身份号码): registered under another name")]
    # a voided row registered again by hand (the void was the mistake) is there: not refused
    db.expire_all()
    again_by_hand = db.scalars(select(Residence).where(Residence.person_uid == person.uid)).one()
    void_residence(db, scope=Scope("t_admin", Role.ADMIN), residence_uid=again_by_hand.uid,
                   reason="作废错了", today=TODAY)  # fmt: skip
    db.flush()
    fixed_again = run_people_import(factory, cipher, fixed, tmp_path)
    assert fixed_again.rejected and "was voided" in fixed_again.rejected[0][1]
    db.add(Residence(uid=uuid.uuid4(),
                     person_uid=person.uid, house_uid=again_by_hand.house_uid,
                     period=again_by_hand.period, kind=again_by_hand.kind, is_primary=True,
                     declared_by=again_by_hand.declared_by, declared_at=again_by_hand.declared_at,
                     registered_by="t_admin"))  # fmt: skip
    db.flush()
    registered = run_people_import(factory, cipher, fixed, tmp_path)
    assert (registered.rejected, registered.already_imported, registered.imported) == ([], 1, 0)
