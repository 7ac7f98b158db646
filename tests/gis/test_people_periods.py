"""Working-day deadlines (weekends, holidays, make-up days) and half-open periods."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from gis.errors import InvalidInput
from gis.people.periods import WorkCalendar, make_period, periods_overlap


def test_three_working_days_skip_the_weekend() -> None:
    calendar = WorkCalendar()
    assert calendar.add_working_days(date(2026, 11, 16)) == date(2026, 11, 19)  # Mon → Thu
    assert calendar.add_working_days(date(2026, 11, 20)) == date(2026, 11, 25)  # Fri → Wed
    assert calendar.add_working_days(date(2026, 11, 21)) == date(2026, 11, 25)  # Sat → Wed


def test_a_holiday_file_moves_deadlines(tmp_path: Path) -> None:
    path = tmp_path / "holidays.txt"
    path.write_text(
        "# 国庆 2026\n2026-10-01\n2026-10-02\n2026-10-05\n2026-10-06\n2026-10-07\n"
        "2026-10-10 work  # 调休\n"
    )
    calendar = WorkCalendar.from_file(path)
    # moved in on 30 September: 1-7 October are off, Saturday 10 October is worked
    assert calendar.add_working_days(date(2026, 9, 30)) == date(2026, 10, 10)
    starts = np.array(["2026-09-30", "2026-11-20", "2026-10-09"], dtype="datetime64[D]")
    vector = calendar.add_working_days_many(starts).astype(object).tolist()
    assert vector == [calendar.add_working_days(d) for d in starts.astype(object).tolist()]
    for wrong in ("2026-13-01", "2026-W40-4", "20261001"):  # ISO 8601, but not YYYY-MM-DD
        path.write_text(f"{wrong}\n")
        with pytest.raises(InvalidInput, match=f"line 1: '{wrong}' is not a date"):
            WorkCalendar.from_file(path)


def test_periods_are_half_open() -> None:
    a = make_period(date(2024, 1, 1), date(2024, 6, 1))
    assert not periods_overlap(a, make_period(date(2024, 6, 1), None))
    assert periods_overlap(a, make_period(date(2024, 5, 31), None))
    with pytest.raises(InvalidInput, match="not after"):
        make_period(date(2024, 6, 1), date(2024, 6, 1))
