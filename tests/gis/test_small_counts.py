"""Planners' figures never give a count from 1 to 4 away: not through a rate beside its
denominator, nor through a total beside the parts it sums (DESIGN §8)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gis.access.masking import shown_total
from gis.people.quality import report_from_counts, summed_report

ON = date(2026, 6, 1)


def _counts(area: str, **counts: int) -> dict[str, Any]:
    keys = (
        "rented_houses", "rented_registered", "residents", "floating", "missing_id",
        "duplicate_id", "impossible_dates", "in_retired", "with_problems", "departures",
        "late_departures", "permit_eligible", "permit_held",
    )  # fmt: skip
    return {"area": area} | dict.fromkeys(keys, 0) | counts


def test_a_rate_is_hidden_when_it_would_give_a_small_count_away() -> None:
    # 40 residents, 3 of them floating, 2 with a duplicated ID number
    row = _counts("g", residents=40, floating=3, with_problems=2, duplicate_id=2)
    planner = report_from_counts(row, kind="grid", on=ON, suppress=True)
    assert planner.resident_count == 40 and planner.duplicate_ids is None
    # 3 / 40 beside 40 is 3 floating people; 38 / 40 beside 40 is 2 with a problem
    assert planner.floating_share is None
    assert planner.accuracy.value is None and planner.accuracy.numerator is None
    assert planner.accuracy.meets is None and planner.accuracy.denominator == 40
    admin = report_from_counts(row, kind="grid", on=ON, suppress=False)
    assert (admin.floating_share, admin.accuracy.value, admin.accuracy.numerator) == (
        0.075,
        0.95,
        38,
    )
    # large enough on every side: shown to planners too
    plain = report_from_counts(
        _counts("g", residents=40, floating=20, with_problems=10), kind="grid", on=ON, suppress=True
    )
    assert (plain.floating_share, plain.accuracy.value, plain.accuracy.numerator) == (0.5, 0.75, 30)


def test_a_total_is_hidden_when_the_parts_shown_give_a_hidden_one_away() -> None:
    assert shown_total(203, [None, 200]) is None  # 203 - 200: the hidden grid has 3
    assert shown_total(204, [None, None, 200]) is None  # two hidden grids with 4 together
    assert shown_total(207, [None, None, 200]) == 207  # 7 in two grids: neither is known
    assert shown_total(200, [0, 200]) == 200
    assert shown_total(3, [0, 3]) is None  # small itself


def test_a_summed_report_hides_what_its_parts_would_give_away() -> None:
    small = _counts("a", residents=3, floating=3)
    large = _counts("b", residents=200, floating=100, with_problems=50, missing_id=50)
    parts = [report_from_counts(row, kind="grid", on=ON, suppress=True) for row in (small, large)]
    assert parts[0].resident_count is None and parts[1].resident_count == 200
    total = {key: small[key] + large[key] for key in large if key != "area"} | {"area": "both"}
    summed = summed_report(total, parts, kind="grids", on=ON)
    # 203 residents beside a grid of 200 and a hidden one would say the hidden one has 3
    assert summed.resident_count is None and summed.floating_share is None
    assert summed.accuracy.value is None and summed.accuracy.denominator is None
    assert summed.missing_ids == 50  # nothing hidden behind it: the small grid has none
    # with the admin's figures nothing is hidden
    exact = report_from_counts(total, kind="grids", on=ON, suppress=False)
    assert exact.resident_count == 203 and exact.accuracy.numerator == 153
