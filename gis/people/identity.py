"""Identifiers of people and units, checked at the door: citizen ID numbers (GB 11643), phones,
unified social credit codes (GB 32100), names.

Every refusal is an :class:`~gis.errors.InvalidInput` whose message says which part is wrong:
the length, a character, the check character, the birth date, or the region code::

    >>> parse_citizen_id("11010519491231002X").birth_date
    datetime.date(1949, 12, 31)
    >>> try:
    ...     parse_citizen_id("110105194913310021")
    ... except InvalidInput as error:
    ...     print(error.message)
    the birth date 1949-13-31 is not a date: there is no month 13
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc

from gis.access.masking import mask_id_number
from gis.clock import today_in_china
from gis.errors import InvalidInput

ID_LENGTH = 18
EARLIEST_BIRTH_YEAR = 1880
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[0-9]{9,11}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class CitizenId:
    """A valid 18-character citizen ID number and what it encodes."""

    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" (odd sequence) or "F" (even)


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field)


@lru_cache(maxsize=8192)
def region_years(code: str) -> tuple[tuple[int | None, int | None], ...] | None:
    """The year ranges in which a 6-digit region code was in use (``None`` bounds are open), or
    ``None`` when the code is unknown; from python-stdnum's table of county codes since 1980.

    >>> region_years("110105")
    ((None, None),)
    >>> region_years("440305")
    ((1983, 1989), (1990, None))
    >>> region_years("990101") is None
    True
    """
    info = {
        key: value for _, props in numdb.get("cn/loc").info(code) for key, value in props.items()
    }
    if "county" not in info:
        return None
    ranges: list[tuple[int | None, int | None]] = []
    for entry in info["county"].split(","):
        if not entry.startswith("["):
            ranges.append((None, None))
            continue
        start, end = entry[1:].split("]", 1)[0].split("-")
        ranges.append((int(start) if start else None, int(end) if end else None))
    return tuple(ranges)


def region_in_use(code: str, year: int) -> bool:
    """True when ``code`` is a county code that was in use in ``year``."""
    ranges = region_years(code)
    if ranges is None:
        return False
    return any((lo is None or year >= lo) and (hi is None or year <= hi) for lo, hi in ranges)


def compact_citizen_id(text: str) -> str:
    """An ID number as it is checked, stored and looked up: white space dropped (``440305
    19700101 3033``, as it is often written in groups), upper case, full-width characters (０-９
    and Ｘ, as a Chinese input method types them) read as their ASCII forms (NFKC, then
    python-stdnum's ``compact``).

    >>> compact_citizen_id(" １１０１０５１９４９１２３１００２x ")
    '11010519491231002X'
    >>> compact_citizen_id("４４１６２４２００２０５２０２０３Ｘ")
    '44162420020520203X'
    >>> compact_citizen_id("110105 19491231 002x")
    '11010519491231002X'
    """
    return ric.compact("".join(unicodedata.normalize("NFKC", text).split()))


def parse_citizen_id(
    text: str, *, field: str = "id_number", today: date | None = None
) -> CitizenId:
    """Validate a citizen ID number: length, characters, check character, a real birth date
    that is not in the future, and a region code in use in the birth year."""
    if "\x00" in text:
        raise _refuse("NUL bytes are not allowed", field)
    number = compact_citizen_id(text)
    if len(number) != ID_LENGTH:
        raise _refuse(f"a citizen ID number has {ID_LENGTH} characters, got {len(number)}", field)
    if not number[:17].isdigit() or not number[:17].isascii():
        raise _refuse("the first 17 characters must be digits", field)
    if number[17] not in "0123456789X":
        raise _refuse("the check character (the 18th) must be a digit or X", field)
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise _refuse(
            f"the check character does not match: expected {expected!r}, got {number[17]!r} "
            "(ISO 7064 MOD 11-2); the number is mistyped",
            field,
        )
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    shown = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    if year < EARLIEST_BIRTH_YEAR:  # before date(): it has no year 0 and would blame the day
        raise _refuse(f"the birth date {shown} is before {EARLIEST_BIRTH_YEAR}", field)
    if not 1 <= month <= 12:
        raise _refuse(f"the birth date {shown} is not a date: there is no month {month}", field)
    try:
        birth = date(year, month, day)
    except ValueError:
        raise _refuse(
            f"the birth date {shown} is not a date: month {month} of {year} has no day {day}",
            field,
        ) from None
    if birth > (today or today_in_china()):
        raise _refuse(f"the birth date {shown} is in the future", field)
    region = number[:6]
    if region_years(region) is None:
        raise _refuse(f"the region code {region} (characters 1-6) is not a known county", field)
    if not region_in_use(region, year):
        raise _refuse(f"the region code {region} was not in use in the birth year {year}", field)
    return CitizenId(
        number=number,
        region_code=region,
        birth_date=birth,
        sex="M" if int(number[16]) % 2 else "F",
    )


def normalise_passport(text: str, *, field: str = "id_number") -> str:
    """A travel document number (overseas residents): 5-20 letters and digits, upper-cased."""
    value = re.sub(r"\s", "", text).upper()
    if "\x00" in value or not _PASSPORT.fullmatch(value):
        raise _refuse("a passport number has 5-20 letters and digits", field)
    return value


def normalise_phone(text: str, *, field: str = "phone") -> str:
    """A mainland mobile (11 digits, 1[3-9]…) or landline (0 + area code + number), ASCII digits
    only (full-width ones, typed with a Chinese input method, are converted); a leading +86 or
    0086 is dropped, and a landline after it gets its trunk 0 back.

    >>> normalise_phone("+86 138-1234-1234"), normalise_phone("0755-2601 2345")
    ('13812341234', '075526012345')
    >>> normalise_phone("+86 755 2601 2345"), normalise_phone("１３８１２３４１２３４")
    ('075526012345', '13812341234')
    """
    value = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    international = False
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value, international = value[len(prefix) :], True
    if international and not _MOBILE.fullmatch(value) and value[:1] not in ("", "0"):
        value = "0" + value  # +86 755 …: the area code without its trunk 0
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return value
    raise _refuse(
        "a phone is a mobile number of 11 digits starting 13-19, or 0 + area code + number",
        field,
    )


def normalise_credit_code(text: str, *, field: str = "credit_code") -> str:
    """Validate a unified social credit code (GB 32100): 18 characters, the registering region
    and organisation code, and the check character.

    >>> normalise_credit_code("91110000600037341L")
    '91110000600037341L'
    """
    if "\x00" in text:
        raise _refuse("NUL bytes are not allowed", field)
    code = uscc.compact(text)
    if len(code) != ID_LENGTH:
        raise _refuse(f"a credit code has {ID_LENGTH} characters, got {len(code)}", field)
    if not code[:8].isdigit() or not code[:8].isascii():
        raise _refuse("characters 1-8 (authority, type, region) must be digits", field)
    bad = sorted({char for char in code[8:] if char not in "0123456789ABCDEFGHJKLMNPQRTUWXY"})
    if bad:
        raise _refuse(f"characters 9-18 may not contain {''.join(bad)} (I, O, S, V, Z)", field)
    expected = uscc.calc_check_digit(code)
    if code[17] != expected:
        raise _refuse(
            f"the check character does not match: expected {expected!r}, got {code[17]!r}", field
        )
    return code


def normalise_name(text: str, *, field: str = "name", max_length: int = 100) -> str:
    """A person's or unit's name: 1-``max_length`` characters, no control characters."""
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise _refuse("a name is required", field)
    if len(value) > max_length:
        raise _refuse(f"a name is at most {max_length} characters", field)
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise _refuse("a name may not contain control characters", field)
    return value


def mask_any_id(number: str) -> str:
    """The masked form of a citizen ID or passport number (first 6 and last 4 kept when long)."""
    return mask_id_number(number) or ""
