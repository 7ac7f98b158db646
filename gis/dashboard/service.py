"""The figures of a dashboard: per grid and for all the grids shown, as each role may see them.

Counts come from the grids domain (indicators, open events among them), the events domain
(open events by kind, overdue events, the closure rate) and the people domain (the four quality
rates, overdue work), measured in bulk: the counts and events of every grid in the area, the
rates and overdue work of the grids listed (at most ``MAX_GRIDS``). Planners get the suppressed view
(counts from 1 to 4 are ``None``, and a rate made from such a count too) and no overdue work (it
is read from personal rows). Event figures hold no personal data: every role but the auditor
gets them for the grids it may see.

The closure rate (结案率) of a grid is its closed events over its accepted events (受理: every
event taken past ``reported`` and not rejected), over all time; ``None`` without accepted events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from gis.access.masking import shown_part, shown_share, shown_total, suppress_small_count
from gis.access.scope import Scope, requested_division_prefix
from gis.divisions.service import require_known_division
from gis.errors import NotFound
from gis.events import queries as event_queries
from gis.events.models import EventKind
from gis.grids.indicators import measure_live_grids
from gis.grids.models import Grid
from gis.grids.queries import prefix_clause
from gis.people import quality
from gis.people import quality_queries as quality_sql
from gis.people.periods import DEREGISTRATION_DAYS
from gis.people.schemas_quality import QualityReport
from gis.tiles.queries import current_grid_clause
from gis.users.models import Role

MAX_GRIDS = 100
"""A dashboard lists at most this many grids (in code order); narrow it by division. Its totals,
class mix and event figures cover every grid (their counts are kept per building); its quality
rates and overdue work cover the grids listed: the rates of 100 grids take seconds to count on
the demo district (700,000 residents)."""
COUNT_KEYS = (
    "households", "resident_count", "floating_count", "houses", "rented_houses", "open_events",
    "overdue_events", "accepted_events", "closed_events",
)  # fmt: skip
EVENT_KINDS = tuple(kind.value for kind in EventKind)
QUALITY_COUNT_KEYS = (
    "rented_houses", "rented_registered", "residents", "floating", "missing_id", "duplicate_id",
    "impossible_dates", "in_retired", "with_problems", "departures", "late_departures",
    "permit_eligible", "permit_held",
)  # fmt: skip


@dataclass(frozen=True)
class GridFigures:
    """One grid's figures (``None``: suppressed, or not known)."""

    code: str
    name: str | None
    grid_class: str
    counts: dict[str, int | None]
    floating_share: float | None
    quality: QualityReport | None
    overdue_declarations: int | None
    overdue_departures: int | None
    open_events_by_kind: dict[str, int | None] = field(default_factory=dict)
    closure_rate: float | None = None


@dataclass(frozen=True)
class DashboardData:
    on: date
    division_code: str | None
    grids: list[GridFigures]
    totals: dict[str, int | None]
    floating_share: float | None
    class_mix: dict[str, int]
    quality: QualityReport | None
    has_overdue: bool
    is_truncated: bool
    quality_grids: int = 0
    """How many grids the quality rates and overdue work cover (the grids listed)."""
    next_after: str | None = None
    """The ``after`` of the next grids to list (``None``: the last are listed)."""
    after: str | None = None
    """The ``after`` these grids were listed from."""
    notes: list[str] = field(default_factory=list)
    open_events_by_kind: dict[str, int | None] = field(default_factory=dict)
    closure_rate: float | None = None


def _grid_rows(session: Session, *, scope: Scope, prefix: str | None) -> list[Any]:
    where = true() if scope.role in (Role.ADMIN, Role.PLANNER) else scope.grids_clause()
    statement = (
        select(Grid.uid, Grid.code, Grid.name, Grid.community_code, Grid.grid_class)
        .where(current_grid_clause(), where)
        .order_by(Grid.code)
    )
    if prefix is not None:
        statement = statement.where(prefix_clause(prefix))
    return list(session.execute(statement))


def _summed_quality(
    rows: list[dict[str, Any]],
    grids: list[GridFigures],
    *,
    on: date,
    area: str,
    suppress: bool,
) -> QualityReport | None:
    if not rows:
        return None
    total: dict[str, Any] = {key: sum(int(row[key]) for row in rows) for key in QUALITY_COUNT_KEYS}
    total["area"] = area
    if suppress:
        return quality.summed_report(total, [grid.quality for grid in grids], kind="grids", on=on)
    return quality.report_from_counts(total, kind="grids", on=on, suppress=False)


