"""Opening vector files the same way for every import: which layer, which CRS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyogrio
import pyogrio.errors

from gis.crs import SourceCrs, crs_from_file
from gis.errors import CrsRequired, InvalidInput


def choose_layer(path: Path, layer: str | None, *, preferred: str) -> str:
    """The layer to read: ``layer`` when given, else the only one, else the one named ``preferred``.

    A missing file, an unreadable one, an unknown layer or a choice left open is refused with
    the field to fix.
    """
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field="FILE")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as error:
        message = f"{path.name} is not a readable vector file ({error})"
        raise InvalidInput(message, field="FILE") from None
    if not layers:
        raise InvalidInput(f"{path.name} holds no layer", field="FILE")
    if layer is None:
        if len(layers) == 1:
            return layers[0]
        if preferred in layers:
            return preferred
        raise InvalidInput(
            f"{path.name} has several layers ({', '.join(layers)}); choose one with --layer",
            field="--layer",
        )
    if layer not in layers:
        raise InvalidInput(
            f"{path.name} has no layer {layer!r} (layers: {', '.join(layers)})", field="--layer"
        )
    return layer


def source_crs(path: Path, crs: SourceCrs | None, file_crs: Any) -> SourceCrs:
    """``crs`` when named (it overrides the file's), else the file's; neither → refused."""
    source = crs if crs is not None else crs_from_file(file_crs)
    if source is None:
        raise CrsRequired(
            f"{path.name} declares no CRS; name it with --crs (an EPSG code, GCJ02 or BD09)",
            field="--crs",
        )
    return source
