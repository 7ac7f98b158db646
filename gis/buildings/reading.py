"""Reading building footprints from files (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF)
in batches, with their CRS, source ids and heights."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyogrio

from gis.crs import SourceCrs
from gis.errors import InvalidInput
from gis.text import DECIMAL
from gis.vector_files import choose_layer, read_geometries, source_crs

ID_FIELDS = ("source_id", "osm_id", "osm_way_id", "id", "objectid", "fid")
HEIGHT_FIELDS = ("height_m", "height")
LEVELS_FIELDS = ("floors", "building:levels", "levels")
# OSM building=* values that are not permanent buildings (DESIGN §5, position 13)
MAX_SOURCE_ID = 100  # buildings.source_id
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
    # why a row's attributes are no building's (by position in the batch): refused by the import
    problems: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, index: npt.NDArray[np.int64]) -> FootprintBatch:
        positions = index.tolist()
        return FootprintBatch(
            rows=self.rows[index],
            source_ids=[self.source_ids[i] for i in positions],
            geoms=self.geoms[index],
            heights_m=self.heights_m[index],
            floors=self.floors[index],
            structure_classes=self.structure_classes[index],
            problems={
                new: self.problems[old] for new, old in enumerate(positions) if old in self.problems
            },
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
            problems: dict[int, str] = {}
            # OSM tags are free text ("3;4", "approx. 10"): what is not a number is left out
            strict = None if source.is_osm else problems
            yield FootprintBatch(
                rows=np.arange(row + 1, row + count + 1, dtype=np.int64),
                source_ids=_source_ids(table, count, problems),
                geoms=read_geometries(wkb),
                heights_m=_numbers(table, HEIGHT_FIELDS, count, strict),
                floors=_numbers(table, LEVELS_FIELDS, count, strict),
                structure_classes=_structure_classes(table, count),
                problems=problems,
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


def _source_ids(
    table: dict[str, list[Any]], count: int, problems: dict[int, str]
) -> list[str | None]:
    """Each row's id in the file (its first id column; OSM: ``w``/``r`` and the number), one
    longer than the column holds noted in ``problems`` (cut, it would name another row)."""
    ids = _raw_source_ids(table, count)
    for i, value in enumerate(ids):
        if value is not None and len(value) > MAX_SOURCE_ID:
            problems.setdefault(
                i, f"source id of {len(value):,} characters: at most {MAX_SOURCE_ID}"
            )
            ids[i] = value[:MAX_SOURCE_ID]
    return ids


def source_ids(table: dict[str, list[Any]], count: int) -> list[str | None]:
    """The features' own ids (the first of :data:`ID_FIELDS` the file has), up to 100
    characters (the roads import's)."""
    return [None if v is None else v[:MAX_SOURCE_ID] for v in _raw_source_ids(table, count)]


def _raw_source_ids(table: dict[str, list[Any]], count: int) -> list[str | None]:
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
            return [None if value is None else str(value) for value in values]
    return [None] * count


def _numbers(
    table: dict[str, list[Any]],
    names: tuple[str, ...],
    count: int,
    problems: dict[int, str] | None,
) -> npt.NDArray[np.float64]:
    """The first of the ``names`` columns as positive numbers; blank or 0 is unknown (NaN).
    Anything else that is not a positive number (text, ``1_0``, ``inf``, a negative) is noted
    in ``problems`` (``None``: left out silently, for OSM's free-text tags)."""
    for name in names:
        if name in table:
            result = np.full(count, np.nan)
            for i, value in enumerate(table[name]):
                if value is None:
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    if value != value or value == 0:  # NaN in a numeric column: blank
                        continue
                    number = float(value)
                else:
                    text = str(value).strip()
                    if not text:
                        continue
                    number = float(text) if DECIMAL.fullmatch(text) else np.nan
                    if number == 0:
                        continue
                if np.isfinite(number) and number > 0:
                    result[i] = number
                elif problems is not None:
                    problems.setdefault(i, f"{name} {str(value)[:40]!r} is not a positive number")
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
