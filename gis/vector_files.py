"""Opening vector files the same way for every import: which layer, which CRS, the features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import numpy.typing as npt
import pyogrio
import pyogrio.errors
import shapely

from gis.crs import SourceCrs, crs_from_file
from gis.errors import CrsRequired, InvalidInput


def choose_layer(path: Path, layer: str | None, *, preferred: str) -> str:
    """The layer to read: ``layer`` when given, else the only one, else the one named ``preferred``.

    A missing file, an unreadable one, an unknown layer or a choice left open is refused with
    the field to fix.
    """
    layers = vector_layers(path)
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


def vector_layers(path: Path, *, field: str = "FILE") -> list[str]:
    """The layers of a vector file; a missing or unreadable file, or one with no layer, is
    refused naming ``field`` (the option or argument that gave the path)."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field=field)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as error:
        message = f"{path.name} is not a readable vector file ({_first_line(error)})"
        raise InvalidInput(message, field=field) from None
    if not layers:
        raise InvalidInput(f"{path.name} holds no layer", field=field)
    return layers


@dataclass
class FeatureTable:
    """The features of one layer, in file order: attribute columns, geometries (``None`` where
    missing or unreadable), the geometries' WKB as read (to tell why one is unreadable) and the
    CRS the layer declares."""

    columns: dict[str, list[Any]]
    geoms: npt.NDArray[Any]
    wkb: list[bytes | None]
    crs: Any

    def __len__(self) -> int:
        return len(self.wkb)


def read_features(path: Path, *, layer: str, field: str = "FILE") -> FeatureTable:
    """Every feature of ``layer`` (GDAL's Arrow interface: a geometry GEOS cannot build, such as
    a line of one point, is ``None`` for the checks to refuse by row, not an exception)."""
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        message = f"{path.name} cannot be read (truncated or damaged? {_first_line(error)})"
        raise InvalidInput(message, field=field) from None
    columns = table.to_pydict()
    wkb = columns.pop(meta.get("geometry_name") or "wkb_geometry", None)
    if wkb is None:
        raise InvalidInput(f"{path.name} has no geometry column", field=field)
    return FeatureTable(columns=columns, geoms=read_geometries(wkb), wkb=wkb, crs=meta.get("crs"))


def read_frame(path: Path, *, layer: str, field: str = "FILE") -> Any:
    """Every feature of ``layer`` as a GeoDataFrame (``geopandas``); a damaged file, or one whose
    layer has no geometry (a CSV of plain columns), is refused naming ``field``."""
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        message = f"{path.name} cannot be read (truncated or damaged? {_first_line(error)})"
        raise InvalidInput(message, field=field) from None
    if not isinstance(frame, geopandas.GeoDataFrame):  # pandas' own frame: no geometry column
        raise InvalidInput(f"{path.name} has no geometry column", field=field)
    return frame


def read_geometries(wkb: list[Any]) -> npt.NDArray[Any]:
    """Shapely geometries of WKB values; one that cannot be read is None, and coordinates that
    are not numbers (NaN) stay for the checks to refuse by row, without numpy's warning on the
    terminal."""
    with np.errstate(invalid="ignore"):
        return np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
