"""Citizen ID numbers, phones, credit codes and names: checked at the door, reasons named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gis.errors import InvalidInput
from gis.people.identity import (
    normalise_credit_code,
    normalise_name,
    normalise_phone,
    parse_citizen_id,
    region_in_use,
)
from tests.people_world import citizen_id, credit_code

REASONS = {  # a phrase of the vector's "why" → the phrase our message must hold
    "not a date": "is not a date",
    "does not match": "the check character does not match",
}


def _vectors(shared_data: Path) -> dict[str, object]:
    return dict(json.loads((shared_data / "vectors.json").read_text()))


def test_the_valid_vector_is_accepted_with_sex_and_birth_date(shared_data: Path) -> None:
    valid = _vectors(shared_data)["citizen_id_valid"]
    assert isinstance(valid, list)
    for number in valid:
        parsed = parse_citizen_id(str(number))
        assert parsed.number == number
        assert parsed.birth_date == date(1949, 12, 31)
        assert parsed.sex == "F"  # the 17th digit, 2, is even
        assert parsed.region_code == "110105"


def test_each_invalid_vector_is_refused_with_its_reason(shared_data: Path) -> None:
    vectors = _vectors(shared_data)["citizen_id_invalid"]
    assert isinstance(vectors, list) and vectors
    for vector in vectors:
        with pytest.raises(InvalidInput) as refused:
            parse_citizen_id(vector["value"])
        expected = next(text for key, text in REASONS.items() if key in vector["why"])
        assert expected in refused.value.message, (vector, refused.value.message)
        assert refused.value.field == "id_number"
    # the month is named, not just "invalid"
    with pytest.raises(InvalidInput, match="there is no month 13"):
        parse_citizen_id("110105194913310021")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "has 18 characters, got 17"),
        ("1101051949123100X2", "the first 17 characters must be digits"),
        ("11010519491231002Y", "must be a digit or X"),
        (citizen_id("110105", date(1980, 2, 28), 11)[:17] + "Z", "must be a digit or X"),
        (citizen_id("990101", date(1990, 1, 1), 11), "is not a known county"),
        (citizen_id("440305", date(1980, 5, 1), 11), "was not in use in the birth year 1980"),
        (citizen_id("110105", date(2099, 5, 1), 11), "is in the future"),
    ],
)
def test_bad_numbers_name_what_is_wrong(number: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_citizen_id(number, today=date(2026, 11, 22))


def test_an_impossible_day_is_named() -> None:
    body = "11010519800230001"  # 30 February
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    number = body + "10X98765432"[total % 11]
    with pytest.raises(InvalidInput, match="month 2 of 1980 has no day 30"):
        parse_citizen_id(number)


@pytest.mark.parametrize("birth", ["00000101", "00000229", "18791231"])
def test_a_birth_year_before_1880_is_named_not_the_day(birth: str) -> None:
    """Year 0000 was refused as "month 1 of 0 has no day 1" (``date`` has no year 0): the
    year is what is wrong."""
    body = f"440305{birth}123"
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    number = body + "10X98765432"[total % 11]
    shown = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
    with pytest.raises(InvalidInput, match=f"the birth date {shown} is before 1880$"):
        parse_citizen_id(number, today=date(2026, 11, 22))


def test_lowercase_x_and_spaces_are_accepted() -> None:
    assert parse_citizen_id(" 11010519491231002x ").number == "11010519491231002X"


def test_region_codes_follow_their_years() -> None:
    assert region_in_use("440305", 1995) and not region_in_use("440305", 1982)
    assert region_in_use("110105", 1950)


def test_phones_are_normalised_or_refused() -> None:
    assert normalise_phone("+86 138-1234-5678") == "13812345678"
    assert normalise_phone("0755-26012345") == "075526012345"
    # landlines written internationally get their trunk 0 back (they were refused)
    assert normalise_phone("+86 755 2601 2345") == "075526012345"
    assert normalise_phone("0086 10 1234 5678") == "01012345678"
    # full-width digits (a Chinese input method) are the same number, so the same lookup hash
    assert normalise_phone("１３８-１２３４-５６７８") == "13812345678"
    # digits of other scripts are not digits of a phone (stored, they never matched a lookup)
    for bad in ("12345", "23812345678", "138123456789", "call me", "13٨12345678", "+86"):
        with pytest.raises(InvalidInput, match="mobile number"):
            normalise_phone(bad)


def test_credit_codes_are_checked() -> None:
    good = credit_code("91440300MA5ABCDE1")
    assert normalise_credit_code(good.lower()) == good
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidInput, match="check character does not match"):
        normalise_credit_code(wrong)
    with pytest.raises(InvalidInput, match="may not contain"):
        normalise_credit_code("91440300MA5ABCDEI0")
    with pytest.raises(InvalidInput, match="18 characters"):
        normalise_credit_code("9144030")


def test_names_refuse_control_characters_and_empty_values() -> None:
    assert normalise_name(" 王 小明 ") == "王 小明"
    with pytest.raises(InvalidInput, match="required"):
        normalise_name("   ")
    with pytest.raises(InvalidInput, match="control"):
        normalise_name("王\u200b明\x07")
