"""People in the access-control world (tests/access_world.py): houses, residents, an employer.

Each of the world's buildings (own, other, far, old) gets two houses (unit 1 rented) and one
resident living in unit 1 since 2024-01-01, with a valid (fictitious) citizen ID number and a
phone. The far building's resident is the *canary*: a name, ID number and phone that only an
admin may ever see. ``world.objects`` names one object of each kind per variant:

=============  =====================  ========================  ==========================
kind           own                    other                     missing
=============  =====================  ========================  ==========================
houses         own building, unit 1   far building, unit 1      a valid, unissued code
people         own building's person  the canary                a random uid
residences     own person's           the canary's              a random uid
grids          GRID_OWN               GRID_FAR                  an unissued grid code
organizations  at the own house       at the far house          a valid, unissued code
=============  =====================  ========================  ==========================
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from gis.access.masking import mask_id_number, mask_phone
from gis.buildings.models import Building
from gis.houses.models import House, HouseUse
from gis.people.crypto import PeopleCipher, SealedField
from gis.people.models import (
    Declaration,
    DeclaredBy,
    Employment,
    Organization,
    Person,
    PersonCategory,
    Residence,
    ResidenceKind,
)
from tests.access_world import GRID_FAR, GRID_OWN, World, check_char

SINCE = date(2024, 1, 1)
MISSING_UID = "00000000-0000-4000-8000-000000000000"


def citizen_id(region: str, birth: date, seq: int) -> str:
    """A valid 18-character citizen ID number (GB 11643 check character)."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(body))
    return body + "10X98765432"[total % 11]


def credit_code(body17: str) -> str:
    """A valid unified social credit code for 17 characters (GB 32100 check character)."""
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17 + "0")


@dataclass(frozen=True)
class Canary:
    """The planted person nobody but an admin may see."""

    name: str = "金丝雀测试员"
    id_number: str = citizen_id("110105", date(1987, 6, 5), 123)
    phone: str = "13977770001"

    @property
    def needles(self) -> list[str]:
        """Every form of the canary that must never appear: full and masked."""
        return [
            self.name,
            self.id_number,
            self.phone,
            mask_id_number(self.id_number) or "",
            mask_phone(self.phone) or "",
        ]


CANARY = Canary()
RESIDENTS = {
    "own": ("王自己", citizen_id("110105", date(1990, 3, 7), 31), "13800000001"),
    "other": ("李邻居", citizen_id("110105", date(1985, 11, 2), 42), "13800000002"),
    "far": (CANARY.name, CANARY.id_number, CANARY.phone),
    "old": ("赵往昔", citizen_id("110105", date(1970, 1, 9), 55), "13800000004"),
}


def add_person(
    db: Session,
    cipher: PeopleCipher,
    *,
    name: str,
    id_number: str,
    phone: str | None,
    birth: date,
    sex: str = "M",
    category: PersonCategory = PersonCategory.FLOATING,
    district_code: str = "990101",
) -> Person:
    person = Person(
        uid=uuid.uuid4(), name=name, sex=sex, birth_date=birth, category=category,
        id_number_enc=cipher.seal(id_number, field=SealedField.ID_NUMBER),
        id_number_hash=cipher.lookup_hash(id_number, field=SealedField.ID_NUMBER),
        id_number_masked=mask_id_number(id_number),
        phone_enc=cipher.seal(phone, field=SealedField.PHONE) if phone else None,
        phone_hash=cipher.lookup_hash(phone, field=SealedField.PHONE) if phone else None,
        phone_masked=mask_phone(phone), district_code=district_code,
    )  # fmt: skip
    db.add(person)
    return person


def add_houses(db: Session, building: Building, count: int = 2) -> list[House]:
    houses = []
    for unit in range(1, count + 1):
        body = building.code[:19] + f"{unit:05d}"
        house = House(
            uid=uuid.uuid4(), code=body + check_char(body), building_uid=building.uid,
            district_code=building.district_code, unit=unit, floor=1, room=f"10{unit}",
            use=HouseUse.RESIDENTIAL, area_m2=25.0, is_rented=unit == 1,
        )  # fmt: skip
        db.add(house)
        houses.append(house)
    return houses


