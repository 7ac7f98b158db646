"""Checking footprints before they become buildings: valid polygons in the source CRS, still
valid once converted to EPSG:4490, and plausible as buildings (structure class, height, floors,
area, not the same footprint twice). What fails is a :class:`Rejection` with its reason, written
to the rejected-rows file."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from gis.buildings.reading import FootprintBatch, FootprintSource
from gis.crs import STORAGE_SRID, SourceCrs, transform_geometries
from gis.errors import InvalidInput
from gis.geometry import check_polygons, mend_conversion_artifacts


@dataclass
class Rejection:
    row: int
    source_id: str | None
    reason: str


@dataclass
class PreparedBatch:
    """Footprints of one batch that passed the checks, in EPSG:4490, with their points on
    surface; ``rejections`` holds the others."""

    batch: FootprintBatch
    rejections: list[Rejection]
    repaired_ids: list[str]


MAX_HEIGHT_M = 1000.0  # the tallest building is 828 m
MAX_FLOORS = 200
MIN_AREA_M2 = 1.0
METRES_PER_DEGREE = 111_320.0


def row_problems(
    batch: FootprintBatch, geoms: npt.NDArray[Any], rows: npt.NDArray[np.int64]
) -> dict[int, str]:
    """Why rows whose polygons passed (``geoms`` in EPSG:4490) are still no building: what the
    reading found (a height or floors that are no positive number, a source id too long), a
    structure class other than 1, 2 or 3, a height or a floor count no building has, a footprint
    under 1 m², or the same footprint as an earlier row of the batch (it would get a second
    code)."""
    problems: dict[int, str] = {}
    if rows.size == 0:
        return problems
    shapes = geoms[rows]
    lat = np.radians(shapely.get_y(shapely.centroid(shapes)))
    areas_m2 = shapely.area(shapes) * METRES_PER_DEGREE**2 * np.cos(lat)
    # the same outline: coordinates equal to 1e-7° (~1 cm), in the same normal order
    rounded = shapely.transform(shapes, lambda xy: np.round(xy, 7))
    keys = shapely.to_wkb(shapely.normalize(rounded))
    seen: dict[bytes, int] = {}
    for position, i in enumerate(rows.tolist()):
        if i in batch.problems:
            problems[i] = batch.problems[i]
        elif batch.structure_classes[i] == 0:
            problems[i] = "structure_class is not 1, 2 or 3"
        elif batch.heights_m[i] > MAX_HEIGHT_M:
            problems[i] = f"height_m {batch.heights_m[i]:g} is more than {MAX_HEIGHT_M:g} m"
        elif batch.floors[i] > MAX_FLOORS:
            problems[i] = f"floors {batch.floors[i]:g} is more than {MAX_FLOORS}"
        elif areas_m2[position] < MIN_AREA_M2:
            problems[i] = f"the footprint is {areas_m2[position]:.2g} m², under {MIN_AREA_M2:g} m²"
        elif keys[position] in seen:
            problems[i] = f"the same footprint as row {int(batch.rows[seen[keys[position]]])}"
        else:
            seen[keys[position]] = i
    return problems


def _refuse_degrees_in_metres(geoms: npt.NDArray[Any], crs: SourceCrs) -> None:
    """Coordinates that all fit within ±180/±90 in a CRS of metres are degrees given the wrong
    CRS (every footprint would be a speck near the CRS's origin): the file is refused."""
    coords = shapely.get_coordinates(geoms)
    if len(coords) and (np.abs(coords) <= [180, 90]).all():
        raise InvalidInput(
            f"the coordinates look like degrees (lon/lat), but {crs.label} is in metres: give "
            "the file's CRS with --crs (EPSG:4326, EPSG:4490, GCJ02 or BD09)",
            field="--crs",
        )


def prepare_batch(batch: FootprintBatch, *, source: FootprintSource, repair: bool) -> PreparedBatch:
    """Check the geometries in the source CRS, convert the good ones, re-check after conversion."""
    if not source.crs.is_geographic:
        _refuse_degrees_in_metres(batch.geoms, source.crs)
    check = check_polygons(batch.geoms, repair=repair, is_geographic=source.crs.is_geographic)
    index = np.flatnonzero(check.accepted)
    converted = check.geoms[index]
    if index.size and source.crs.epsg != STORAGE_SRID:  # nothing to convert for EPSG:4490
        converted, broken = mend_conversion_artifacts(transform_geometries(converted, source.crs))
        for position in np.flatnonzero(broken):
            check.refuse(int(index[position]), "invalid after conversion to EPSG:4490")
    geoms = check.geoms.copy()
    geoms[index] = converted
    for i, reason in row_problems(batch, geoms, np.flatnonzero(check.accepted)).items():
        check.refuse(i, reason)
    keep = np.flatnonzero(check.accepted)
    rejections = [
        Rejection(int(batch.rows[i]), batch.source_ids[i], reason)
        for i, reason in sorted(check.reasons.items())
    ]
    repaired_ids = [
        batch.source_ids[i] or f"row {batch.rows[i]}"
        for i in np.flatnonzero(check.repaired & check.accepted)
    ]
    kept = batch.take(keep)
    kept.geoms = shapely.set_srid(geoms[keep], STORAGE_SRID)
    return PreparedBatch(batch=kept, rejections=rejections, repaired_ids=repaired_ids)


def write_rejections(path: Path, rejections: list[Rejection]) -> None:
    """The rejected-rows file: row, source id, reason (always written, header only when none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "source_id", "reason"])
        for rejection in sorted(rejections, key=lambda r: r.row):
            writer.writerow([rejection.row, rejection.source_id or "", rejection.reason])
