"""What day it is: in China, whatever the server's own time zone.

The database sessions speak Asia/Shanghai (``CURRENT_DATE`` is China's date), so every
"today" of the application must be China's too: between 16:00 and 24:00 UTC a server on UTC
would otherwise be a day behind its own database.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from gis.errors import InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def today_in_china() -> date:
    """The date in China now."""
    return datetime.now(CHINA).date()


def in_china(moment: datetime) -> datetime:
    """The same moment on China's clock (a naive one is left as it is).

    >>> in_china(datetime(2026, 11, 23, 16, 30, tzinfo=ZoneInfo("UTC"))).isoformat()
    '2026-11-24T00:30:00+08:00'
    """
    return moment.astimezone(CHINA) if moment.tzinfo is not None else moment


ChinaTime = Annotated[datetime, AfterValidator(in_china)]
"""A moment as every answer writes it: with China's offset (``…+08:00``), whether it was just
made in Python (in UTC) or read from the database (whose sessions speak Asia/Shanghai)."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_FORMAT = "a date is written YYYY-MM-DD (e.g. 2026-01-05)"


def _written_date(text: str) -> date | None:
    """The date ``text`` writes as ``YYYY-MM-DD``; None when it is written in any other way;
    ValueError when it has that form but the calendar has no such day (``2026-02-30``)."""
    return date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None


def _iso_date(value: object) -> object:
    """A date of a request as the API writes dates: ``YYYY-MM-DD`` (a ``date`` made in Python
    passes as it is). pydantic alone also reads a Unix time (``1767225600``, as a number or a
    text, is 2026-01-01) and answers ``20260105`` with a message about datetimes."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            day = _written_date(value)
        except ValueError:
            raise PydanticCustomError(
                "date_value", "{value} is not a date of the calendar", {"value": value}
            ) from None
        if day is not None:
            return day
    raise PydanticCustomError("date_format", DATE_FORMAT)


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date in a request body or query: ``YYYY-MM-DD`` only, anything else a 422 naming the field
(``a date is written YYYY-MM-DD (e.g. 2026-01-05)``)."""


def parse_iso_date(text: str, *, field: str) -> date:
    """A date a command line gives (``--from``), read as :data:`IsoDate` reads one of a request:
    ``YYYY-MM-DD`` only. ``date.fromisoformat`` alone reads all of ISO 8601 since Python 3.11:
    a week date (``2026-W01-1`` is 2025-12-29), a date without dashes (``20260101``).

    >>> parse_iso_date("2026-01-05", field="--from")
    datetime.date(2026, 1, 5)
    >>> parse_iso_date("2026-W01-1", field="--from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gis.errors.InvalidInput: --from: a date is written YYYY-MM-DD (e.g. ...), not '2026-W01-1'
    """
    try:
        day = _written_date(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a date of the calendar", field=field) from None
    if day is None:
        raise InvalidInput(f"{DATE_FORMAT}, not {text!r}", field=field)
    return day


def checked_date(value: date, *, field: str) -> date:
    """A date within 1900-2100 (anything else is a typo, and PostgreSQL ranges need bounds)."""
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(f"{value} is outside {EARLIEST}…{LATEST}", field=field)
    return value


def parse_instant(text: str, *, field: str) -> datetime:
    """A moment written in ISO 8601: a date (its midnight in China), or a date and time with or
    without an offset (without one: China time). A bare number (a Unix time?) is refused, as is
    anything outside 1900-2100.

    >>> parse_instant("2026-11-23", field="from").isoformat()
    '2026-11-23T00:00:00+08:00'
    >>> parse_instant("2026-11-23T08:00:00Z", field="from").isoformat()
    '2026-11-23T08:00:00+00:00'
    >>> parse_instant("1700000000", field="from")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gis.errors.InvalidInput: from: '1700000000' is not a date or a date and time in ISO 8601 ...
    """
    value = text.strip()
    try:
        if value.isdigit():
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a date or a date and time in ISO 8601 "
            "(2026-11-23, 2026-11-23T08:00:00+08:00)",
            field=field,
        ) from None
    checked_date(moment.date(), field=field)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA)
