"""Ledger files for the ``import people`` tests, and the import run on them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gis.audit.schemas import Actor
from gis.people.crypto import PeopleCipher
from gis.people.importing import PeopleImportResult, import_people
from gis.people.periods import WorkCalendar
from tests.people_world import citizen_id

ACTOR = Actor(name="cli:test", role="admin")
TODAY = date(2026, 11, 22)
FRESH = citizen_id("110105", date(1995, 8, 8), 77)
CHINESE = [
    "姓名",
    "公民身份号码",
    "联系电话",
    "性别",
    "出生日期",
    "人员类别",
    "房屋编码",
    "入住日期",
    "离开日期",
    "居住类型",
    "申报人",
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHINESE)
        writer.writerows(rows)
    return path


def run_people_import(
    factory: sessionmaker[Session],
    cipher: PeopleCipher,
    path: Path,
    tmp_path: Path,
    batch_size: int = 3,
) -> PeopleImportResult:
    return import_people(
        factory,
        path=path,
        cipher=cipher,
        calendar=WorkCalendar(),
        actor=ACTOR,
        today=TODAY,
        rejects_file=tmp_path / "rejects.csv",
        batch_size=batch_size,
    )
