"""The dashboard (``/dashboard``): per division and grid, residents, floating share, houses,
rentals, class mix, the four quality rates against their thresholds, open events by kind, overdue
events, the closure rate and overdue work, as cards, Chart.js charts and a table.

Pure: :func:`build_dashboard` turns a :class:`DashboardView` (figures measured by
``gis.dashboard``) into HTML; ``maps/static/dashboard.js`` draws the charts from the same data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gis.dashboard.service import DashboardData, GridFigures
from gis.people.schemas_quality import QualityRate, QualityReport
from maps import i18n, style
from maps.i18n import Lang
from maps.page import PageFiles, Viewer, new_page

RATES = ("registration", "accuracy", "late_deregistration", "permits")
RATE_LABELS = {
    "registration": "registration_rate",
    "accuracy": "accuracy_rate",
    "late_deregistration": "undergistered_rate",
    "permits": "permit_rate",
}


@dataclass(frozen=True)
class DashboardView:
    viewer: Viewer
    data: DashboardData
    divisions: Sequence[tuple[str, str]]
    """``(code, name)`` the viewer may pick from (empty: no choice, e.g. officers)."""


def _t(key: str, lang: Lang) -> str:
    return f'<span data-i18n="{key}">{html.escape(i18n.text(key, lang))}</span>'


def _hidden(shown: str, why: str, lang: Lang) -> str:
    """A figure hidden from a planner, saying why (in the page's language, following it)."""
    title = html.escape(i18n.text(why, lang))
    return f'<span data-hidden data-i18n-title="{why}" title="{title}">{shown}</span>'


def _number(value: int | None, lang: Lang = "zh", *, derived: bool = False) -> str:
    """A count; hidden, "<5" when it is a grid's count of 1 to 4, "–" when it may be a sum or a
    figure hidden for giving one away (a total was shown as "<5", though it may be 300)."""
    if value is not None:
        return f"{value:,}"
    if derived:
        return _hidden("–", "sum_hidden_title", lang)
    return _hidden("&lt;5", "suppressed_title", lang)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _rate_cell(rate: QualityRate | None) -> str:
    if rate is None or rate.value is None:
        return '<td class="text-muted">–</td>'
    css = "gh-ok" if rate.meets else "gh-bad"
    return f'<td class="{css}">{_percent(rate.value)}</td>'


def cards(data: DashboardData, lang: Lang) -> str:
    totals = data.totals

    def total(key: str) -> str:  # a total may be hidden for giving a grid's count away
        return _number(totals.get(key), lang, derived=True)

    items = [
        ("grids", total("grids")),
        ("households", total("households")),
        ("residents", total("resident_count")),
        ("floating_share", _percent(data.floating_share)),
        ("houses", total("houses")),
        ("rentals", total("rented_houses")),
        ("open_events", total("open_events")),
        ("overdue_events", total("overdue_events")),
        ("closure_rate", _percent(data.closure_rate)),
    ]
    if data.has_overdue:
        items.append(("overdue", total("overdue")))
    return "".join(
        f'<div class="gh-card"><div class="small text-muted">{_t(key, lang)}</div>'
        f'<div class="gh-kpi" data-kpi="{key}">{value}</div></div>'
        for key, value in items
    )


def grid_table(grids: Sequence[GridFigures], *, has_overdue: bool, lang: Lang) -> str:
    heads = ["grid", "legend", "households", "residents", "floating_share", "houses", "rentals"]
    heads += ["open_events", "overdue_events", "closure_rate"]
    heads += [RATE_LABELS[name] for name in RATES]
    if has_overdue:
        heads += ["late_declarations", "late_departures"]
    rows = []
    for grid in grids:
        cells = [
            f'<td title="{html.escape(grid.name or "")}">{grid.code}</td>',
            f'<td><span data-i18n="{grid.grid_class}">'
            f"{html.escape(i18n.text(grid.grid_class, lang))}</span></td>",
            *(
                f"<td>{_number(grid.counts[key], lang)}</td>"
                for key in ("households", "resident_count")
            ),
            f"<td>{_percent(grid.floating_share)}</td>",
            *(f"<td>{_number(grid.counts[key], lang)}</td>" for key in ("houses", "rented_houses")),
            *(  # open events may be hidden for giving away the kind beside them
                f"<td>{_number(grid.counts.get(key), lang, derived=True)}</td>"
                for key in ("open_events", "overdue_events")
            ),
            f'<td data-rate="closure">{_percent(grid.closure_rate)}</td>',
            *(_rate_cell(getattr(grid.quality, name, None)) for name in RATES),
        ]
        if has_overdue:
            cells += [
                f"<td>{_number(grid.overdue_declarations, lang)}</td>",
                f"<td>{_number(grid.overdue_departures, lang)}</td>",
            ]
        rows.append(f'<tr data-grid="{grid.code}">{"".join(cells)}</tr>')
    head = "".join(f"<th>{_t(key, lang)}</th>" for key in heads)
    return (
        '<div class="table-responsive"><table class="table table-sm gh-table" id="gh-grid-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _quality_data(report: QualityReport | None) -> list[dict[str, Any]]:
    if report is None:
        return []
    return [
        {
            "key": RATE_LABELS[name],
            "value": getattr(report, name).value,
            "threshold": getattr(report, name).threshold,
            "meets": getattr(report, name).meets,
            "atMost": name == "late_deregistration",
        }
        for name in RATES
    ]


def chart_data(data: DashboardData) -> dict[str, Any]:
    """What the charts draw (the same figures as the cards and the table)."""
    return {
        "grids": [
            {
                "code": grid.code,
                "label": grid.code[9:12] + "-" + grid.code[12:],
                "residents": grid.counts["resident_count"],
                "floating": grid.counts["floating_count"],
                "houses": grid.counts["houses"],
                "rented": grid.counts["rented_houses"],
                "declarations": grid.overdue_declarations,
                "departures": grid.overdue_departures,
                "openByKind": grid.open_events_by_kind,
                "overdueEvents": grid.counts.get("overdue_events"),
                "closureRate": grid.closure_rate,
            }
            for grid in data.grids
        ],
        "eventKinds": list(data.open_events_by_kind),
        "openByKind": data.open_events_by_kind,
        "classMix": data.class_mix,
        "classOrder": list(style.GRID_CLASS_ORDER),
        "quality": _quality_data(data.quality),
        "hasOverdue": data.has_overdue,
    }


def build_dashboard(view: DashboardView) -> str:
    """The ``/dashboard`` page as HTML."""
    lang = view.viewer.lang
    data = view.data
    page = new_page(view.viewer, current="dashboard")
    picker = ""
    if view.divisions:
        options = f'<option value="">{html.escape(i18n.text("all", lang))}</option>' + "".join(
            f'<option value="{code}"{" selected" if code == data.division_code else ""}>'
            f"{html.escape(name)} {code}</option>"
            for code, name in view.divisions
        )
        picker = (
            '<form class="d-flex gap-1 mb-3" method="get" action="/dashboard">'
            '<select class="form-select form-select-sm w-auto" name="division" id="gh-division">'
            f"{options}</select>"
            f'<button class="btn btn-sm btn-primary" type="submit">{_t("open", lang)}</button>'
            "</form>"
        )
    truncated = ""
    if data.is_truncated:
        area = f"?division={data.division_code}" if data.division_code else "?"
        pages = []
        if data.after is not None:
            first = area if data.division_code else ""
            pages.append(
                f'<a id="gh-first-grids" href="/dashboard{first}">{_t("first_grids", lang)}</a>'
            )
        if data.next_after is not None:
            joiner = "&amp;" if data.division_code else ""
            pages.append(
                f'<a id="gh-next-grids" href="/dashboard{area}{joiner}after={data.next_after}">'
                f"{_t('next_grids', lang)}</a>"
            )
        truncated = (
            f'<p class="gh-note" id="gh-truncated">{_t("truncated", lang)} {" ".join(pages)}</p>'
        )
    charts = "".join(
        f'<div class="gh-card"><h3 class="h6">{_t(title, lang)}</h3>'
        f'<div class="gh-chart"><canvas id="{canvas}"></canvas></div>'
        # shown by dashboard.js under a chart that left a planner's hidden figure out
        f'<p class="gh-chart-hidden small text-muted mb-0" data-chart="{canvas}" hidden>'
        f"{_t('chart_hidden', lang)}</p></div>"
        for title, canvas in (
            ("residents", "gh-chart-residents"),
            ("class_mix", "gh-chart-classes"),
            ("houses", "gh-chart-houses"),
            ("quality", "gh-chart-quality"),
            ("open_by_kind", "gh-chart-events"),
            ("closure_rates", "gh-chart-closure"),
            *((("overdue", "gh-chart-overdue"),) if data.has_overdue else ()),
        )
    )
    page.add_html(f"""
    <main class="gh-page" id="gh-dashboard">
      <h1 class="h4">{_t("dashboard", lang)} <small class="text-muted">{data.on.isoformat()}</small>
      </h1>
      {picker}{truncated}
      <section class="gh-cards">{cards(data, lang)}</section>
      <section class="gh-charts">{charts}</section>
      <h2 class="h5 mt-4">{_t("per_grid", lang)}</h2>
      {grid_table(data.grids, has_overdue=data.has_overdue, lang=lang)}
      <div class="gh-toast" id="gh-toast" role="status" hidden></div>
    </main>""")
    files = PageFiles(vendor_js=("chartjs",), own_js=("dashboard.js",))
    return page.finish(app="dashboard", config={"charts": chart_data(data)}, files=files)
