"""Planners' figures never give a count from 1 to 4 away: not through a rate beside its
denominator, nor through a total beside the parts it sums (DESIGN §8)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gis.access.masking import shown_total
from gis.dashboard.service import COUNT_KEYS, _shown_counts
from gis.grids.impact import diff_of
from gis.grids.models import GridPlan
from gis.grids.schemas import Indicators, suppressed_stats
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


def test_the_accuracy_rate_is_hidden_when_the_kinds_of_problem_shown_pin_a_hidden_one() -> None:
    # 510 residents, 9 with a problem: 7 without an ID number, 2 sharing one. 501 / 510 minus
    # the 7 shown said the hidden duplicates were 2 (488 of the demo's 833 grids were so)
    row = _counts("g", residents=510, with_problems=9, missing_id=7, duplicate_id=2)
    planner = report_from_counts(row, kind="grid", on=ON, suppress=True)
    assert (planner.missing_ids, planner.duplicate_ids) == (7, None)
    assert planner.accuracy.value is None and planner.accuracy.numerator is None
    assert planner.accuracy.denominator == 510
    admin = report_from_counts(row, kind="grid", on=ON, suppress=False)
    assert (admin.accuracy.numerator, admin.duplicate_ids) == (501, 2)
    # every kind shown, or the hidden ones not pinned: the rate is shown
    for counts in (
        {"with_problems": 9, "missing_id": 9},
        {"with_problems": 25, "missing_id": 20, "duplicate_id": 2, "impossible_dates": 3},
    ):
        row = _counts("g", residents=510, **counts)
        shown = report_from_counts(row, kind="grid", on=ON, suppress=True)
        assert shown.accuracy.numerator == 510 - counts["with_problems"], counts


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


def test_hidden_parts_adding_up_to_as_little_or_as_much_as_they_can_hide_the_total() -> None:
    # a hidden part is 1 to 4: two adding up to 8 are 4 each, two adding up to 2 are 1 each
    assert shown_total(208, [None, None, 200]) is None
    assert shown_total(202, [None, None, 200]) is None
    assert shown_total(8, [None, None]) is None  # 8 open events, two kinds hidden: 4 and 4
    assert shown_total(206, [None, None, 200]) == 206  # 2+4, 3+3 or 4+2: neither is known
    assert shown_total(11, [None, None, None]) == 11


def test_the_floating_count_is_hidden_when_those_not_floating_are_few() -> None:
    def stats(residents: int, floating: int) -> Any:
        return suppressed_stats(code="g", on="2026-06-01", notes=[], officers=1, grid_class=None,
                                indicators=Indicators(resident_count=residents,
                                                      floating_count=floating))  # fmt: skip

    # 31 floating of 32 residents: 1 is not floating
    assert (stats(32, 31).floating_count, stats(32, 31).floating_share) == (None, None)
    assert stats(32, 31).resident_count == 32
    assert (stats(40, 20).floating_count, stats(40, 20).floating_share) == (20, 0.5)
    assert (stats(40, 0).floating_count, stats(40, 0).floating_share) == (0, 0.0)
    assert (stats(0, 0).floating_count, stats(0, 0).floating_share) == (0, 0.0)
    assert (stats(40, 3).floating_count, stats(40, 3).floating_share) == (None, None)
    # the dashboard's grid rows follow the same rule
    base = dict.fromkeys(COUNT_KEYS, 10)
    shown = _shown_counts(base | {"resident_count": 32, "floating_count": 31}, suppress=True)
    assert (shown["resident_count"], shown["floating_count"]) == (32, None)
    exact = _shown_counts(base | {"resident_count": 32, "floating_count": 31}, suppress=False)
    assert exact["floating_count"] == 31


def test_a_plan_s_moved_totals_hide_what_the_grids_beside_them_would_give_away() -> None:
    plan = GridPlan(base_versions={})  # transient: diff_of reads only its base versions

    def diff(moved: list[int], *, hide: bool = True) -> Any:
        return diff_of(plan, refs=["#1", "#2"], codes=[None, None],
                       is_changed=[True, True], hide=hide,
                       moved={"moved_buildings": [1, 1], "moved_households": moved,
                              "moved_residents": moved})  # fmt: skip

    # one grid shows 32 moved, the other is hidden: 35 beside them says it moved 3
    assert diff([3, 32]).resident_count_moved is None
    assert diff([3, 32], hide=False).resident_count_moved == 35
    assert diff([0, 32]).resident_count_moved == 32
    assert diff([1, 1]).buildings_moved is None
