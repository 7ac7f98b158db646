"""House codes (25 characters) and grid codes (15 digits): format, parse, check character.

A house code is ``CCCCCCCCCCCC S NNNNNN UUUUU K``: the 12-digit community code where the
footprint was first issued, the structure class, the building sequence in that community, the
unit (``00000`` = the building itself) and an ISO 7064 MOD 11-2 check character over the first
24 characters (DESIGN §5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from stdnum.iso7064 import mod_11_2

from gis.errors import InvalidInput

CODE_LENGTH = 25
GRID_CODE_LENGTH = 15
MAX_SEQ = 999_999
"""The last building sequence of a community (6 digits)."""
MAX_UNIT = 99_999
"""The last unit (house) number of a building (5 digits)."""
STRUCTURE_CLASSES = {1: "permanent building", 2: "temporary or simple structure", 3: "other"}
_SEPARATORS = re.compile(r"[\s\-]")
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + n): str(n) for n in range(10)}, "Ｘ": "X", "ｘ": "x", "－": "-", "\u3000": " "}
)
CODE_GROUPS = (12, 1, 6, 5, 1)
# weights 2^(24-i) mod 11 of the 24 positions, as ISO 7064 MOD 11-2 defines them
_WEIGHTS = np.array([pow(2, 24 - i, 11) for i in range(24)], dtype=np.int64)


@dataclass(frozen=True)
class HouseCode:
    """The parts of a valid 25-character code."""

    community_code: str
    structure_class: int
    seq: int
    unit: int
    check: str

    @property
    def code(self) -> str:
        return (
            f"{self.community_code}{self.structure_class}{self.seq:06d}{self.unit:05d}{self.check}"
        )

    @property
    def building_code(self) -> str:
        """The code of the building that holds this unit (itself when ``unit`` is 0)."""
        return format_code(
            community_code=self.community_code,
            structure_class=self.structure_class,
            seq=self.seq,
            unit=0,
        )

    @property
    def is_building(self) -> bool:
        return self.unit == 0


def check_character(body: str) -> str:
    """ISO 7064 MOD 11-2 check character of a digit string (python-stdnum).

    >>> check_character("079")
    'X'
    """
    return str(mod_11_2.calc_check_digit(body))


def _check_values(bodies: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Check values (10 stands for ``X``) of many 24-digit bodies, given as an (n, 24) array.

    The arithmetic of :func:`check_character`, vectorised: python-stdnum takes ~14 µs a code,
    which would dominate an import of a million buildings. Tests hold the two equal.
    """
    return np.asarray((1 - bodies @ _WEIGHTS) % 11, dtype=np.int64)


def format_code(*, community_code: str, structure_class: int, seq: int, unit: int = 0) -> str:
    """Compose a code and append its check character.

    >>> format_code(community_code="440305007003", structure_class=1, seq=123)
    '4403050070031000123000009'
    """
    if not (len(community_code) == 12 and is_ascii_digits(community_code)):
        raise InvalidInput("a community code has 12 digits", field="community_code")
    if structure_class not in STRUCTURE_CLASSES:
        raise InvalidInput("structure class is 1, 2 or 3", field="structure_class")
    if not 1 <= seq <= MAX_SEQ:
        raise InvalidInput("building sequence is 1…999999", field="seq")
    if not 0 <= unit <= MAX_UNIT:
        raise InvalidInput("unit is 0…99999", field="unit")
    body = f"{community_code}{structure_class}{seq:06d}{unit:05d}"
    return body + check_character(body)


