"""Who a person is, checked and stored: validation of a registration, the encrypted row, the key.

:func:`validate_person` turns what a caller sends into a :class:`ValidPerson` (ID number checked,
sex and birth date derived); :func:`person_values` seals it for the ``people`` table;
:func:`ensure_people_key` creates the key at setup, but never where encrypted rows already exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis.access.masking import mask_phone
from gis.divisions.queries import select_known_codes
from gis.errors import EnvironmentProblem, InvalidInput
from gis.people import queries
from gis.people.crypto import (
    PeopleCipher,
    SealedField,
    default_key_path,
    read_key_file,
    write_new_key_file,
)
from gis.people.identity import (
    mask_any_id,
    normalise_name,
    normalise_passport,
    normalise_phone,
    parse_citizen_id,
    region_years,
)
from gis.people.models import PersonCategory
from gis.people.schemas import PersonInput
from gis.settings import Settings


@dataclass(frozen=True)
class ValidPerson:
    """A registration that passed every check; ``region_code`` is the ID number's county."""

    name: str
    id_number: str
    sex: str | None
    birth_date: date | None
    region_code: str | None
    phone: str | None
    category: PersonCategory | None
    hukou_division_code: str | None
    hukou_address: str | None
    occupation: str | None
    education: str | None
    is_key_person: bool


