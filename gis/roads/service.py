"""Loading road centrelines from a file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyogrio
import shapely
from sqlalchemy.orm import Session

from gis.crs import SourceCrs, transform_geometries
from gis.errors import Conflict
from gis.roads import queries
from gis.vector_files import choose_layer
from gis.vector_files import source_crs as crs_of

LINE_TYPES = (1, 5)  # LineString, MultiLineString


@dataclass
class RoadImportResult:
    read: int
    imported: int
    skipped: int
    replaced: int
    source: str


def import_roads(
    session: Session,
    *,
    path: Path,
    layer: str | None = None,
    crs: SourceCrs | None = None,
    replace: bool = False,
) -> RoadImportResult:
    """Load the lines of a file as roads (``highway`` and ``name`` columns when present).

    The file's name is the source: loading it again is refused unless ``replace``, which
    swaps the roads of that source.
    """
    layer = choose_layer(path, layer, preferred="roads")
    frame = pyogrio.read_dataframe(path, layer=layer)
    source_crs = crs_of(path, crs, frame.crs)
    source = f"{path.name}:{layer}"
    replaced = 0
    if queries.count_roads(session, source=source):
        if not replace:
            raise Conflict(f"roads from {source} are already loaded; use --replace", field="FILE")
        replaced = queries.delete_roads(session, source=source)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    present[present] &= ~shapely.is_empty(geoms[present])
    present[present] &= np.isin(shapely.get_type_id(geoms[present]), LINE_TYPES)
    coords_ok = np.array(
        [
            bool(np.isfinite(shapely.get_coordinates(g)).all()) if p else False
            for g, p in zip(geoms, present, strict=True)
        ]
    )
    keep = np.flatnonzero(present & coords_ok)
    converted = transform_geometries(geoms[keep], source_crs)
    highway = _values(frame, "highway", keep)
    names = _values(frame, "name", keep)
    rows = [
        {
            "highway": highway[i],
            "name": names[i],
            "source": source,
            "wkb": bytes(shapely.to_wkb(geom)),
        }
        for i, geom in enumerate(converted)
    ]
    imported = queries.insert_roads(session, rows=rows)
    session.flush()
    return RoadImportResult(
        read=len(frame),
        imported=imported,
        skipped=len(frame) - imported,
        replaced=replaced,
        source=source,
    )


def _values(frame: Any, column: str, keep: npt.NDArray[np.int64]) -> list[str | None]:
    if column not in frame.columns:
        return [None] * len(keep)
    values = frame[column].to_numpy()[keep]
    return [None if v is None or v != v else str(v)[:200] for v in values]
