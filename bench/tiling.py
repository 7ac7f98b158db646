"""Tiling the real Nanshan footprints into a city of any size: shifted copies on a fixed grid.

Tile 0 is Nanshan where it lies, with the demo's 8 stand-in communities and their codes (so
tile 0 is the demo district). Tile ``t`` sits at column ``t % TILE_COLUMNS`` and row
``t // TILE_COLUMNS``, ``TILE_SPACING_DEG`` apart, east and north of tile 0. A tile's place and its
community codes never depend on the size asked for: the 100,000-building file is the first 19
tiles of the 1,000,000-building city and finds its communities where the city put them.

Files (GeoPackage, EPSG:4490) written under ``bench/out/``:

- ``{stem}.gpkg`` layer ``buildings``: ``source_id`` (``t{tile}-{original id}``), ``height_m``;
- ``{stem}-communities.gpkg`` layer ``communities``: ``code``, ``name``, ``tile``: the tile's 8
  community polygons labelled with real 12-digit village codes, ready for
  ``gridhouse import divisions ../shared/data/divisions --boundaries FILE``;
- ``{stem}.json``: what was generated, by which generator version (a re-run reuses current files).

The city generator of issue 8 (grids, houses, residents) builds on :func:`load_base_tile`,
:func:`tile_offsets` and :func:`tile_buildings`.

Run ``python -m bench.tiling --help``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pyogrio
import shapely

from gis.crs import STORAGE_SRID, parse_crs, transform_geometries
from gis.demo import DEMO_COMMUNITIES, DEMO_STREET, NANSHAN_CRS, NANSHAN_FILE
from gis.divisions.derive import MAJOR_ROADS, derive_communities
from gis.geometry import mend_conversion_artifacts, to_multipolygons

GENERATOR_VERSION = 2
TILE_COLUMNS = 16
TILE_SPACING_DEG = 0.05  # Nanshan's derived communities span 0.049° x 0.048°: copies never meet
COMMUNITY_MARGIN_DEG = 0.002  # as the demo: the community extent is the footprints' bbox + this
SHENZHEN_PREFIX = "4403"
METRES_PER_DEG_LAT = 110_574.0  # WGS 84 / CGCS2000 near 22.5°N; enough for "about 1 m" shifts
METRES_PER_DEG_LON_EQUATOR = 111_320.0
DEFAULT_BUILDINGS = 1_000_000
GPKG_VERSION = "1.3"  # pyogrio's GDAL writes 1.4, which Debian's GDAL 3.6 (ogr2ogr) warns about

Geoms = npt.NDArray[Any]


@dataclass(frozen=True)
class BaseTile:
    """The Nanshan footprints in EPSG:4490 (MultiPolygons, all valid) and the 8 derived
    community polygons (the demo's, in the demo's order)."""

    footprints: Geoms
    source_ids: npt.NDArray[np.str_]
    heights_m: npt.NDArray[np.int32]
    communities: Geoms
    repaired_ids: tuple[str, ...]
    dropped_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.footprints)


@dataclass(frozen=True)
class TiledBuildings:
    """``count`` footprints: copy ``tiles[i]`` of base footprint ``originals[i]``."""

    geoms: Geoms
    source_ids: npt.NDArray[np.str_]
    heights_m: npt.NDArray[np.int32]
    tiles: npt.NDArray[np.int64]
    originals: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass(frozen=True)
class CityFiles:
    """The files of one generated city (see the module docstring)."""

    buildings: Path
    communities: Path
    metadata: Path
    buildings_count: int
    tiles: int
    reused: bool


def load_base_tile(data_dir: Path) -> BaseTile:
    """Read Nanshan once: repair the invalid polygons in GCJ-02 (as ``--repair`` would), convert
    to EPSG:4490, mend what the conversion pinched (as the import does), drop what is still
    invalid, and derive the demo's community polygons."""
    path = data_dir / NANSHAN_FILE
    gcj = parse_crs(NANSHAN_CRS)
    frame = pyogrio.read_dataframe(path, layer="buildings")
    raw = np.asarray(frame.geometry.values)
    source_ids = np.asarray(frame["source_id"].astype(str).to_numpy(), dtype=np.str_)
    heights = np.asarray(frame["height_m"].to_numpy(), dtype=np.int32)

    geoms = raw.copy()
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)
    converted = transform_geometries(geoms, gcj)
    pinched = ~shapely.is_valid(converted)
    converted, broken = mend_conversion_artifacts(converted)  # as the import mends them
    keep = polygonal & ~broken & shapely.is_valid(converted)
    footprints = to_multipolygons(converted[keep], np.ones(int(keep.sum()), dtype=bool))

    communities = derive_base_communities(data_dir, footprints_gcj=raw)
    points = shapely.point_on_surface(footprints)
    inside, _ = shapely.STRtree(communities).query(points, predicate="within")
    if np.unique(inside).size != len(points):
        raise RuntimeError(
            f"{len(points) - np.unique(inside).size} Nanshan footprints lie outside every "
            "derived community: the tiled city would not import completely"
        )
    return BaseTile(
        footprints=footprints,
        source_ids=source_ids[keep],
        heights_m=heights[keep],
        communities=communities,
        repaired_ids=tuple(source_ids[(invalid | pinched) & keep].tolist()),
        dropped_ids=tuple(source_ids[~keep].tolist()),
    )


