"""Dates of residence: half-open periods, today in China, and working-day deadlines.

A period is ``[moved_in, moved_out)``: the first night and the day of departure, open when the
person still lives there. Declaration deadlines count working days (Monday to Friday), skipping
public holidays and counting the weekend days made into working days (调休) from an optional
holiday file::

    # gridhouse holidays: a date per line, "work" marks a weekend day that is a working day
    2026-10-01
    2026-10-02
    2026-10-11 work
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy.dialects.postgresql import Range

# re-exported: people code names the zone, the date and the dates' bounds here
from gis.clock import CHINA as CHINA
from gis.clock import EARLIEST as EARLIEST
from gis.clock import LATEST as LATEST
from gis.clock import checked_date as checked_date
from gis.clock import parse_iso_date
from gis.clock import today_in_china as today_in_china
from gis.errors import InvalidInput

DECLARATION_WORKING_DAYS = 3
DEREGISTRATION_DAYS = 7


def checked_past_date(
    value: date, *, today: date, field: str, what: str, since: tuple[str, date] | None = None
) -> date:
    """The date of something that has happened (a move, a deregistration, a declaration):
    within 1900-2100, not after ``today`` and not before ``since`` (the name and date of the
    event it follows), e.g. a deregistration not before the departure it records.

    >>> checked_past_date(date(2026, 1, 5), today=date(2026, 1, 1), field="x", what="a move")
    Traceback (most recent call last):
    ...
    gis.errors.InvalidInput: x: a move in the future (2026-01-05)
    """
    checked_date(value, field=field)
    if value > today:
        raise InvalidInput(f"{what} in the future ({value})", field=field)
    if since is not None and value < since[1]:
        raise InvalidInput(f"{what} before the {since[0]} ({since[1]})", field=field)
    return value


def make_period(
    start: date, end: date | None, *, field: str = "moved_out", start_name: str = "move-in date"
) -> Range[date]:
    """``[start, end)``; the end must come after the start (named ``start_name`` if not)."""
    if end is not None and end <= start:
        raise InvalidInput(f"{end} is not after the {start_name} {start}", field=field)
    return Range(start, end, bounds="[)")


def describe_period(period: Range[date]) -> str:
    """``[2024-01-01, 2026-05-01)`` or ``[2024-01-01, open)``.

    >>> describe_period(Range(date(2024, 1, 1), None, bounds="[)"))
    '[2024-01-01, open)'
    """
    end = period.upper.isoformat() if period.upper else "open"
    start = period.lower.isoformat() if period.lower else "…"
    return f"[{start}, {end})"


def periods_overlap(a: Range[date], b: Range[date]) -> bool:
    """``a && b`` for half-open ranges whose open ends are ``None``."""
    a_start, b_start = a.lower or date.min, b.lower or date.min
    return a_start < (b.upper or date.max) and b_start < (a.upper or date.max)


WORKDAY_WORDS = frozenset({"work", "workday", "班", "上班"})
HOLIDAY_WORDS = frozenset({"holiday", "off", "休", "假"})


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: Monday-Friday, minus ``holidays``, plus weekend ``workdays`` (调休)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_file(cls, path: Path | None, *, field: str = "holidays") -> WorkCalendar:
        """Read a holiday file (see the module docstring; UTF-8, a BOM allowed); ``None`` means
        weekends only. Errors name ``field``, the file and the line."""
        if path is None:
            return cls()
        holidays: set[date] = set()
        workdays: set[date] = set()
        try:
            lines = path.read_bytes().decode("utf-8-sig").splitlines()
        except OSError as error:
            raise InvalidInput(
                f"cannot read {path}: {error.strerror or error}", field=field
            ) from None
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"{path} is not UTF-8 (byte {error.start}): save it as UTF-8", field=field
            ) from None
        for number, line in enumerate(lines, start=1):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            parts = content.replace(",", " ").split()
            try:
                day = parse_iso_date(parts[0], field=field)
            except InvalidInput:
                raise InvalidInput(
                    f"{path} line {number}: {parts[0]!r} is not a date (YYYY-MM-DD)", field=field
                ) from None
            kind = parts[1].lower() if len(parts) > 1 else "holiday"
            if len(parts) > 2 or kind not in WORKDAY_WORDS | HOLIDAY_WORDS:
                raise InvalidInput(
                    f"{path} line {number}: after the date, only 'work' (a weekend day worked, "
                    f"调休) or nothing (a holiday), not {' '.join(parts[1:])!r}",
                    field=field,
                )
            (workdays if kind in WORKDAY_WORDS else holidays).add(day)
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int = DECLARATION_WORKING_DAYS) -> date:
        """The ``days``-th working day after ``start`` (a move on Friday: due Wednesday).

        >>> WorkCalendar().add_working_days(date(2026, 11, 20))  # a Friday
        datetime.date(2026, 11, 25)
        """
        current, left = start, days
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def add_working_days_many(
        self, starts: npt.NDArray[np.datetime64], days: int = DECLARATION_WORKING_DAYS
    ) -> npt.NDArray[np.datetime64]:
        """:meth:`add_working_days` for an array of ``datetime64[D]`` dates, without a loop
        over the dates: the working days of the span are listed once and searched."""
        if len(starts) == 0:
            return starts.astype("datetime64[D]")
        first = starts.min().astype("datetime64[D]")
        last = starts.max().astype("datetime64[D]") + np.timedelta64(days * 3 + 40, "D")
        span = np.arange(first, last + 1, dtype="datetime64[D]")
        working = np.is_busday(span, weekmask="1111100")
        if self.holidays:
            working &= ~np.isin(span, np.array(sorted(self.holidays), dtype="datetime64[D]"))
        if self.workdays:
            working |= np.isin(span, np.array(sorted(self.workdays), dtype="datetime64[D]"))
        working_days = span[working]
        position = np.searchsorted(working_days, starts.astype("datetime64[D]"), side="right")
        return working_days[position + days - 1]
