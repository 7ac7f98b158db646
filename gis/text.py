"""Text fields of requests: what every free-text field must hold.

- :data:`NotBlank`: a required one-line text (a title, a name, a department): trimmed, refused
  when blank or when it holds a control character (a line break, a bell, an escape).
- :data:`OneLine`: an optional one-line descriptor (an organization's kind, a position, an
  occupation): trimmed, ``None`` when blank, refused when it holds a control character.

Multi-line notes are left alone (their length is their only limit).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import AfterValidator

LINE_BREAKS = frozenset("\u2028\u2029")  # line and paragraph separators (category Zl, Zp)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates: they make a text read differently from what it holds."""
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A number as a file writes one: Python's ``float`` also reads ``1_000``, ``inf``, ``nan`` and
full-width digits, which no spreadsheet or GIS program writes as a number."""
INTEGER = re.compile(r"[+-]?[0-9]+")


def has_control_characters(value: str) -> bool:
    """A control character (a NUL, a line break, an escape) or a bidirectional override
    (which makes a text read differently from what it holds)."""
    return any(
        unicodedata.category(char) == "Cc" or char in LINE_BREAKS or char in BIDI_CONTROLS
        for char in value
    )


def _refuse_controls(value: str) -> str:
    if has_control_characters(value):
        raise ValueError(
            "may not contain control characters (line breaks, tabs, escapes, direction overrides)"
        )
    return value


def _not_blank(value: str | None) -> str | None:
    """The text without surrounding white space; refused when nothing else is left (``None``,
    where a field may be absent, stays ``None``) or when it holds a control character.

    >>> _not_blank("  注册登记 "), _not_blank(None)
    ('注册登记', None)
    """
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise ValueError("is blank (white space only)")
    return _refuse_controls(stripped)


def _one_line(value: str | None) -> str | None:
    """The text trimmed, ``None`` when blank, refused when it holds a control character.

    >>> _one_line("  餐饮 "), _one_line("   "), _one_line(None)
    ('餐饮', None, None)
    """
    if value is None or not value.strip():
        return None
    return _refuse_controls(value.strip())


NotBlank = AfterValidator(_not_blank)
OneLine = AfterValidator(_one_line)
