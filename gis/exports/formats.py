"""The layers and file formats of exports (light: the CLI imports them to parse its options)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from gis.errors import InvalidInput


class ExportLayer(StrEnum):
    BUILDINGS = "buildings"
    HOUSES = "houses"
    GRIDS = "grids"
    DIVISIONS = "divisions"
    PEOPLE = "people"


class ExportFormat(StrEnum):
    GPKG = "gpkg"
    GEOJSON = "geojson"
    CSV = "csv"
    XLSX = "xlsx"

    @classmethod
    def named_by(cls, path: Path) -> ExportFormat | None:
        """The format a file name's suffix names, ``None`` when it names none."""
        suffix = path.suffix.lower().lstrip(".")
        return next((f for f in cls if f.value == {"json": "geojson"}.get(suffix, suffix)), None)

    @classmethod
    def from_path(cls, path: Path) -> ExportFormat:
        """The format a file name's suffix names (``.json`` is GeoJSON)."""
        suffix = path.suffix.lower().lstrip(".")
        try:
            return cls({"json": "geojson"}.get(suffix, suffix))
        except ValueError:
            raise InvalidInput(
                f"cannot tell the format from {path.name!r}: pass --format", field="--format"
            ) from None
