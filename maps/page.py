"""What every page shares: the folium map or figure, the top bar, the scripts and the start-up call.

A page is a folium ``Figure`` (with a ``folium.Map`` in it for the map pages). The top bar, the
side panels and the page's script are added as folium elements; :class:`PageApp` comes last, so
its files load after folium's and its ``start`` call runs after every layer exists. The page's
data reaches the script as one JSON object (``<`` escaped, so no value can close the script).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from maps import assets, i18n, messages_zh, style
from maps.i18n import Lang

PAGES: dict[str, tuple[str, frozenset[str]]] = {
    "map": ("/map", frozenset({"officer", "police", "admin"})),
    "planner": ("/planner", frozenset({"planner", "admin"})),
    "dashboard": ("/dashboard", frozenset({"officer", "police", "planner", "admin"})),
}
"""Page key → (path, roles that may open it)."""


def pages_for(role: str) -> list[str]:
    """The page keys ``role`` may open, in menu order.

    >>> pages_for("planner"), pages_for("auditor")
    (['planner', 'dashboard'], [])
    """
    return [key for key, (_, roles) in PAGES.items() if role in roles]


def home_path(role: str) -> str | None:
    """Where ``role`` lands after logging in (its first page), ``None`` for roles without one."""
    keys = pages_for(role)
    return PAGES[keys[0]][0] if keys else None


@dataclass(frozen=True)
class Viewer:
    """Who the page is for."""

    name: str
    role: str
    lang: Lang = i18n.DEFAULT_LANG
    has_totp: bool = False
    """Whether the user logs in with a one-time code too (the session dialog asks for one)."""
    idle_minutes: int = 30
    """The server's idle limit of a session: a page left alone that long checks its session
    and, when it has ended, hides behind the login dialog."""


@dataclass(frozen=True)
class PageFiles:
    """Library names (keys of :data:`maps.assets.VENDOR_FILES`) and own files a page loads."""

    vendor_js: Sequence[str] = ()
    vendor_css: Sequence[str] = ("bootstrap_css",)
    own_js: Sequence[str] = ()
    own_css: Sequence[str] = ("gridhouse.css",)


def safe_json(value: Any) -> str:
    """JSON that can sit inside ``<script>``: ``<``, ``>`` and ``&`` are escaped.

    >>> safe_json({"a": "</script>"})
    '{"a": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class PageApp(JSCSSMixin, MacroElement):
    """The page's own files and its start-up call: ``Gridhouse.<app>.start(map, config)``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            Gridhouse.{{ this.app }}.start({{ this.map_name }}, {{ this.config_json }});
        {% endmacro %}
        """
    )

    def __init__(
        self, *, app: str, map_name: str, config: dict[str, Any], files: PageFiles
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PageApp"
        self.app = app
        self.map_name = map_name
        self.config_json = safe_json(config)
        self.default_js = [(name, assets.vendor_url(name)) for name in files.vendor_js] + [
            (f"gridhouse_{name}", assets.static_url(name))
            for name in ("common.js", "session.js", *files.own_js)
        ]
        self.default_css = [(name, assets.vendor_url(name)) for name in files.vendor_css] + [
            (f"gridhouse_{name}", assets.static_url(name)) for name in files.own_css
        ]


def top_bar(viewer: Viewer, *, current: str) -> str:
    """The bar across the top: name, the role's pages, the user, language and log-out."""
    lang = viewer.lang
    links = "".join(
        f'<a class="gh-nav{" active" if key == current else ""}" href="{PAGES[key][0]}" '
        f'data-i18n="{key}">{html.escape(i18n.text(key, lang))}</a>'
        for key in pages_for(viewer.role)
    )
    return f"""
    <header class="gh-bar">
      <span class="gh-brand" data-i18n="app">{html.escape(i18n.text("app", lang))}</span>
      <nav class="gh-links">{links}</nav>
      <span class="gh-user" title="{html.escape(viewer.role)}">{html.escape(viewer.name)}</span>
      <button type="button" class="gh-lang btn btn-sm btn-outline-light" id="gh-lang"
        data-i18n="lang_toggle">{html.escape(i18n.text("lang_toggle", lang))}</button>
      <button type="button" class="gh-logout btn btn-sm btn-outline-light" id="gh-logout"
        data-i18n="logout">{html.escape(i18n.text("logout", lang))}</button>
    </header>"""


def base_config(viewer: Viewer) -> dict[str, Any]:
    """The part of every page's configuration that the common script reads."""
    return {
        "user": {"name": viewer.name, "role": viewer.role, "totp": viewer.has_totp},
        "idle_minutes": viewer.idle_minutes,
        "lang": viewer.lang,
        "messages": {lang: i18n.table(lang) for lang in i18n.LANGS},
        "errors_zh": [list(entry) for entry in messages_zh.ERRORS_ZH],
        "phrases_zh": messages_zh.PHRASES,
        "style": style.map_style(),
    }


@dataclass
class Page:
    """A page being built: its figure, and the map in it when it has one."""

    figure: Figure
    viewer: Viewer
    current: str
    map: folium.Map | None = None
    parts: list[str] = field(default_factory=list)

    def add_html(self, markup: str) -> None:
        """Markup for the body (panels, forms), after the top bar."""
        self.parts.append(markup)

    def finish(self, *, app: str, config: dict[str, Any], files: PageFiles) -> str:
        """The whole HTML document, with every asset served by gridhouse."""
        body = Element(top_bar(self.viewer, current=self.current) + "".join(self.parts))
        self.figure.html.add_child(body, name="gridhouse_body", index=0)
        holder: MacroElement = self.map if self.map is not None else _Holder(self.figure)
        start = PageApp(
            app=app,
            map_name=self.map.get_name() if self.map is not None else "null",
            config=base_config(self.viewer) | {"title": self.current} | config,
            files=files,
        )
        holder.add_child(start)
        assets.localize(self.figure)
        document = self.figure.render()
        lang_attr = "zh-CN" if self.viewer.lang == "zh" else "en"
        return document.replace("<html>", f'<html lang="{lang_attr}">', 1)


class _Holder(MacroElement):
    """Parent of the page app on pages without a map (renders nothing itself)."""

    def __init__(self, figure: Figure) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Holder"
        figure.add_child(self)


def new_page(viewer: Viewer, *, current: str) -> Page:
    """A page without a map (dashboards, the login page)."""
    figure = Figure(title=i18n.text(current, viewer.lang) if current in i18n.MESSAGES else None)
    figure.header.add_child(
        Element(
            '<meta name="viewport" content="width=device-width, initial-scale=1.0" />'
            '<link rel="icon" href="data:,">'
        ),
        name="viewport",
    )
    return Page(figure=figure, viewer=viewer, current=current)


def new_map_page(
    viewer: Viewer,
    *,
    current: str,
    bounds: tuple[float, float, float, float] | None,
    center: tuple[float, float] = (22.52, 113.93),
) -> Page:
    """A page holding a full-screen map (below the top bar), fitted to ``bounds`` when given
    (``min_lon, min_lat, max_lon, max_lat``), without any tile layer yet."""
    page = new_page(viewer, current=current)
    lat_lon = center
    if bounds is not None:
        lat_lon = ((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2)
    fmap = folium.Map(
        location=list(lat_lon), zoom_start=15, tiles=None, control_scale=True,
        max_zoom=20, min_zoom=3, zoom_control=True,
    )  # fmt: skip
    page.figure.add_child(fmap)
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    page.map = fmap
    return page
