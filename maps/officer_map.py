"""The officer and police map (``/map``): grids by class, buildings from vector tiles, a side
panel with a building's houses and occupants, registration and houses added by officers, open
events (reported from a building, with photos, moved through their steps), search, an H3 heat map
of floating residents, locate-me; Chinese by default, usable on a phone.

Pure: :func:`build_officer_map` turns an :class:`OfficerMapView` into HTML. The page's scripts
(``maps/static/officer.js``: the map and the building panel; ``officer_forms.js``: the panel's
forms; ``officer_overdue.js``: departures never deregistered; ``officer_map_tools.js``: search
and the map's controls; ``events.js``: the events panel)
ask the API for buildings, occupants, registrations and events as the user clicks; the server
decides what each role may do, the page only hides what it may not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import folium
from folium.plugins import VectorGridProtobuf

from gis.events.photos import MAX_PHOTO_BYTES
from maps import i18n
from maps.page import PageFiles, Viewer, new_map_page

BaseMapKind = Literal["offline", "osm", "tianditu"]
Bbox = tuple[float, float, float, float]

TILE_URL = "/tiles/{layers}/{{tileZoom}}/{{x}}/{{y}}.pbf"
"""512-pixel tiles: ``tileZoom`` is the map's zoom − 1 (``Gridhouse.tiles.tileZoom``), so a map
asks for a quarter as many tiles as with 256-pixel ones (the rate limit counts them)."""
BUILDINGS_MAP_ZOOM = 15
"""The map zoom from which footprints are drawn (tile zoom 14: ``gis.tiles.service``)."""
EVENT_KINDS = ("safety_hazard", "rented_fire_risk", "dispute", "public_order", "other")
"""The kinds offered when reporting an event (``gis.events.models.EventKind``)."""
TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={key}"
)
TIANDITU_SUBDOMAINS = "01234567"
TIANDITU_ATTRIBUTION = "&copy; 天地图 Tianditu"
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"

VECTOR_OPTIONS = """{
    rendererFactory: L.svg.tile,
    tileSize: 512,
    tileZoom: Gridhouse.tiles.tileZoom,
    interactive: true,
    maxNativeZoom: 20,
    vectorTileLayerStyles: Gridhouse.tiles.styles(),
    getFeatureId: Gridhouse.tiles.featureId
}"""
"""VectorGrid options: the SVG renderer (leaflet.vectorgrid 1.3.0's canvas renderer calls
``L.DomEvent.fakeStop``, which Leaflet 1.9 removed, so canvas clicks throw), styles from
``maps/static/tiles.js``."""


@dataclass(frozen=True)
class BaseMap:
    """The background: ``offline`` draws roads from the database on a plain ground; ``osm`` a
    raster tile server (OpenStreetMap or a mirror of it); ``tianditu`` needs a key."""

    kind: BaseMapKind = "offline"
    osm_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tianditu_key: str | None = None


@dataclass(frozen=True)
class OfficerMapView:
    """Everything the map page needs to know, decided by the server."""

    viewer: Viewer
    basemap: BaseMap
    bounds: Bbox | None
    can_register: bool
    needs_purpose: bool
    can_search_people: bool
    today: date
    people_search_url: str | None = None
    can_time_travel: bool = False
    """Police: a date control asks who lived in a building on any day (``at``)."""
    grid_codes: tuple[str, ...] = ()
    """An officer's grids: the building panel lists their overdue departures."""


def add_base_layers(fmap: folium.Map, basemap: BaseMap, lang: i18n.Lang) -> None:
    """The offline ground (roads come with the data tiles) and the configured raster map;
    the configured one is shown first."""
    offline = folium.FeatureGroup(
        name=i18n.text("layer_offline", lang), overlay=False, control=True,
        show=basemap.kind == "offline",
    )  # fmt: skip
    layers: list[folium.map.Layer] = [offline]
    if basemap.kind == "osm":
        layers.insert(
            0,
            folium.TileLayer(
                tiles=basemap.osm_url, attr=OSM_ATTRIBUTION, name=i18n.text("layer_osm", lang),
                max_zoom=20, max_native_zoom=19, overlay=False,
            ),
        )  # fmt: skip
    elif basemap.kind == "tianditu" and basemap.tianditu_key:
        ground = folium.FeatureGroup(name=i18n.text("layer_tianditu", lang), overlay=False)
        for kind in ("vec", "cva"):
            folium.TileLayer(
                tiles=TIANDITU_URL.format(layer=kind, key=basemap.tianditu_key),
                attr=TIANDITU_ATTRIBUTION, subdomains=TIANDITU_SUBDOMAINS, max_zoom=20,
                max_native_zoom=18, overlay=True, control=False,
            ).add_to(ground)  # fmt: skip
        layers.insert(0, ground)
    for layer in layers:
        layer.add_to(fmap)


