"""The server's error messages in Chinese, for the pages (Chinese by default).

The API answers in English (``{"detail": [{"loc", "msg", "type"}]}``; scripts and tests rely on
its wording), so the pages translate what they show: each entry of the table
(:mod:`maps.messages_zh`) is a pattern that must match a whole English message and a Chinese
template. ``{1}`` puts a matched group in as it is (a date, a code, a number); ``{1:p}``
translates it first through :data:`PHRASES` (the part of a message that is itself English: "an
arrival", "deregister it first, or move", a period's "open" end). A message no entry matches is
shown in English, its field's name translated.

The patterns are written in the part of regular-expression syntax that Python and JavaScript
read alike (plain groups, classes, ``\\d``, ``\\S``, ``\\w``): the page runs the same table
(``Gridhouse.errorText``, ``maps/static/common.js``), and the browser tests check that both
give the same text for real messages.
"""

from __future__ import annotations

import re

from maps.messages_zh import ERRORS_ZH, PHRASES

__all__ = ["translate"]

_PERIOD = re.compile(r"\[(\S+), (\S+)\)")
_OWN_RESIDENCE = re.compile(r"the person's primary residence (\[[^)]*\))")


def _phrase(text: str) -> str:
    """A group in Chinese: a known phrase, the person's residence with its period, a period
    (``[2024-01-01, open)`` → ``（2024-01-01起至今）``), a message of the table, a list of
    phrases (``accepted, rejected``), or itself."""
    if text in PHRASES:
        return PHRASES[text]
    own = _OWN_RESIDENCE.fullmatch(text)
    if own:
        return "此人的主要居住登记" + _phrase(own.group(1))
    period = _PERIOD.fullmatch(text)
    if period:
        end = "至今" if period.group(2) == "open" else f"至{period.group(2)}前"
        return f"（{period.group(1)}起{end}）"
    translated = translate(text)
    if translated is not None:
        return translated
    for separator, joined in ((", ", "、"), (" or ", "或")):  # "accepted, rejected"
        if separator in text:
            return joined.join(_phrase(part) for part in text.split(separator))
    return text


def translate(message: str) -> str | None:
    """The Chinese of a server message, or ``None`` when no entry matches all of it.

    >>> translate("already deregistered on 2026-03-07")
    '已于2026-03-07注销'
    >>> translate("an arrival in the future (2030-01-01)")
    '2030-01-01是未来的日期'
    >>> translate("something nobody wrote a pattern for") is None
    True
    """
    for pattern, template in ERRORS_ZH:
        match = re.fullmatch(pattern, message, flags=re.DOTALL)
        if match is not None:
            return _fill(template, match)
    return None


def _fill(template: str, match: re.Match[str]) -> str:
    """The template with ``{n}`` (the group as it is) and ``{n:p}`` (the group translated)."""

    def group(slot: re.Match[str]) -> str:
        text = match.group(int(slot.group(1))) or ""
        return _phrase(text) if slot.group(2) else text

    return re.sub(r"\{(\d)(:p)?\}", group, template)
