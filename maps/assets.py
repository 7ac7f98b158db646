"""Where the pages' JavaScript and CSS come from: gridhouse's own server, never a CDN.

Third-party libraries are installed at setup from ``maps/assets/package.json`` (pinned, with a
lock file) by ``npm ci`` into ``maps/assets/node_modules/`` (git-ignored), which the app serves
at :data:`VENDOR_URL`; gridhouse's own scripts and styles live in ``maps/static/`` and are served
at :data:`STATIC_URL`.

folium's elements name the files they need in ``default_js`` / ``default_css`` as
``(name, CDN URL)`` pairs; :func:`localize` replaces each, by name, with the file served here, and
refuses a name it does not know, so a new folium plugin cannot pull a CDN file in unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
VENDOR_DIR = ASSETS_DIR / "node_modules"
STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_URL = "/vendor"
STATIC_URL = "/static"

VENDOR_FILES: dict[str, str | None] = {
    # folium.Map's defaults
    "leaflet": "leaflet/dist/leaflet.js",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "awesome_markers": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    "awesome_markers_font_css": "@fortawesome/fontawesome-free/css/all.min.css",
    "awesome_markers_css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    # Bootstrap 3's glyphicons and folium's rotation CSS serve only AwesomeMarker icons with the
    # glyphicon prefix or an angle, which no gridhouse page uses: left out, not fetched
    "glyphicons_css": None,
    "awesome_rotate_css": None,
    # folium.plugins used by the pages
    "vectorGrid": "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.js",
    "leaflet_geoman_js": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.js",
    "leaflet_geoman_css": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
    # used by the pages' own elements
    "chartjs": "chart.js/dist/chart.umd.min.js",
    # the API's documentation page (/docs, api.routes.docs)
    "swagger_ui_js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger_ui_css": "swagger-ui-dist/swagger-ui.css",
    "swagger_ui_favicon": "swagger-ui-dist/favicon-32x32.png",
}
"""folium's asset name → path under ``node_modules`` (``None``: not needed, left out)."""


def vendor_url(name: str) -> str:
    """The URL the app serves the library file ``name`` at (a key of :data:`VENDOR_FILES`)."""
    path = VENDOR_FILES[name]
    if path is None:
        raise KeyError(f"{name} is deliberately not served")
    return f"{VENDOR_URL}/{path}"


def static_url(filename: str) -> str:
    """The URL of one of gridhouse's own files in ``maps/static``."""
    return f"{STATIC_URL}/{filename}"


def _local(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    local = []
    for name, url in links:
        if url.startswith(f"{VENDOR_URL}/") or url.startswith(f"{STATIC_URL}/"):
            local.append((name, url))
            continue
        if name not in VENDOR_FILES:
            raise ValueError(
                f"folium wants {name!r} from {url}: add it to maps/assets/package.json and "
                "maps.assets.VENDOR_FILES, or leave it out there"
            )
        if VENDOR_FILES[name] is not None:
            local.append((name, vendor_url(name)))
    return local


def _elements(root: Any) -> Iterator[Any]:
    yield root
    for child in getattr(root, "_children", {}).values():
        yield from _elements(child)


def localize(root: Any) -> None:
    """Point every ``default_js`` / ``default_css`` of ``root`` and its descendants at the files
    served by gridhouse (set on each instance, so folium's classes stay untouched)."""
    for element in _elements(root):
        if hasattr(element, "default_js"):
            element.default_js = _local(list(element.default_js))
        if hasattr(element, "default_css"):
            element.default_css = _local(list(element.default_css))


def missing_vendor_files() -> list[str]:
    """Library files the pages reference that are not installed (run ``npm ci``)."""
    return [
        path
        for path in VENDOR_FILES.values()
        if path is not None and not (VENDOR_DIR / path).is_file()
    ]
