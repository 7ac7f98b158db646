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