def derive_base_communities(data_dir: Path, *, footprints_gcj: Geoms) -> Geoms:
    """The demo's community polygons (``gis.demo.derive_nanshan_communities`` without storing
    them): blocks cut by major roads, evened out to 8, in EPSG:4490, as MultiPolygons."""
    gcj = parse_crs(NANSHAN_CRS)
    roads = pyogrio.read_dataframe(data_dir / NANSHAN_FILE, layer="roads")
    major = roads[roads["highway"].isin(MAJOR_ROADS)]
    road_geoms = transform_geometries(np.asarray(major.geometry.values), gcj)
    footprints = transform_geometries(footprints_gcj, gcj)
    points = shapely.point_on_surface(shapely.make_valid(footprints))
    extent = shapely.box(*shapely.total_bounds(footprints)).buffer(
        COMMUNITY_MARGIN_DEG, join_style="mitre"
    )
    blocks = derive_communities(road_geoms, points=points, extent=extent, count=DEMO_COMMUNITIES)
    span = np.ptp(shapely.bounds(np.asarray(blocks)).reshape(-1, 2, 2), axis=(0, 1))
    if (span >= TILE_SPACING_DEG).any():
        raise RuntimeError(f"the communities span {span}°: raise TILE_SPACING_DEG above that")
    return np.asarray([shapely.multipolygons(shapely.get_parts(block)) for block in blocks])


def tiles_needed(buildings: int, *, per_tile: int) -> int:
    """How many tiles hold ``buildings`` footprints (the last one may be partial)."""
    if buildings < 1:
        raise ValueError(f"a city needs at least 1 building, got {buildings}")
    return math.ceil(buildings / per_tile)