def _optional_text(value: str | None, *, field: str, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if "\x00" in value or len(value) > limit:
        raise InvalidInput(f"at most {limit} characters, no NUL bytes", field=field)
    return value


def validate_person(person: PersonInput, *, today: date, prefix: str = "person.") -> ValidPerson:
    """Check every field; an ID number must agree with a sex or birth date given beside it."""
    name = normalise_name(person.name, field=f"{prefix}name")
    id_field = f"{prefix}id_number"
    sex: str
    region: str | None
    if person.category is PersonCategory.OVERSEAS:
        number = normalise_passport(person.id_number, field=id_field)
        if person.sex is None or person.birth_date is None:
            raise InvalidInput("overseas residents need sex and birth_date", field=f"{prefix}sex")
        sex, birth, region = person.sex, person.birth_date, None
        if not date(1880, 1, 1) <= birth <= today:
            raise InvalidInput(f"{birth} is not a possible birth date", field=f"{prefix}birth_date")
    else:
        citizen = parse_citizen_id(person.id_number, field=id_field, today=today)
        number, sex, birth, region = (
            citizen.number, citizen.sex, citizen.birth_date, citizen.region_code,
        )  # fmt: skip
        if person.sex is not None and person.sex != sex:
            raise InvalidInput(f"the ID number says {sex}", field=f"{prefix}sex")
        if person.birth_date is not None and person.birth_date != birth:
            raise InvalidInput(f"the ID number says {birth}", field=f"{prefix}birth_date")
    phone = normalise_phone(person.phone, field=f"{prefix}phone") if person.phone else None
    hukou = person.hukou_division_code
    return ValidPerson(
        name=name,
        id_number=number,
        sex=sex,
        birth_date=birth,
        region_code=region,
        phone=phone,
        category=person.category,
        hukou_division_code=hukou.ljust(12, "0") if hukou else None,
        hukou_address=_optional_text(
            person.hukou_address, field=f"{prefix}hukou_address", limit=200
        ),
        occupation=_optional_text(person.occupation, field=f"{prefix}occupation", limit=100),
        education=_optional_text(person.education, field=f"{prefix}education", limit=50),
        is_key_person=person.is_key_person,
    )


def unknown_hukou_divisions(session: Session, codes: Iterable[str]) -> set[str]:
    """Those of ``codes`` (6 or 12 digits) that are no known division. A county (6 digits, or
    12 ending in ``000000``) is known when it is a county of China (python-stdnum's table of
    county codes) or a division loaded here; a township or village (12 digits below a county)
    only when it is a division loaded here, whether or not anything of its county is: a code
    nobody can check would otherwise be stored, and a category derived from a township that
    may not exist (``440305999999``, ``110105123456``). ``000000`` and ``999999999999`` are
    no division at all."""
    padded = {code: code.ljust(12, "0") for code in codes}
    unchecked = {
        code: full
        for code, full in padded.items()
        if not _is_county(full) or region_years(full[:6]) is None
    }
    if not unchecked:
        return set()
    known = select_known_codes(session, sorted(set(unchecked.values())))
    return {code for code, full in unchecked.items() if full not in known}


def _is_county(code: str) -> bool:
    return code[6:] == "000000"


def unknown_division_reason(code: str) -> str:
    """Why ``code`` (one :func:`unknown_hukou_divisions` found) is refused."""
    full = code.ljust(12, "0")
    if not _is_county(full) and region_years(full[:6]) is not None:
        return (
            f"{code} is not a known division: no township or village {code} is loaded here "
            f"(the county alone: {full[:6]})"
        )
    return f"{code} is not a known division: neither a county of China nor a division loaded here"


def derive_category(person: ValidPerson, *, community_code: str) -> PersonCategory:
    """The category given, or: hukou when the hukou division lies in the house's township
    (with only the ID number's county known: in the house's county), floating otherwise.
    (流动人口: living away from the hukou's township.)"""
    if person.category is not None:
        return person.category
    return category_from_hukou(
        person.hukou_division_code, region_code=person.region_code, community_code=community_code
    )


def category_from_hukou(
    hukou_division_code: str | None, *, region_code: str | None, community_code: str
) -> PersonCategory:
    """Hukou when the hukou division lies in the township of ``community_code`` (with only the
    ID number's county known: in its county), floating otherwise."""
    if hukou_division_code and hukou_division_code[6:9] != "000":
        same = hukou_division_code[:9] == community_code[:9]
    else:
        hukou = hukou_division_code or (region_code or "").ljust(12, "0")
        same = hukou[:6] == community_code[:6]
    return PersonCategory.HUKOU if same else PersonCategory.FLOATING


def phone_columns(phone: str | None, *, cipher: PeopleCipher) -> dict[str, Any]:
    """A phone (normalised) as the ``people`` row keeps it: sealed, keyed hash, masked; all
    ``None`` without one."""
    if not phone:
        return {"phone_enc": None, "phone_hash": None, "phone_masked": None}
    return {
        "phone_enc": cipher.seal(phone, field=SealedField.PHONE),
        "phone_hash": cipher.lookup_hash(phone, field=SealedField.PHONE),
        "phone_masked": mask_phone(phone),
    }


def person_values(
    person: ValidPerson,
    *,
    cipher: PeopleCipher,
    category: PersonCategory,
    district_code: str,
    batch_id: int | None = None,
) -> dict[str, Any]:
    """The ``people`` row of a registration: identifiers sealed, hashed and masked."""
    return {
        "name": person.name,
        "id_number_enc": cipher.seal(person.id_number, field=SealedField.ID_NUMBER),
        "id_number_hash": cipher.lookup_hash(person.id_number, field=SealedField.ID_NUMBER),
        "id_number_masked": mask_any_id(person.id_number),
        **phone_columns(person.phone, cipher=cipher),
        "sex": person.sex,
        "birth_date": person.birth_date,
        "hukou_division_code": person.hukou_division_code,
        "hukou_address": person.hukou_address,
        "category": category,
        "occupation": person.occupation,
        "education": person.education,
        "is_key_person": person.is_key_person,
        "district_code": district_code,
        "batch_id": batch_id,
    }


def people_key_path(settings: Settings) -> Path:
    return settings.people_key_file or default_key_path(settings.data_dir)


def load_people_cipher(settings: Settings) -> PeopleCipher:
    """The cipher of the configured key file (:class:`EnvironmentProblem` when missing)."""
    return read_key_file(people_key_path(settings))


def ensure_people_key(session: Session, *, path: Path) -> tuple[PeopleCipher, bool]:
    """Load the key, or create it when it is missing *and* no encrypted row exists yet (a lost
    key is never silently replaced: the rows it sealed would become unreadable). Returns the
    cipher and whether the key was created."""
    if path.exists():
        return read_key_file(path), False
    sealed = queries.count_sealed_people(session)
    if sealed:
        raise EnvironmentProblem(
            f"the people key {path} is missing but {sealed:,} people are stored encrypted with "
            "it: restore the key file from the backup (a new key cannot read them)",
            field="GRIDHOUSE_PEOPLE_KEY_FILE",
        )
    return write_new_key_file(path), True
