"""Masking of personal identifiers in responses, and suppression of small counts.

Every response carries masked values unless the caller's role may see them and asked to, with a
reason, through a reveal that writes an audit row (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence

MASK = "*"
SMALL_COUNT_THRESHOLD = 5
"""Counts from 1 to 4 are suppressed in aggregate responses (they could identify a person)."""


def mask_id_number(value: str | None) -> str | None:
    """A citizen ID number with all but its first 6 (region) and last 4 characters masked.

    >>> mask_id_number("44030519900101123X")
    '440305********123X'
    >>> mask_id_number("440305900101123")
    '440305*****1123'
    >>> mask_id_number("12345")
    '*****'
    """
    if value is None:
        return None
    value = value.strip()
    if len(value) <= 10:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """A phone number with all but its first 3 and last 4 digits masked.

    >>> mask_phone("13812341234")
    '138****1234'
    >>> mask_phone("0755-26012345")
    '075******2345'
    >>> mask_phone("110")
    '***'
    """
    if value is None:
        return None
    value = value.strip()
    if len(value) <= 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def suppress_small_count(count: int, *, threshold: int = SMALL_COUNT_THRESHOLD) -> int | None:
    """``None`` for counts from 1 to ``threshold - 1``, the count otherwise (0 stays 0).

    >>> suppress_small_count(3), suppress_small_count(0), suppress_small_count(12)
    (None, 0, 12)
    """
    return None if 0 < count < threshold else count


def rate_gives_away_small_count(part: int, whole: int) -> bool:
    """Whether ``part / whole`` shown beside ``whole`` would give a suppressed count away:
    ``part``, ``whole`` or what is left (``whole - part``, the people *with* a problem behind
    an accuracy rate) from 1 to 4.

    >>> rate_gives_away_small_count(3, 40), rate_gives_away_small_count(38, 40)
    (True, True)
    >>> rate_gives_away_small_count(20, 40), rate_gives_away_small_count(0, 40)
    (False, False)
    """
    return any(suppress_small_count(count) is None for count in (part, whole, whole - part))


def shown_part(part: int, whole: int) -> int | None:
    """A planner's figure for ``part`` of a ``whole`` shown beside it: ``None`` when it would
    give a suppressed count away (the part, the whole or the rest 1 to 4: 31 floating beside
    32 residents say 1 is not floating).

    >>> shown_part(31, 32), shown_part(20, 40), shown_part(0, 40)
    (None, 20, 0)
    """
    return None if rate_gives_away_small_count(part, whole) else part


def shown_share(part: int, whole: int, *, suppress: bool) -> float | None:
    """``part / whole`` to 4 decimals; ``None`` without a whole, or when ``suppress`` (a
    planner's figures) and the share would give a suppressed count away.

    >>> shown_share(3, 40, suppress=False), shown_share(3, 40, suppress=True)
    (0.075, None)
    """
    if not whole or (suppress and rate_gives_away_small_count(part, whole)):
        return None
    return round(part / whole, 4)


def shown_total(total: int, shown_parts: Sequence[int | None]) -> int | None:
    """A planner's total of parts shown beside it (``None`` for a suppressed part): ``None``
    when the total minus the parts shown would give a suppressed part away, else the total,
    itself suppressed when small. A hidden part is 1 to 4, so what is left pins them when one
    part is hidden, when they add up to 1 to 4 (a small count of its own), or when they add up
    to as little or as much as they can (each is 1, each is 4).

    >>> shown_total(203, [None, 200]), shown_total(206, [None, None, 200]), shown_total(3, [3])
    (None, 206, None)
    >>> shown_total(208, [None, None, 200]), shown_total(202, [None, None, 200])
    (None, None)
    """
    hidden = sum(part is None for part in shown_parts)
    rest = total - sum(part for part in shown_parts if part is not None)
    largest = SMALL_COUNT_THRESHOLD - 1
    if hidden and (
        hidden == 1
        or suppress_small_count(rest) is None
        or rest <= hidden
        or rest >= largest * hidden
    ):
        return None
    return suppress_small_count(total)
