"""The dashboard in a browser: the event charts (open events by kind with the overdue ones,
closure rate per grid) are drawn from the figures the page carries, without script errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gis.events.models import EventKind
from gis.users.models import Role
from tests.e2e.conftest import Browser, Server
from tests.e2e.world import USERS

pytestmark = pytest.mark.e2e


def test_the_dashboard_draws_the_event_charts(browser: Browser, server: Server) -> None:
    page = browser.page
    browser.login(USERS[Role.OFFICER], then="/dashboard")
    expect(page.locator("body")).to_have_attribute("data-ready", "dashboard")
    expect(page.locator('[data-kpi="closure_rate"]')).to_be_visible()
    drawn = page.evaluate(
        """() => ['gh-chart-events', 'gh-chart-closure'].map(id => {
            const chart = Chart.getChart(document.getElementById(id));
            return chart ? [chart.data.labels.length, chart.data.datasets.map(d => d.label)] : null;
        })"""
    )
    grids = page.locator("#gh-grid-table tbody tr").count()
    assert grids > 0
    events, closure = drawn
    kinds = ["安全隐患", "出租屋消防隐患", "矛盾纠纷", "治安问题", "其他"]
    assert len(kinds) == len(EventKind)
    assert events == [grids, [*kinds, "超期事件"]]
    assert closure == [grids, ["结案率 %"]]
    page.click("#gh-lang")  # the charts are drawn again in English
    labels = page.evaluate(
        "() => Chart.getChart(document.getElementById('gh-chart-events')).data.datasets"
        ".map(d => d.label)"
    )
    assert labels[-1] == "Overdue events"
    browser.screenshot("1-dashboard")


def test_the_api_documentation_renders_offline(browser: Browser, server: Server) -> None:
    """The auditor's home is the API documentation: Swagger UI drawn from gridhouse's own
    files (the browser may fetch nothing beyond 127.0.0.1), listing the audit route."""
    page = browser.page
    browser.login(USERS[Role.AUDITOR], then="/")
    page.wait_for_url(re.compile(r"/docs$"))
    expect(page.locator(".swagger-ui .opblock-summary-path", has_text="/api/audit")).to_be_visible(
        timeout=15_000
    )


CHART_FIGURES = """() => {
    const data = (id, i) => {
        const chart = Chart.getChart(document.getElementById(id));
        return chart.data.datasets[i].data;
    };
    const kinds = Gridhouse.config.charts.eventKinds.length;
    return {
        floating: data('gh-chart-residents', 0), hukou: data('gh-chart-residents', 1),
        houses: data('gh-chart-houses', 0), rented: data('gh-chart-houses', 1),
        firstKind: data('gh-chart-events', 0), overdue: data('gh-chart-events', kinds),
        notes: [...document.querySelectorAll('.gh-chart-hidden')]
            .filter((p) => !p.hidden).map((p) => p.dataset.chart),
    };
}"""


def test_a_planner_s_hidden_figures_are_left_out_of_the_charts(
    browser: Browser, server: Server
) -> None:
    """A figure hidden from a planner ("<5" or "–" in the table, null in the figures) is no bar
    at all in the charts, and a note under the chart says so; it was drawn as 0."""
    page = browser.page
    browser.login(USERS[Role.PLANNER], then="/dashboard")
    expect(page.locator("body")).to_have_attribute("data-ready", "dashboard")
    grids = page.evaluate("() => Gridhouse.config.charts.grids")
    figures = page.evaluate(CHART_FIGURES)
    # the figures the page carries: hidden ones stay hidden in the charts
    for i, grid in enumerate(grids):
        for name, key in (("floating", "floating"), ("houses", "houses"), ("rented", "rented")):
            assert (figures[name][i] is None) == (grid[key] is None), (name, grid)
        assert (figures["overdue"][i] is None) == (grid["overdueEvents"] is None), grid

    # a grid whose floating residents, rented houses and open events are hidden (as a planner
    # sees a grid with 1 to 4 of them), drawn again (a change of language draws the charts)
    page.evaluate(
        """() => {
            const grid = Gridhouse.config.charts.grids[0];
            Object.assign(grid, { floating: null, rented: null });
            Object.assign(grid, { openByKind: null, overdueEvents: null });
            document.dispatchEvent(new CustomEvent('gh:lang'));
        }"""
    )
    figures = page.evaluate(CHART_FIGURES)
    assert figures["floating"][0] is None  # was 0
    assert figures["hukou"][0] is None  # residents minus hidden floating: was all of them
    assert figures["rented"][0] is None
    assert figures["houses"][0] == grids[0]["houses"]
    assert figures["firstKind"][0] is None
    assert figures["overdue"][0] is None
    assert figures["notes"] == ["gh-chart-residents", "gh-chart-houses", "gh-chart-events"]
    expect(page.locator('.gh-chart-hidden[data-chart="gh-chart-houses"]')).to_have_text(
        "图中未画出隐藏的数（表中的“<5”和“–”），不是0"
    )
    page.click("#gh-lang")
    expect(page.locator('.gh-chart-hidden[data-chart="gh-chart-houses"]')).to_contain_text(
        "left out of the chart"
    )
    assert page.evaluate(CHART_FIGURES)["rented"][0] is None