def tile_offsets(tiles: int) -> npt.NDArray[np.float64]:
    """The (east, north) shift in degrees of tiles ``0 … tiles-1``, shape ``(tiles, 2)``."""
    index = np.arange(tiles)
    grid = np.column_stack([index % TILE_COLUMNS, index // TILE_COLUMNS])
    return grid.astype(np.float64) * TILE_SPACING_DEG


def shift_geometries(geoms: Geoms, offsets: npt.NDArray[np.float64]) -> Geoms:
    """Translate geometry ``i`` by ``offsets[i]`` (degrees), all vertices in one numpy pass.

    >>> shift_geometries(np.array([shapely.Point(1, 2)]), np.array([[0.5, -1.0]]))[0].wkt
    'POINT (1.5 1)'
    """
    step = np.repeat(offsets, shapely.get_num_coordinates(geoms), axis=0)
    return np.asarray(shapely.transform(geoms, lambda coords: coords + step))


def metres_to_degrees(
    east_m: float, north_m: float, *, latitudes: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(east, north) metres as degree offsets at each latitude, shape ``(n, 2)`` (±0.5%)."""
    east = east_m / (METRES_PER_DEG_LON_EQUATOR * np.cos(np.radians(latitudes)))
    north = np.full(len(latitudes), north_m / METRES_PER_DEG_LAT)
    return np.column_stack([east, north])


def tile_buildings(
    base: BaseTile, *, count: int, shift_m: tuple[float, float] = (0.0, 0.0)
) -> TiledBuildings:
    """The first ``count`` footprints of the city: whole tiles in order, base order inside a
    tile; ``shift_m`` (east, north) moves every footprint further, as a re-survey might."""
    per_tile = len(base)
    tiles = tiles_needed(count, per_tile=per_tile)
    index = np.arange(count, dtype=np.int64)
    tile, original = np.divmod(index, per_tile)
    offsets = tile_offsets(tiles)[tile]
    if shift_m != (0.0, 0.0):
        bounds = shapely.bounds(base.footprints)
        latitudes = ((bounds[:, 1] + bounds[:, 3]) / 2)[original] + offsets[:, 1]
        offsets = offsets + metres_to_degrees(*shift_m, latitudes=latitudes)
    prefix = np.strings.add("t", tile.astype(np.str_))
    source_ids = np.strings.add(np.strings.add(prefix, "-"), base.source_ids[original])
    return TiledBuildings(
        geoms=shift_geometries(base.footprints[original], offsets),
        source_ids=source_ids,
        heights_m=base.heights_m[original],
        tiles=tile,
        originals=original,
    )


def tile_communities(base: BaseTile, *, tiles: int) -> Geoms:
    """The community polygons of tiles ``0 … tiles-1``, tile by tile, base order inside."""
    per_tile = len(base.communities)
    offsets = np.repeat(tile_offsets(tiles), per_tile, axis=0)
    return shift_geometries(np.tile(base.communities, tiles), offsets)


def community_codes(villages_csv: Path, *, tiles: int, per_tile: int) -> list[tuple[str, str]]:
    """(code, name) of real village-level divisions for ``tiles`` tiles, ``per_tile`` each.

    Tile 0 gets the demo's codes (the first communities of 蛇口街道 in code order); the others
    follow in code order, Shenzhen (4403…) first, then the rest of Guangdong. Every code is
    used once.
    """
    with villages_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["code"].strip(): row for row in csv.DictReader(handle)}
    demo = sorted(code for code, row in rows.items() if row["streetCode"].strip() == DEMO_STREET)
    first = demo[:per_tile]
    rest = sorted(
        set(rows) - set(first), key=lambda code: (not code.startswith(SHENZHEN_PREFIX), code)
    )
    ordered = first + rest
    needed = tiles * per_tile
    if needed > len(ordered):
        raise ValueError(
            f"{tiles:,} tiles need {needed:,} community codes; {villages_csv.name} has "
            f"{len(ordered):,} (about {len(ordered) // per_tile:,} tiles)"
        )
    return [(code, rows[code]["name"].strip()) for code in ordered[:needed]]


def write_buildings(path: Path, buildings: TiledBuildings) -> None:
    """Write the ``buildings`` layer through GDAL's Arrow interface (no per-feature Python)."""
    table = pa.table(
        {
            "source_id": pa.array(buildings.source_ids),
            "height_m": pa.array(buildings.heights_m, type=pa.int32()),
            "geom": pa.array(shapely.to_wkb(buildings.geoms), type=pa.binary()),
        }
    )
    _write_layer(path, table, layer="buildings")


def write_communities(
    path: Path, *, codes: list[tuple[str, str]], geoms: Geoms, per_tile: int
) -> None:
    """Write the ``communities`` layer: code, name, tile and the polygon."""
    table = pa.table(
        {
            "code": pa.array([code for code, _ in codes], type=pa.string()),
            "name": pa.array([name for _, name in codes], type=pa.string()),
            "tile": pa.array(np.arange(len(codes)) // per_tile, type=pa.int32()),
            "geom": pa.array(shapely.to_wkb(geoms), type=pa.binary()),
        }
    )
    _write_layer(path, table, layer="communities")


def _write_layer(path: Path, table: pa.Table, *, layer: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.gpkg")
    partial.unlink(missing_ok=True)
    pyogrio.write_arrow(
        table,
        partial,
        layer=layer,
        driver="GPKG",
        geometry_name="geom",
        geometry_type="MultiPolygon",
        crs=f"EPSG:{STORAGE_SRID}",
        dataset_options={"VERSION": GPKG_VERSION},
    )
    os.replace(partial, path)


def city_stem(buildings: int, shift_m: tuple[float, float] = (0.0, 0.0)) -> str:
    """``city-1000000``, or ``city-100000-shifted-1m`` for a shifted copy."""
    stem = f"city-{buildings}"
    if shift_m != (0.0, 0.0):
        stem += f"-shifted-{math.hypot(*shift_m):g}m"
    return stem


def make_city_files(
    *,
    buildings: int,
    out_dir: Path,
    data_dir: Path,
    shift_m: tuple[float, float] = (0.0, 0.0),
    force: bool = False,
    base: BaseTile | None = None,
) -> CityFiles:
    """Write (or reuse, when current) the files of a city of ``buildings`` footprints."""
    stem = city_stem(buildings, shift_m)
    files = {
        "buildings": out_dir / f"{stem}.gpkg",
        "communities": out_dir / f"{stem}-communities.gpkg",
        "metadata": out_dir / f"{stem}.json",
    }
    wanted = {"generator_version": GENERATOR_VERSION, "buildings": buildings, "shift_m": shift_m}
    if not force and all(path.exists() for path in files.values()):
        metadata = json.loads(files["metadata"].read_text())
        if {key: metadata.get(key) for key in wanted} == json.loads(json.dumps(wanted)):
            return CityFiles(
                **files, buildings_count=buildings, tiles=metadata["tiles"], reused=True
            )
    base = base if base is not None else load_base_tile(data_dir)
    tiled = tile_buildings(base, count=buildings, shift_m=shift_m)
    tiles = int(tiled.tiles[-1]) + 1
    per_tile = len(base.communities)
    codes = community_codes(
        data_dir / "divisions" / "villages-guangdong.csv", tiles=tiles, per_tile=per_tile
    )
    invalid = int(np.count_nonzero(~shapely.is_valid(tiled.geoms)))  # shifts round coordinates
    write_buildings(files["buildings"], tiled)
    write_communities(
        files["communities"],
        codes=codes,
        geoms=tile_communities(base, tiles=tiles),
        per_tile=per_tile,
    )
    metadata = {
        **wanted,
        "tiles": tiles,
        "tile_columns": TILE_COLUMNS,
        "tile_spacing_deg": TILE_SPACING_DEG,
        "footprints_per_tile": len(base),
        "communities": len(codes),
        "invalid_after_shift": invalid,
        "repaired_source_ids": list(base.repaired_ids),
        "dropped_source_ids": list(base.dropped_ids),
        "crs": f"EPSG:{STORAGE_SRID}",
        "source": f"{NANSHAN_FILE} (as {NANSHAN_CRS})",
    }
    files["metadata"].write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return CityFiles(**files, buildings_count=buildings, tiles=tiles, reused=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.tiling",
        description="Tile the real Nanshan footprints into a city GeoPackage (EPSG:4490).",
    )
    parser.add_argument("--buildings", type=int, default=DEFAULT_BUILDINGS)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--shift-m", type=float, nargs=2, default=(0.0, 0.0), metavar=("EAST", "NORTH"),
        help="move every footprint this many metres further (a re-survey's offset)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="regenerate even if current")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    city = make_city_files(
        buildings=args.buildings, out_dir=args.out, data_dir=args.data,
        shift_m=(args.shift_m[0], args.shift_m[1]), force=args.force,
    )  # fmt: skip
    verb = "reused" if city.reused else f"wrote in {time.perf_counter() - started:.1f} s"
    print(f"{verb}: {city.buildings} ({city.buildings_count:,} buildings, {city.tiles} tiles)")
    print(f"        {city.communities} ({city.tiles * DEMO_COMMUNITIES:,} communities)")
    print(
        "attach the communities with: gridhouse import divisions "
        f"{args.data / 'divisions'} --boundaries {city.communities}"
    )


if __name__ == "__main__":
    main()
