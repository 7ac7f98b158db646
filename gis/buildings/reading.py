"""Reading building footprints from files (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF)
in batches, with their CRS, source ids and heights."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyogrio

from gis.crs import SourceCrs
from gis.errors import InvalidInput
from gis.vector_files import choose_layer, read_geometries, source_crs

ID_FIELDS = ("source_id", "osm_id", "osm_way_id", "id", "objectid", "fid")
HEIGHT_FIELDS = ("height_m", "height")
LEVELS_FIELDS = ("floors", "building:levels", "levels")
# OSM building=* values that are not permanent buildings (DESIGN §5, position 13)
TEMPORARY_KINDS = {"construction", "shed", "hut", "cabin", "temporary", "static_caravan"}
OTHER_KINDS = {"container", "kiosk", "roof", "carport", "ruins"}


@dataclass(frozen=True)
class FootprintSource:
    """An opened input: which layer, which CRS, how many features (−1 when unknown)."""

    path: Path
    layer: str
    crs: SourceCrs
    feature_count: int
    is_osm: bool


@dataclass
class FootprintBatch:
    """Up to ``batch_size`` features: row numbers (1-based, file order) and parallel arrays."""

    rows: npt.NDArray[np.int64]
    source_ids: list[str | None]
    geoms: npt.NDArray[Any]
    heights_m: npt.NDArray[np.float64]
    floors: npt.NDArray[np.float64]
    structure_classes: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, index: npt.NDArray[np.int64]) -> FootprintBatch:
        return FootprintBatch(
            rows=self.rows[index],
            source_ids=[self.source_ids[i] for i in index.tolist()],
            geoms=self.geoms[index],
            heights_m=self.heights_m[index],
            floors=self.floors[index],
            structure_classes=self.structure_classes[index],
        )


def open_footprints(path: Path, *, layer: str | None, crs: SourceCrs | None) -> FootprintSource:
    """Pick the layer and the CRS of a file: ``crs`` overrides the file's; none at all → refused."""
    is_osm = path.name.lower().endswith((".osm.pbf", ".pbf", ".osm"))
    if layer is None and is_osm:
        layer = "multipolygons"
    layer = choose_layer(path, layer, preferred="buildings")
    info = pyogrio.read_info(path, layer=layer)
    source = source_crs(path, crs, info.get("crs"))
    return FootprintSource(
        path=path,
        layer=layer,
        crs=source,
        feature_count=int(info.get("features", -1)) if not is_osm else -1,
        is_osm=is_osm,
    )


def read_batches(source: FootprintSource, *, batch_size: int) -> Iterator[FootprintBatch]:
    """Stream the layer in batches through GDAL's Arrow interface (no full-file load)."""
    where = "building IS NOT NULL" if source.is_osm else None
    row = 0
    with pyogrio.open_arrow(
        source.path, layer=source.layer, where=where, batch_size=batch_size, use_pyarrow=True
    ) as (meta, reader):
        geometry_name = meta.get("geometry_name") or "wkb_geometry"
        batches = iter(reader)
        while (record_batch := _next_batch(batches, source=source, after=row)) is not None:
            table = record_batch.to_pydict()
            count = record_batch.num_rows
            wkb = table.pop(geometry_name, None)
            if wkb is None:
                raise InvalidInput(f"{source.path.name} has no geometry column", field="FILE")
            yield FootprintBatch(
                rows=np.arange(row + 1, row + count + 1, dtype=np.int64),
                source_ids=source_ids(table, count),
                geoms=read_geometries(wkb),
                heights_m=_numbers(table, HEIGHT_FIELDS, count),
                floors=_numbers(table, LEVELS_FIELDS, count),
                structure_classes=_structure_classes(table, count),
            )
            row += count


def _next_batch(batches: Iterator[Any], *, source: FootprintSource, after: int) -> Any | None:
    """The reader's next record batch (``None`` at the end); a file that breaks off
    (truncated, damaged) is refused naming the feature it broke after, not with GDAL's bare
    I/O error."""
    try:
        return next(batches, None)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise InvalidInput(
            f"{source.path.name} cannot be read after feature {after:,} "
            f"(truncated or damaged? {reason})",
            field="FILE",
        ) from None


def source_ids(table: dict[str, list[Any]], count: int) -> list[str | None]:
    """The features' own ids (the first of :data:`ID_FIELDS` the file has), up to 100 characters."""
    for name in ID_FIELDS:
        if name in table:
            values = table[name]
            if (
                name == "osm_id" and "osm_way_id" in table
            ):  # GDAL: relations osm_id, ways osm_way_id
                values = [
                    f"r{rel}" if rel is not None else (f"w{way}" if way is not None else None)
                    for rel, way in zip(table["osm_id"], table["osm_way_id"], strict=True)
                ]
            return [None if value is None else str(value)[:100] for value in values]
    return [None] * count


def _numbers(
    table: dict[str, list[Any]], names: tuple[str, ...], count: int
) -> npt.NDArray[np.float64]:
    for name in names:
        if name in table:
            values = []
            for value in table[name]:
                try:
                    values.append(float(value) if value is not None else np.nan)
                except (TypeError, ValueError):
                    values.append(np.nan)
            result = np.asarray(values, dtype=np.float64)
            result[~np.isfinite(result) | (result <= 0)] = np.nan
            return result
    return np.full(count, np.nan)


def _structure_classes(table: dict[str, list[Any]], count: int) -> npt.NDArray[np.int64]:
    """1, 2 or 3 as the file says (1 when it says nothing); 0 for a value that is none of them,
    which the import rejects rather than store as 1."""
    if "structure_class" in table:
        values = np.asarray(
            [
                int(str(v).strip())
                if str(v).strip() in {"1", "2", "3"}
                else (1 if _blank(v) else 0)
                for v in table["structure_class"]
            ]
        )
        return values.astype(np.int64)
    if "building" in table:
        kinds = [str(value).lower() for value in table["building"]]
        return np.asarray(
            [3 if kind in OTHER_KINDS else 2 if kind in TEMPORARY_KINDS else 1 for kind in kinds],
            dtype=np.int64,
        )
    return np.ones(count, dtype=np.int64)


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""
    )
