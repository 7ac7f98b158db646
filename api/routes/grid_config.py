"""The grid class configuration of the running app: the defaults, or
``GRIDHOUSE_GRID_CLASSES_FILE`` read and checked once, when the app is made (``api.main``), so a
broken file stops ``gridhouse serve`` with its reason instead of failing requests."""

from __future__ import annotations

from fastapi import Request

from gis.grids.classes import ClassConfig


def class_config(request: Request) -> ClassConfig:
    """Defaults, overridden by ``GRIDHOUSE_GRID_CLASSES_FILE`` when set."""
    config: ClassConfig = request.app.state.class_config
    return config
