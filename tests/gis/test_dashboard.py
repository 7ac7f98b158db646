"""Dashboard figures: the grids each role sees, suppression for planners, overdue work."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.dashboard.queries import divisions_with_grids
from gis.dashboard.service import _open_events_weighed, dashboard_data
from gis.errors import Forbidden, NotFound
from gis.people import quality
from gis.people.models import Residence
from gis.users.models import Role
from tests.access_world import GRID_FAR, GRID_OTHER, GRID_OWN, World

TODAY = date(2026, 5, 3)


def test_officers_see_their_grids_with_full_counts(db: Session, world: World) -> None:
    scope = Scope("t_officer", Role.OFFICER, grid_codes=frozenset({GRID_OWN}))
    data = dashboard_data(db, scope=scope, division=None, on=TODAY)
    assert [grid.code for grid in data.grids] == [GRID_OWN]
    (grid,) = data.grids
    assert grid.counts["resident_count"] == 1  # tests/people_world.py: one resident a building
    assert data.has_overdue and grid.overdue_declarations is not None
    assert data.totals["grids"] == 1


def test_planners_see_every_grid_with_small_counts_suppressed(db: Session, world: World) -> None:
    data = dashboard_data(db, scope=Scope("t_planner", Role.PLANNER), division=None, on=TODAY)
    assert {GRID_OWN, GRID_OTHER, GRID_FAR} <= {grid.code for grid in data.grids}
    assert all(grid.counts["resident_count"] is None for grid in data.grids)  # 1 → suppressed
    # the total minus the grids shown would be the hidden grids' residents: hidden as well
    # unless at least 5 hide behind it
    residents = len(data.grids)  # one a grid
    assert data.totals["resident_count"] == (residents if residents >= 5 else None)
    assert not data.has_overdue and data.grids[0].overdue_declarations is None
    assert data.class_mix == {"unclassified": len(data.grids)}


def test_police_see_their_division_only(db: Session, world: World) -> None:
    scope = Scope("t_police", Role.POLICE, division_prefix="990101")
    data = dashboard_data(db, scope=scope, division="990101000000", on=TODAY)
    assert {grid.code for grid in data.grids} == {GRID_OWN, GRID_OTHER}
    with pytest.raises(NotFound):
        dashboard_data(db, scope=scope, division="990102000000", on=TODAY)
    with pytest.raises(Forbidden):
        dashboard_data(db, scope=Scope("t_auditor", Role.AUDITOR), division=None, on=TODAY)


def test_divisions_with_grids_go_up_to_the_county(db: Session, world: World) -> None:
    codes = {row.code for row in divisions_with_grids(db)}
    assert {"990101001001", "990101001000", "990101000000", "990102000000"} <= codes


def test_totals_cover_every_grid_when_only_some_are_listed(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Scope("t_admin", Role.ADMIN)
    whole = dashboard_data(db, scope=admin, division=None, on=TODAY)
    assert not whole.is_truncated and len(whole.grids) >= 3
    monkeypatch.setattr("gis.dashboard.service.MAX_GRIDS", 1)
    listed = dashboard_data(db, scope=admin, division=None, on=TODAY)
    assert listed.is_truncated and [g.code for g in listed.grids] == [whole.grids[0].code]
    # the totals, class mix and events are the area's, not the listed grid's
    assert listed.totals == {**whole.totals, "overdue": listed.totals["overdue"]}
    assert listed.totals["grids"] == len(whole.grids)
    assert listed.totals["resident_count"] == sum(
        g.counts["resident_count"] or 0 for g in whole.grids
    )
    assert listed.class_mix == whole.class_mix
    assert listed.open_events_by_kind == whole.open_events_by_kind
    assert listed.floating_share == whole.floating_share
    # the quality and overdue work cover the listed grid alone, and say so
    assert (listed.quality_grids, whole.quality_grids) == (1, len(whole.grids))
    assert listed.totals["overdue"] == (
        (whole.grids[0].overdue_declarations or 0) + (whole.grids[0].overdue_departures or 0)
    )


def test_the_grids_are_listed_a_page_at_a_time_under_the_same_totals(
    db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Scope("t_admin", Role.ADMIN)
    whole = dashboard_data(db, scope=admin, division=None, on=TODAY)
    monkeypatch.setattr("gis.dashboard.service.MAX_GRIDS", 2)
    listed: list[str] = []
    after = None
    while True:
        page = dashboard_data(db, scope=admin, division=None, on=TODAY, after=after)
        assert page.totals == {**whole.totals, "overdue": page.totals["overdue"]}
        assert 0 < len(page.grids) <= 2
        listed += [grid.code for grid in page.grids]
        if page.next_after is None:
            break
        assert page.next_after == page.grids[-1].code
        after = page.next_after
    assert listed == [grid.code for grid in whole.grids]  # each grid once, in code order


def test_a_planners_open_events_hide_when_their_kinds_would_give_a_hidden_one_away() -> None:
    counts: dict[str, int | None] = {"open_events": 21, "households": 40}
    kinds = {"safety": 8, "dispute": 5, "other": 7, "public_order": None}  # 21 - 20 = 1
    assert _open_events_weighed(counts, 21, kinds, suppress=True) == {
        "open_events": None,
        "households": 40,
    }
    two_hidden = {"safety": 8, "dispute": 6, "other": None, "public_order": None}  # 7: 3 + 4
    assert _open_events_weighed(counts, 21, two_hidden, suppress=True) == counts
    pinned = {"safety": 8, "dispute": 5, "other": None, "public_order": None}  # 8: 4 and 4
    assert _open_events_weighed(counts, 21, pinned, suppress=True)["open_events"] is None
    assert _open_events_weighed(counts, 21, kinds, suppress=False) == counts


def test_overdue_counts_are_those_of_the_grids_overdue_lists(db: Session, world: World) -> None:
    """The dashboard counts every listed grid's overdue work at once; the numbers are the
    lengths of the lists an officer opens for one grid (`gridhouse quality --overdue`)."""
    far = db.scalars(
        select(Residence).where(Residence.uid == world.objects["residences"]["other"])
    ).one()
    far.period = Range(far.period.lower, date(2026, 11, 1), bounds="[)")  # left, not deregistered
    db.flush()
    admin = Scope("t_admin", Role.ADMIN)
    for on, expected in (
        (date(2026, 11, 22), {GRID_OWN: (1, 0), GRID_FAR: (0, 1)}),  # 14 days after leaving
        (date(2026, 11, 5), {GRID_OWN: (1, 0), GRID_FAR: (0, 0)}),  # gone, within 7 days
    ):
        grids = dashboard_data(db, scope=admin, division=None, on=on).grids
        counted = {g.code: (g.overdue_declarations, g.overdue_departures) for g in grids}
        for code, pair in expected.items():
            assert counted[code] == pair, (on, code)
        for code, shown in counted.items():
            listing = quality.overdue(db, scope=admin, code=code, on=on)
            assert shown == (len(listing.declarations), len(listing.departures)), (on, code)
