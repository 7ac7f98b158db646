"""The look of the pages: colours of grid classes, buildings, roads and heat cells, in one place.

The browser scripts (``maps/static/*.js``) draw with these values: pages pass :func:`map_style`
to them as JSON, so a colour is changed here and nowhere else.
"""

from __future__ import annotations

from typing import Any

GRID_CLASS_COLOURS: dict[str, str] = {
    "reinforced": "#d7301f",  # 加强型
    "key": "#fc8d59",  # 重点型
    "regular": "#4393c3",  # 常规型
    "unclassified": "#8c8c8c",
}
"""Outline and fill colour of a grid per class (a colour-blind-safe diverging scheme)."""

GRID_CLASS_ORDER = ("reinforced", "key", "regular", "unclassified")

BUILDING_COLOUR = "#5b5f66"
BUILDING_FILL = "#c9ccd1"
BUILDING_SELECTED = "#ffcc00"
ROAD_COLOURS: dict[str, str] = {
    "motorway": "#e892a2",
    "trunk": "#f9b29c",
    "primary": "#fcd6a4",
    "secondary": "#f7fabf",
    "tertiary": "#ffffff",
    "default": "#ffffff",
}
ROAD_CASING = "#b9b3a7"
OFFLINE_BACKGROUND = "#f2efe9"
"""The paper colour under the roads when no base map is reachable (OpenStreetMap's land)."""

HEAT_RAMP = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
"""Floating residents per cell, few → many."""
COUNT_RAMP = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
"""Buildings or grids per cell at low zooms, few → many."""

PLAN_UNCHANGED = ("#1f3a5f", "#90caf9")
PLAN_CHANGED = ("#c2185b", "#f8bbd0")
"""Outline and fill of a plan's grids, unchanged and changed (or new)."""

QUALITY_OK = "#2e7d32"
QUALITY_BAD = "#c62828"
CHART_COLOURS = ("#4393c3", "#fc8d59", "#d7301f", "#66bd63", "#984ea3", "#8c8c8c")

BAR_HEIGHT_PX = 48
PHONE_MAX_WIDTH_PX = 576


def map_style() -> dict[str, Any]:
    """Everything the map scripts need to draw, as JSON-ready values."""
    return {
        "gridClassColours": GRID_CLASS_COLOURS,
        "gridClassOrder": list(GRID_CLASS_ORDER),
        "building": {"colour": BUILDING_COLOUR, "fill": BUILDING_FILL},
        "buildingSelected": BUILDING_SELECTED,
        "roads": ROAD_COLOURS,
        "roadCasing": ROAD_CASING,
        "offlineBackground": OFFLINE_BACKGROUND,
        "heatRamp": list(HEAT_RAMP),
        "countRamp": list(COUNT_RAMP),
        "plan": {
            "unchanged": PLAN_UNCHANGED[0],
            "unchangedFill": PLAN_UNCHANGED[1],
            "changed": PLAN_CHANGED[0],
            "changedFill": PLAN_CHANGED[1],
        },
        "qualityOk": QUALITY_OK,
        "qualityBad": QUALITY_BAD,
        "chartColours": list(CHART_COLOURS),
    }