def format_codes(
    *,
    community_codes: npt.NDArray[np.str_],
    structure_classes: npt.NDArray[np.int64] | int,
    seqs: npt.NDArray[np.int64],
    units: npt.NDArray[np.int64] | int = 0,
) -> npt.NDArray[np.str_]:
    """Codes for parallel arrays of communities, sequences and units (0: the building),
    built as a digit matrix without a Python loop."""
    count = len(seqs)
    if count == 0:
        return np.array([], dtype="U25")
    unit_array = np.broadcast_to(np.asarray(units, dtype=np.int64), (count,))
    seq_array = np.asarray(seqs, dtype=np.int64)
    # the digits below are taken modulo 10: a number too wide would wrap into another code
    if ((seq_array < 1) | (seq_array > MAX_SEQ)).any():
        raise InvalidInput(f"building sequence is 1…{MAX_SEQ}", field="seq")
    if ((unit_array < 0) | (unit_array > MAX_UNIT)).any():
        raise InvalidInput(f"unit is 0…{MAX_UNIT}", field="unit")
    community = np.frombuffer("".join(community_codes.tolist()).encode("ascii"), dtype=np.uint8)
    digits = np.zeros((count, 25), dtype=np.int64)
    digits[:, :12] = community.reshape(count, 12).astype(np.int64) - 48
    digits[:, 12] = structure_classes
    digits[:, 13:19] = (seq_array[:, None] // 10 ** np.arange(5, -1, -1)) % 10
    digits[:, 19:24] = (unit_array[:, None] // 10 ** np.arange(4, -1, -1)) % 10
    check = _check_values(digits[:, :24])
    digits[:, 24] = np.where(check == 10, ord("X") - 48, check)
    chars = (digits + 48).astype(np.uint8)
    return chars.view("S25").ravel().astype("U25")


def is_ascii_digits(text: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` also takes full-width, Arabic-Indic, superscript
    digits, which ``int`` may not read).

    >>> is_ascii_digits("440305"), is_ascii_digits("４４０３０５"), is_ascii_digits("2²")
    (True, False, False)
    """
    return text.isascii() and text.isdigit()


def normalise_code(text: str, *, field: str = "code") -> str:
    """Strip separators (``-``, spaces) and upper-case a trailing ``x``; full-width digits,
    ``Ｘ``, ``－`` and the ideographic space (a Chinese input method's) read as their ASCII forms.

    >>> normalise_code("４４０３０５ ００７－００３")
    '440305007003'
    """
    if "\x00" in text:
        raise InvalidInput("the code contains a NUL byte", field=field)
    return _SEPARATORS.sub("", text.translate(_FULL_WIDTH)).upper()


def _check_grouping(text: str, *, field: str) -> None:
    """A code written in groups has them as printed: 12-1-6-5-1 (community, structure class,
    building, unit, check); a group of another length is a digit typed in the wrong place."""
    groups = _SEPARATORS.split(text.translate(_FULL_WIDTH).strip())
    if len(groups) == 1 or all(len(group) <= 1 for group in groups):
        return  # not grouped (or spaced out digit by digit)
    lengths = [len(group) for group in groups if group]
    if lengths != list(CODE_GROUPS):
        written = "-".join(str(n) for n in lengths)
        raise InvalidInput(
            f"grouped as {written} characters; a grouped code is 12-1-6-5-1 "
            "(community, structure class, building, unit, check)",
            field=field,
        )


def parse_code(text: str, *, field: str = "code") -> HouseCode:
    """Validate a code, grouped or not, and split it into its parts.

    The error says what is wrong: length, a non-digit, an unknown structure class, a zero
    sequence, or the check character (with the expected one).

    >>> parse_code("440305007003-1-000123-00000-9").seq
    123
    """
    code = normalise_code(text, field=field)
    _check_grouping(text, field=field)
    if len(code) != CODE_LENGTH:
        raise InvalidInput(
            f"a house code has {CODE_LENGTH} characters, got {len(code)}", field=field
        )
    body, check = code[:24], code[24]
    if not is_ascii_digits(body):
        position = next(i for i, char in enumerate(body) if not is_ascii_digits(char)) + 1
        raise InvalidInput(f"position {position} must be a digit 0-9", field=field)
    if check not in "0123456789X":
        raise InvalidInput("the check character must be 0-9 or X", field=field)
    structure_class = int(body[12])
    if structure_class not in STRUCTURE_CLASSES:
        raise InvalidInput(
            f"position 13 (structure class) must be 1, 2 or 3, got {structure_class}", field=field
        )
    seq = int(body[13:19])
    if seq == 0:
        raise InvalidInput("the building sequence (positions 14-19) cannot be 000000", field=field)
    expected = check_character(body)
    if check != expected:
        raise InvalidInput(
            f"wrong check character {check!r} (expected {expected!r}): the code is mistyped",
            field=field,
        )
    return HouseCode(
        community_code=body[:12],
        structure_class=structure_class,
        seq=seq,
        unit=int(body[19:24]),
        check=check,
    )


def group_code(code: str) -> str:
    """The display form ``440305007003-1-000123-00000-9``."""
    return f"{code[:12]}-{code[12]}-{code[13:19]}-{code[19:24]}-{code[24]}"


def format_grid_code(*, community_code: str, seq: int) -> str:
    """A 15-digit grid code: the 12-digit community code and a 3-digit sequence.

    >>> format_grid_code(community_code="440305005001", seq=7)
    '440305005001007'
    """
    if not (len(community_code) == 12 and is_ascii_digits(community_code)):
        raise InvalidInput("a community code has 12 digits", field="community_code")
    if not 1 <= seq <= 999:
        raise InvalidInput("grid sequence is 1…999", field="seq")
    return f"{community_code}{seq:03d}"


def parse_grid_code(text: str, *, field: str = "code") -> str:
    """A grid code with separators stripped, checked: 15 digits, sequence not ``000``.

    >>> parse_grid_code("440305005001-007")
    '440305005001007'
    """
    code = normalise_code(text, field=field)
    if len(code) != GRID_CODE_LENGTH or not is_ascii_digits(code):
        raise InvalidInput(f"a grid code has {GRID_CODE_LENGTH} digits", field=field)
    if code.endswith("000"):
        raise InvalidInput("the grid sequence (positions 13-15) cannot be 000", field=field)
    return code
