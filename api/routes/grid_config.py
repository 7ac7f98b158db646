"""The grid class configuration of the running app (settings' file, read once)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import Request

from gis.grids.classes import ClassConfig


@lru_cache(maxsize=4)
def _load(path: Path | None) -> ClassConfig:
    return ClassConfig.load(path)


def class_config(request: Request) -> ClassConfig:
    """Defaults, overridden by ``GRIDHOUSE_GRID_CLASSES_FILE`` when set."""
    return _load(request.app.state.settings.grid_classes_file)