def data_layer_names(basemap: BaseMap) -> str:
    """The tile layers fetched together (one request per tile, for the rate limit), events last
    so they are drawn on top: roads only when the ground is offline."""
    return "roads+grids+buildings+events" if basemap.kind == "offline" else "grids+buildings+events"


def panel_markup(view: OfficerMapView) -> str:
    """The search box, the building panel and the toast line (filled by the script)."""
    lang = view.viewer.lang
    placeholder = "search_placeholder" if view.can_search_people else "search_placeholder_code"
    purpose = ""
    if view.needs_purpose:
        purpose = f"""
      <div class="gh-purpose input-group input-group-sm">
        <span class="input-group-text" data-i18n="purpose">{i18n.text("purpose", lang)}</span>
        <input id="gh-purpose" class="form-control" maxlength="500"
          data-i18n-placeholder="purpose_hint" placeholder="{i18n.text("purpose_hint", lang)}">
      </div>"""
    if view.can_time_travel:
        # occupants on any day (DESIGN §1, police: "who lived here on 3 May"); today by default
        today = view.today.isoformat()
        purpose += f"""
      <div class="gh-purpose input-group input-group-sm">
        <span class="input-group-text" data-i18n="occupants_on"
          >{i18n.text("occupants_on", lang)}</span>
        <input id="gh-at" class="form-control" type="date" value="{today}" max="{today}"
          data-i18n-title="occupants_on_hint" title="{i18n.text("occupants_on_hint", lang)}">
      </div>"""
    return f"""
    <form class="gh-search" id="gh-search" role="search">
      <div class="input-group input-group-sm">
        <input id="gh-search-input" class="form-control" type="search" maxlength="60"
          autocomplete="off" data-i18n-placeholder="{placeholder}"
          placeholder="{i18n.text(placeholder, lang)}">
        <button class="btn btn-primary" type="submit" data-i18n="search">
          {i18n.text("search", lang)}</button>
      </div>
      <div id="gh-search-results" class="gh-search-results list-group" hidden></div>{purpose}
    </form>
    <aside class="gh-panel" id="gh-panel" hidden aria-live="polite">
      <div class="gh-panel-head">
        <strong id="gh-panel-title"><span data-i18n="building">{i18n.text("building", lang)}</span>
        </strong>
        <button type="button" class="btn-close" id="gh-panel-close"
          data-i18n-title="close" title="{i18n.text("close", lang)}"></button>
      </div>
      <div class="gh-panel-body" id="gh-panel-body"></div>
    </aside>
    <div class="gh-toast" id="gh-toast" role="status" hidden></div>"""


def build_officer_map(view: OfficerMapView) -> str:
    """The ``/map`` page as HTML."""
    lang = view.viewer.lang
    page = new_map_page(view.viewer, current="map", bounds=view.bounds)
    fmap = page.map
    assert fmap is not None
    add_base_layers(fmap, view.basemap, lang)
    data = VectorGridProtobuf(
        TILE_URL.format(layers=data_layer_names(view.basemap)),
        name=i18n.text("layer_data", lang), options=VECTOR_OPTIONS, overlay=True, show=True,
    )  # fmt: skip
    data.add_to(fmap)
    floating = VectorGridProtobuf(
        TILE_URL.format(layers="floating"),
        name=i18n.text("layer_floating", lang),
        options=VECTOR_OPTIONS.replace("interactive: true", "interactive: false"),
        overlay=True, show=False,
    )  # fmt: skip
    floating.add_to(fmap)
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    page.add_html(panel_markup(view))
    config = {
        "layers": {"data": data.get_name(), "floating": floating.get_name()},
        "basemap": view.basemap.kind,
        "canRegister": view.can_register,
        "needsPurpose": view.needs_purpose,
        "canSearchPeople": view.can_search_people and view.people_search_url is not None,
        "peopleSearchUrl": view.people_search_url,
        "today": view.today.isoformat(),
        "ownGrids": list(view.grid_codes),
        "buildingsZoom": BUILDINGS_MAP_ZOOM,
        "userName": view.viewer.name,
        "eventKinds": list(EVENT_KINDS),
        "photoMaxBytes": MAX_PHOTO_BYTES,
    }
    # officer.js before the two files that use its G.officer at load time
    own_js = (
        "tiles.js", "events.js", "officer.js", "officer_forms.js", "officer_overdue.js",
        "officer_map_tools.js",
    )  # fmt: skip
    files = PageFiles(own_js=own_js, own_css=("gridhouse.css",))
    return page.finish(app="officer", config=config, files=files)