def add_residence(
    db: Session, *, person: Person, house: House, since: date = SINCE, until: date | None = None
) -> Residence:
    residence = Residence(
        uid=uuid.uuid4(), person_uid=person.uid, house_uid=house.uid,
        period=Range(since, until, bounds="[)"), kind=ResidenceKind.TENANT, is_primary=True,
        declared_by=DeclaredBy.LANDLORD, registered_by="test",
    )  # fmt: skip
    db.add(residence)
    return residence


def add_people_world(db: Session, world: World, cipher: PeopleCipher) -> World:
    """Fill ``world.objects`` (see the module docstring); everything is flushed, not committed."""
    buildings = {
        key: db.scalars(select(Building).where(Building.code == code)).one()
        for key, code in world.buildings.items()
    }
    houses: dict[str, House] = {}
    second: dict[str, House] = {}
    people: dict[str, Person] = {}
    residences: dict[str, Residence] = {}
    for key, building in buildings.items():
        houses[key], second[key] = add_houses(db, building)
        name, id_number, phone = RESIDENTS[key]
        birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        people[key] = add_person(
            db, cipher, name=name, id_number=id_number, phone=phone, birth=birth,
            sex="M" if int(id_number[16]) % 2 else "F", district_code=building.district_code,
        )  # fmt: skip
    db.flush()
    for key in buildings:
        residences[key] = add_residence(db, person=people[key], house=houses[key])
    db.flush()
    for key in ("own", "far"):  # tenants of let rooms whose landlords have not declared them
        db.add(
            Declaration(
                residence_uid=residences[key].uid, house_uid=houses[key].uid,
                person_uid=people[key].uid, moved_in=SINCE, due_on=date(2024, 1, 4),
            )
        )  # fmt: skip
    organizations = {}
    for key, body in (("own", "91990101MA0000001"), ("far", "91990102MA0000002")):
        organization = Organization(
            uid=uuid.uuid4(), name=f"测试单位{key}", credit_code=credit_code(body),
            kind="company", house_uid=houses[key].uid, district_code=houses[key].district_code,
        )  # fmt: skip
        db.add(organization)
        organizations[key] = organization
    db.flush()
    employments = {}
    for key in ("own", "far"):
        employments[key] = Employment(
            uid=uuid.uuid4(), person_uid=people[key].uid, organization_uid=organizations[key].uid,
            period=Range(SINCE, None, bounds="[)"), position="工人",
        )  # fmt: skip
        db.add(employments[key])
    db.flush()
    second_own_house = second["own"].code
    missing_house = world.buildings["own"][:19] + "09999"
    world.objects.update(
        {
            "houses": {
                "own": houses["own"].code, "other": houses["far"].code,
                "missing": missing_house + check_char(missing_house),
            },
            "people": {
                "own": str(people["own"].uid), "other": str(people["far"].uid),
                "missing": MISSING_UID,
            },
            "residences": {
                "own": str(residences["own"].uid), "other": str(residences["far"].uid),
                "missing": MISSING_UID,
            },
            "grids": {"own": GRID_OWN, "other": GRID_FAR, "missing": "990101001001999"},
            "organizations": {
                "own": str(organizations["own"].credit_code),
                "other": str(organizations["far"].credit_code),
                "missing": credit_code("91990101MA0000009"),
            },
            "employments": {
                "own": str(employments["own"].uid), "other": str(employments["far"].uid),
                "missing": MISSING_UID,
            },
            "house_other": {"own": houses["other"].code},
            "house_old": {"own": houses["old"].code},
            "house_own_2": {"own": second_own_house},
            "empty_houses": {  # nobody lives in them and no organization is at them
                "own": second_own_house, "other": second["far"].code,
                "missing": missing_house + check_char(missing_house),
            },
            "new_credit_code": {"own": credit_code("91990101MA0000005")},
        }
    )  # fmt: skip
    return world
