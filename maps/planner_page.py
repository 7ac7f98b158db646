"""The planner's editor (``/planner``): open or create a draft plan, edit grid polygons with
Leaflet-Geoman, see the impact change with each edit (the edit's answer carries what changed),
see the problems on the map, publish.

Pure: :func:`build_planner_page` turns a :class:`PlannerView` into HTML; ``maps/static/
planner.js`` talks to ``/api/plans`` (the numbers are the plans API's, never computed here).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import folium
from folium.plugins import GeoMan, VectorGridProtobuf

from maps import i18n
from maps.officer_map import TILE_URL, VECTOR_OPTIONS, BaseMap, Bbox, add_base_layers
from maps.page import PageFiles, Viewer, new_map_page


@dataclass(frozen=True)
class PlannerView:
    viewer: Viewer
    basemap: BaseMap
    bounds: Bbox | None
    divisions: Sequence[tuple[str, str]]
    """``(code, name)`` of divisions a plan may cover (those holding live grids)."""
    today: date
    plan_id: int | None = None


def side_markup(view: PlannerView) -> str:
    lang = view.viewer.lang

    def t(key: str) -> str:
        return f'<span data-i18n="{key}">{html.escape(i18n.text(key, lang))}</span>'

    options = "".join(
        f'<option value="{code}">{html.escape(name)} {code}</option>'
        for code, name in view.divisions
    )
    return f"""
    <aside class="gh-planner-side" id="gh-planner">
      <section class="mb-3">
        <div class="d-flex gap-1">
          <select class="form-select form-select-sm" id="gh-plan-select"
            aria-label="{html.escape(i18n.text("plans", lang))}"></select>
          <button class="btn btn-sm btn-outline-primary" type="button" id="gh-plan-open">
            {t("open")}</button>
        </div>
        <details class="mt-2" id="gh-new-plan-box">
          <summary>{t("new_plan")}</summary>
          <form class="d-grid gap-1 mt-1" id="gh-new-plan">
            <select class="form-select form-select-sm" name="division_code" id="gh-plan-division"
              required>{options}</select>
            <input class="form-control form-control-sm" name="plan_name" maxlength="100"
              data-i18n-placeholder="plan_name" placeholder="{i18n.text("plan_name", lang)}">
            <button class="btn btn-sm btn-primary" type="submit" id="gh-plan-create">
              {t("create")}</button>
          </form>
        </details>
      </section>
      <section id="gh-plan-view" hidden>
        <h2 class="h6"><span id="gh-plan-title"></span>
          <span class="badge text-bg-secondary" id="gh-plan-status"></span></h2>
        <p class="small text-muted" data-i18n="edit_hint">{i18n.text("edit_hint", lang)}</p>
        <h3 class="h6">{t("impact")}</h3>
        <div id="gh-impact" class="table-responsive"></div>
        <h3 class="h6 mt-2">{t("changes")}</h3>
        <div id="gh-diff" class="small"></div>
        <h3 class="h6 mt-2">{t("problems")}</h3>
        <ul id="gh-problems" class="small list-unstyled"></ul>
        <form class="d-flex gap-1 align-items-end mt-3" id="gh-publish">
          <label class="small">{t("effective_date")}
            <input class="form-control form-control-sm" type="date" name="effective_date"
              id="gh-effective" required value="{view.today.isoformat()}"></label>
          <button class="btn btn-sm btn-danger" type="submit" id="gh-publish-button" disabled>
            {t("publish")}</button>
        </form>
        <div id="gh-publish-result" class="small mt-2"></div>
      </section>
    </aside>
    <div class="gh-toast" id="gh-toast" role="status" hidden></div>"""


def build_planner_page(view: PlannerView) -> str:
    """The ``/planner`` page as HTML."""
    lang = view.viewer.lang
    page = new_map_page(view.viewer, current="planner", bounds=view.bounds)
    fmap = page.map
    assert fmap is not None
    add_base_layers(fmap, view.basemap, lang)
    layers = "roads+buildings" if view.basemap.kind == "offline" else "buildings"
    background = VectorGridProtobuf(
        TILE_URL.format(layers=layers), name=i18n.text("building", lang),
        options=VECTOR_OPTIONS.replace("interactive: true", "interactive: false"),
        overlay=True, show=True,
    )  # fmt: skip
    background.add_to(fmap)
    GeoMan(
        position="topleft", drawMarker=False, drawCircleMarker=False, drawPolyline=False,
        drawRectangle=False, drawCircle=False, drawText=False, drawPolygon=True, editMode=True,
        dragMode=False, cutPolygon=False, removalMode=True, rotateMode=False,
    ).add_to(fmap)  # type: ignore[no-untyped-call]  # fmt: skip
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    page.add_html(side_markup(view))
    config = {
        "layers": {"background": background.get_name()},
        "basemap": view.basemap.kind,
        "planId": view.plan_id,
        "today": view.today.isoformat(),
    }
    files = PageFiles(own_js=("tiles.js", "planner.js"))
    return page.finish(app="planner", config=config, files=files)
