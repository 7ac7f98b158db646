"""Masking of personal identifiers in responses, and suppression of small counts.

Every response carries masked values unless the caller's role may see them and asked to, with a
reason, through a reveal that writes an audit row (docs/security.md).
"""

from __future__ import annotations

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