def dashboard_data(
    session: Session, *, scope: Scope, division: str | None, on: date, after: str | None = None
) -> DashboardData:
    """Figures of the grids the caller may see (under ``division`` when given); the grids
    listed are the first ``MAX_GRIDS`` in code order (after the grid code ``after``)."""
    scope.require_aggregates()
    prefix = None
    if division is not None:
        prefix = requested_division_prefix(division)
        if scope.role is Role.POLICE and not prefix.startswith(scope.division_prefix or "\x00"):
            raise NotFound(f"no division {division} in your jurisdiction", field="division")
        require_known_division(session, division)
    every = _grid_rows(session, scope=scope, prefix=prefix)
    following = [row for row in every if after is None or row.code > after]
    rows = following[:MAX_GRIDS]
    suppress = scope.role is Role.PLANNER
    shown = suppress_small_count if suppress else (lambda n: n)
    # a planner's total is hidden when it minus the grids' figures would give a hidden one away
    total = shown_total if suppress else (lambda n, parts: n)
    indicators = measure_live_grids(
        session, grids=[(r.uid, r.community_code) for r in every], on=on
    )
    # measure_live_grids made the moves due (open events in today's grids) before it counted
    events = event_queries.event_figures_per_grid(
        session, codes=[r.code for r in every], now=datetime.now(UTC)
    )
    codes = [r.code for r in rows]
    rate_rows = quality_sql.select_rates(session, on=on, grid_codes=codes) if codes else []
    rates_by_code = {str(row["area"]): row for row in rate_rows}
    has_overdue = scope.may_see_personal
    overdue = (
        quality_sql.count_overdue_per_grid(
            session, grid_codes=codes, on=on, scope=scope, grace_days=DEREGISTRATION_DAYS
        )
        if has_overdue and codes
        else {}
    )
    counts_by_code = {
        row.code: _counts(indicators[str(row.uid)], events[row.code]) for row in every
    }
    totals: Counter[str] = Counter()
    open_by_kind: Counter[str] = Counter(dict.fromkeys(EVENT_KINDS, 0))
    for row in every:
        totals.update(counts_by_code[row.code])
        open_by_kind.update(events[row.code].open_by_kind)
    grids: list[GridFigures] = []
    for row in rows:
        counts, figures = counts_by_code[row.code], events[row.code]
        declarations = departures = None
        if has_overdue:
            declarations, departures = overdue[row.code]
            totals.update({"overdue": declarations + departures})
        rate_row = rates_by_code.get(row.code)
        by_kind = {k: shown(n) for k, n in figures.open_by_kind.items()}
        grids.append(
            GridFigures(
                code=row.code, name=row.name,
                grid_class=_grid_class(row),
                counts=_open_events_weighed(
                    _shown_counts(counts, suppress=suppress),
                    counts["open_events"], by_kind, suppress=suppress,
                ),
                floating_share=_floating_share(counts, suppress=suppress),
                quality=quality.report_from_counts(rate_row, kind="grid", on=on, suppress=suppress)
                if rate_row else None,
                overdue_declarations=declarations, overdue_departures=departures,
                open_events_by_kind=by_kind,
                closure_rate=shown_share(figures.closed, figures.accepted, suppress=suppress),
            )
        )  # fmt: skip
    # the parts a planner's total is weighed against: every grid's, listed or not
    every_shown = [_shown_counts(counts, suppress=suppress) for counts in counts_by_code.values()]
    parts = {key: [counts[key] for counts in every_shown] for key in COUNT_KEYS}
    parts["overdue"] = [0 for _ in grids]
    kind_parts = {
        kind: [shown(events[row.code].open_by_kind.get(kind, 0)) for row in every]
        for kind in EVENT_KINDS
    }
    summed = {key: totals[key] for key in (*COUNT_KEYS, "overdue")}
    open_by_kind_shown = {kind: total(open_by_kind[kind], kind_parts[kind]) for kind in EVENT_KINDS}
    shown_totals = {key: total(value, parts[key]) for key, value in summed.items()}
    if suppress and shown_part(summed["floating_count"], summed["resident_count"]) is None:
        shown_totals["floating_count"] = None
    return DashboardData(
        on=on,
        division_code=division,
        grids=grids,
        totals=_open_events_weighed(
            shown_totals, summed["open_events"], open_by_kind_shown, suppress=suppress
        )
        | {"grids": len(every)},
        floating_share=_floating_share(summed, suppress=suppress),
        class_mix=dict(Counter(_grid_class(row) for row in every)),
        quality=_summed_quality(
            rate_rows, grids, on=on, area=division or "grids", suppress=suppress
        ),
        has_overdue=has_overdue,
        is_truncated=len(every) > MAX_GRIDS,
        quality_grids=len(grids),
        next_after=rows[-1].code if len(following) > MAX_GRIDS else None,
        after=after,
        open_events_by_kind=open_by_kind_shown,
        closure_rate=shown_share(
            totals["closed_events"], totals["accepted_events"], suppress=suppress
        ),
    )


def _open_events_weighed(
    counts: dict[str, int | None],
    open_events: int,
    by_kind: dict[str, int | None],
    *,
    suppress: bool,
) -> dict[str, int | None]:
    """``counts`` with a planner's open events hidden when they minus the kinds shown beside
    them would give a hidden kind away (21 open, 8 + 5 + 7 shown by kind: the fourth is 1)."""
    if not suppress or counts.get("open_events") is None:
        return counts
    return counts | {"open_events": shown_total(open_events, list(by_kind.values()))}


def _shown_counts(counts: dict[str, int], *, suppress: bool) -> dict[str, int | None]:
    """A grid's counts as the caller sees them: a planner's from 1 to 4 hidden, and the
    floating residents when those not floating are 1 to 4 (31 floating of 32 residents)."""
    if not suppress:
        return dict(counts)
    shown = {key: suppress_small_count(value) for key, value in counts.items()}
    return shown | {
        "floating_count": shown_part(counts["floating_count"], counts["resident_count"])
    }


def _grid_class(row: Any) -> str:
    return str(row.grid_class) if row.grid_class else "unclassified"


def _counts(measured: Any, figures: Any) -> dict[str, int]:
    """A grid's counts: its indicators and its event figures."""
    counts = {key: int(getattr(measured, key, 0)) for key in COUNT_KEYS}
    counts["overdue_events"] = figures.overdue
    counts["accepted_events"] = figures.accepted
    counts["closed_events"] = figures.closed
    return counts


def _floating_share(counts: dict[str, int], *, suppress: bool) -> float | None:
    return shown_share(counts["floating_count"], counts["resident_count"], suppress=suppress)
