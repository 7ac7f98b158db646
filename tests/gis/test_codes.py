"""House codes: format, check character (ISO 7064 MOD 11-2), parsing and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from stdnum.iso7064 import mod_11_2

from gis.codes import check_character, format_code, format_codes, group_code, parse_code
from gis.errors import InvalidInput

CODE = format_code(community_code="440305007003", structure_class=1, seq=123)


def test_reference_check_characters(shared_data: Path) -> None:
    vectors = json.loads((shared_data / "vectors.json").read_text())["iso7064_mod_11_2"]
    assert vectors
    for vector in vectors:
        assert check_character(vector["digits"]) == vector["check"]


def test_layout_of_a_code() -> None:
    assert len(CODE) == 25
    assert CODE[:24] == "440305007003" + "1" + "000123" + "00000"
    assert mod_11_2.is_valid(CODE)
    assert group_code(CODE) == f"440305007003-1-000123-00000-{CODE[-1]}"


def test_grouped_and_lower_case_input_is_accepted() -> None:
    with_x = next(
        format_code(community_code="440305007003", structure_class=1, seq=seq)
        for seq in range(1, 100)
        if format_code(community_code="440305007003", structure_class=1, seq=seq).endswith("X")
    )
    grouped = group_code(with_x).lower()
    parsed = parse_code(grouped)
    assert parsed.code == with_x
    assert parse_code(f" {group_code(CODE)} ").seq == 123


def test_full_width_digits_are_read_and_other_digits_refused() -> None:
    """A Chinese input method types ４４０３…; ``str.isdigit`` also passes ² and ٤, which
    ``int`` or the check-character library cannot read (a 500 over HTTP)."""
    full_width = CODE.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    assert parse_code(full_width).code == CODE
    assert parse_code(group_code(CODE).replace("-", "－")).code == CODE
    for odd in ("²", "٤", "४"):
        with pytest.raises(InvalidInput, match="position 24 must be a digit 0-9"):
            parse_code(CODE[:23] + odd + CODE[24])


def test_a_grouped_code_has_its_groups_where_they_are_printed() -> None:
    misgrouped = f"{CODE[:11]}-{CODE[11:13]}-{CODE[13:19]}-{CODE[19:24]}-{CODE[24]}"
    with pytest.raises(InvalidInput, match="grouped as 11-2-6-5-1 characters"):
        parse_code(misgrouped)
    assert parse_code(group_code(CODE).replace("-", "--")).code == CODE  # doubled: still 12-1-6-5-1
    assert parse_code(" ".join(CODE)).code == CODE  # digit by digit


def test_every_single_mistyped_digit_is_caught() -> None:
    for position in range(24):
        for digit in "0123456789":
            if digit == CODE[position]:
                continue
            typo = CODE[:position] + digit + CODE[position + 1 :]
            with pytest.raises(InvalidInput):
                parse_code(typo)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("44030500700310001230000", "25 characters, got 23"),
        ("4403050070031000123000A0" + "7", "position 23 must be a digit"),
        ("4403050070034000123000007", "structure class"),
        ("4403050070031000000000007", "cannot be 000000"),
        (CODE[:-1] + ("1" if CODE[-1] != "1" else "2"), "wrong check character"),
        ("4403050070031000123000\x0007", "NUL"),
    ],
)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        parse_code(text)
    assert error.value.field == "code"


def test_vectorised_codes_agree_with_python_stdnum() -> None:
    rng = np.random.default_rng(7)
    count = 20_000
    communities = np.array([f"{value:012d}" for value in rng.integers(0, 10**12, count)])
    classes = rng.integers(1, 4, count)
    seqs = rng.integers(1, 1_000_000, count)
    units = rng.integers(0, 100_000, count)
    codes = format_codes(
        community_codes=communities, structure_classes=classes, seqs=seqs, units=units
    )
    for code, community, cls, seq, unit in zip(
        codes, communities, classes, seqs, units, strict=True
    ):
        assert code == format_code(
            community_code=str(community), structure_class=int(cls), seq=int(seq), unit=int(unit)
        )
    assert {code[-1] for code in codes} >= {"X", "0", "9"}


def test_vectorised_codes_refuse_numbers_too_wide_for_their_digits() -> None:
    """Digits are taken modulo 10: unit 100000 would silently become 00000, another code."""
    communities = np.array(["440305005001", "440305005001"])
    with pytest.raises(InvalidInput, match="unit is 0…99999"):
        format_codes(community_codes=communities, structure_classes=1,
                     seqs=np.array([1, 2]), units=np.array([99_999, 100_000]))  # fmt: skip
    with pytest.raises(InvalidInput, match="building sequence is 1…999999"):
        format_codes(community_codes=communities, structure_classes=1,
                     seqs=np.array([1, 1_000_000]))  # fmt: skip
