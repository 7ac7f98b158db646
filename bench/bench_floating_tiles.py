"""Floating-residents tiles: the layer's counts from the buildings' kept counts
(:func:`gis.tiles.queries.floating_points`) against a count from scratch of the same tile (every
primary residence of a floating person in the buildings around it), on the occupants
benchmark's district (100,000 buildings, ~1.6M generated residents, ``bench/people_city.py``).

For each zoom, the tile holding the district's centre is counted both ways, in alternating order,
several times; both must give the same lattice points and counts (the benchmark stops
otherwise), and the ratio of the medians is printed (kept / from scratch: below 1 is faster).
Both run in-process in a transaction of their own, committed (the kept counts store what they
count again). ``--stale`` first marks every kept row stale, and times the first tile (which then
counts the whole district again) on its own.

Runs on the occupants benchmark's cluster (default ``GRIDHOUSE_DATA_DIR=.gridhouse-people``, port
55460; the dev cluster is refused). ``python -m bench.bench_floating_tiles --help`` lists the
options.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text, true
from sqlalchemy.orm import Session, sessionmaker

from bench.bench_occupants import configure_environment
from bench.city_tiles import tile_of
from gis.clock import today_in_china
from gis.tiles.queries import WORLD_HALF_M, floating_points
from gis.tiles.service import hexagon_lattice

ROOT = Path(__file__).resolve().parents[1]
ZOOMS = (8, 10, 11, 12, 13, 14, 15)

FROM_SCRATCH = text(
    """
    WITH env AS (
        SELECT ST_Transform(
                   ST_TileEnvelope(:z, :x, :y,
                                   ST_MakeEnvelope(-:half, -:half, :half, :half, 3857), :margin),
                   4490) AS e
    )
    SELECT floor(ST_X(pt) / :snap) AS ix, floor(ST_Y(pt) / :snap) AS iy, sum(n) AS n
    FROM (
        SELECT ST_PointOnSurface(b.geom) AS pt, count(*) AS n
        FROM env
        JOIN buildings b ON b.geom && env.e AND b.status <> 'retired'
        JOIN houses h ON h.building_uid = b.uid AND h.status = 'active'
        JOIN residences r ON r.house_uid = h.uid AND r.is_primary AND r.period @> :on
        JOIN people p ON p.uid = r.person_uid AND p.category = 'floating'
        GROUP BY b.uid
    ) AS per_building
    GROUP BY 1, 2
    """
)


def kept(factory: sessionmaker[Session], z: int, x: int, y: int) -> tuple[float, dict[Any, int]]:
    _, margin, snap = hexagon_lattice(z, y)
    started = time.perf_counter()
    with factory() as session:
        points = floating_points(
            session, z=z, x=x, y=y, margin=margin, snap_deg=snap, where=true(),
            on=today_in_china(),
        )  # fmt: skip
        session.commit()
    elapsed = time.perf_counter() - started
    return elapsed, {(math.floor(lon / snap), math.floor(lat / snap)): n for lon, lat, n in points}


def from_scratch(
    factory: sessionmaker[Session], z: int, x: int, y: int
) -> tuple[float, dict[Any, int]]:
    _, margin, snap = hexagon_lattice(z, y)
    params = {
        "z": z, "x": x, "y": y, "margin": margin, "snap": snap, "half": WORLD_HALF_M,
        "on": today_in_china(),
    }  # fmt: skip
    started = time.perf_counter()
    with factory() as session:
        rows = session.execute(FROM_SCRATCH, params).all()
        session.commit()
    elapsed = time.perf_counter() - started
    return elapsed, {(int(ix), int(iy)): int(n) for ix, iy, n in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_floating_tiles", description=__doc__
    )
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="requests each way per zoom")
    parser.add_argument("--stale", action="store_true", help="time the first tile after every "
                        "kept row was made stale")  # fmt: skip
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    configure_environment()
    from bench.people_city import bench_database_url, build_district
    from gis import schema
    from gis.db import database_url, make_engine, make_session_factory, transaction
    from gis.people.registry import ensure_people_key, people_key_path
    from gis.settings import get_settings

    settings = get_settings()
    cluster_url = database_url(settings)
    district_url = bench_database_url(cluster_url, buildings=args.buildings)
    schema.upgrade(district_url)
    engine = make_engine(district_url, pool_size=2)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        cipher, _ = ensure_people_key(session, path=people_key_path(settings))
    district = build_district(
        cluster_url=cluster_url, buildings=args.buildings, data_dir=args.data,
        out_dir=args.out, cipher=cipher, log=lambda message: print(message, flush=True),
    )  # fmt: skip
    print(f"district: {district.buildings:,} buildings, {district.people:,} people", flush=True)
    centre = text(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) AS c FROM buildings) m"
    )
    with factory() as session:
        lon, lat = session.execute(centre).one()
    results: dict[str, Any] = {"date": today_in_china().isoformat(), "load_start": os.getloadavg()}
    if args.stale:
        with transaction(factory) as session:
            session.execute(text("UPDATE building_counts SET counted_generation = NULL"))
        z = ZOOMS[0]
        _, x, y = tile_of(lon, lat, z)
        seconds, _ = kept(factory, z, x, y)
        results["first_tile_after_stale"] = {"zoom": z, "seconds": seconds}
        print(f"z{z} first tile with every kept row stale: {seconds:.2f} s", flush=True)
    zooms: dict[str, Any] = {}
    for z in ZOOMS:
        _, x, y = tile_of(lon, lat, z)
        ours: list[float] = []
        reference: list[float] = []
        for i in range(args.rounds):
            if i % 2:
                scratch_s, expected = from_scratch(factory, z, x, y)
            kept_s, got = kept(factory, z, x, y)
            if not i % 2:
                scratch_s, expected = from_scratch(factory, z, x, y)
            if got != expected:
                raise RuntimeError(f"z{z}: the kept counts differ from a count from scratch")
            ours.append(kept_s)
            reference.append(scratch_s)
        row: dict[str, Any] = {
            "tile": [z, x, y],
            "lattice_points": len(expected),
            "floating": sum(expected.values()),
            "kept_p50_ms": statistics.median(ours) * 1000,
            "from_scratch_p50_ms": statistics.median(reference) * 1000,
        }
        row["ratio"] = row["kept_p50_ms"] / row["from_scratch_p50_ms"]
        zooms[str(z)] = row
        print(
            f"z{z:<2} {z}/{x}/{y}: kept {row['kept_p50_ms']:8.1f} ms | from scratch "
            f"{row['from_scratch_p50_ms']:8.1f} ms | ratio {row['ratio']:.2f} | "
            f"{row['floating']:,} floating residents, same counts",
            flush=True,
        )
    engine.dispose()
    results["zooms"] = zooms
    results["load_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"floating-tiles-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"load average {results['load_start'][0]:.1f} → {results['load_end'][0]:.1f}; {path}")


if __name__ == "__main__":
    main()
