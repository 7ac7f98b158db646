"""The benchmark suite (issue 8, item 4): one command, P1–P7, one table of ratios against
references measured in the same run (DESIGN §11: absolute times on shared machines are noisy).

    python -m bench.run                     # district: 100,000 buildings (what `make bench` runs)
    python -m bench.run --city              # city: 1,000,000 buildings, ~15M residents
    python -m bench.run --buildings 10000   # a smoke run (labelled "small scale")

Steps, on the benchmark cluster (``.gridhouse-bench``, port 55440, unless ``GRIDHOUSE_DATA_DIR``
and ``GRIDHOUSE_DB_PORT`` say otherwise; the dev cluster is refused):

0. the generated city of ``bench/make_city.py`` (built once, reused);
1. P1 import vs ``ogr2ogr`` and P6 re-survey: ``python -m bench.bench_import`` as a child
   process (it works in the cluster's ``gridhouse`` database, whose building tables it
   empties; the city's database is not touched); P6's reference is the first import of the
   same file in the same run;
2. ``gridhouse serve`` on the city (one uvicorn process), and tipg 1.6.1 (installed by this
   script into ``bench/out/tipg-venv``, pinned) on the same database, showing only
   ``public.buildings``;
3. P2 occupants within 100 m, the API against its own SQL (``bench.bench_occupants``'s
   functions, every answer compared byte for byte);
4. P3 building tiles z15–z17: ``/tiles/buildings/{z}/{x}/{y}.pbf`` vs a bare ``ST_AsMVT``
   statement through psycopg vs tipg's tile of the same z/x/y (same columns, same 4096 extent and
   64-pixel buffer); and pages of 1,500 buildings in a bbox: ``/ogc/collections/buildings/items``
   vs bare SQL building the GeoJSON vs tipg's items (every answer must hold 1,500 features);
5. P7: 200 simulated officers at once (asyncio + httpx): log in, open 9 map tiles around a
   building of their grid, open its occupants, register a resident and deregister them; p95 of
   every request and the errors;
6. the server's peak RSS (``VmHWM`` of the uvicorn process, read before it stops) and the city
   database's size per million buildings;
7. P4 edit with its impact and P5 classification (``bench/city_grids.py``) in the city.

The table is printed; the results go to ``bench/out/suite-<N>-<time>.json``; ``--append-docs``
adds the table to docs/benchmarks.md under "Benchmark suite (issue 8)".
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.city_officers import OFFICERS, bench_officers
from bench.city_tiles import bench_tiles
from bench.make_city import (
    CITY_BUILDINGS,
    DISTRICT_BUILDINGS,
    City,
    build_city,
    configure_environment,
)
from bench.servers import ensure_tipg, login, peak_rss_mb, start_tipg, stop
from bench.suite import DOCS, ROOT, Row, Suite, append_docs, machine, table

SMALL = "small scale, not the target size"


# --- P1 and P6 ------------------------------------------------------------------------------


def run_import_bench(suite: Suite, *, buildings: int, resurvey: int, args: Any) -> None:
    """``python -m bench.bench_import`` as a child; its results file read back."""
    started = time.time()
    log = args.out / "logs" / "suite-bench-import.log"
    command = [
        sys.executable, "-m", "bench.bench_import", "--buildings", str(buildings),
        "--resurvey-buildings", str(resurvey), "--keep-cluster",
        "--out", str(args.out), "--data", str(args.data),
    ]  # fmt: skip
    with log.open("w") as handle:
        code = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, check=False)
    found = sorted(
        (f for f in args.out.glob(f"results-{buildings}-*.json") if f.stat().st_mtime >= started),
        key=lambda f: f.stat().st_mtime,
    )
    if code.returncode != 0 or not found:
        suite.problems.append(f"bench_import exited {code.returncode}: see {log}")
    if not found:
        return
    data = json.loads(found[-1].read_text())
    suite.results["import"] = data
    a, b = data.get("ogr2ogr"), data.get("gridhouse")
    if a and b:
        suite.rows.append(
            Row(
                "P1",
                f"import {data['buildings']:,} footprints",
                f"{b['seconds']:.1f} s",
                f"ogr2ogr {a['seconds']:.1f} s",
                f"{b['seconds'] / a['seconds']:.2f}",
                "≤ 1.5",
            )
        )
    base, again = data.get("resurvey_base"), data.get("resurvey")
    if base and again:
        suite.rows.append(
            Row(
                "P6",
                f"re-survey {data['resurvey_buildings']:,} vs as many (1 m shift)",
                f"{again['seconds']:.1f} s",
                f"first import {base['seconds']:.1f} s",
                f"{again['seconds'] / base['seconds']:.2f}",
                "≤ 60 s at 100k",
            )
        )


# --- P2 -------------------------------------------------------------------------------------


def bench_occupants(suite: Suite, city: City, port: int, password: str, points: int) -> None:
    from bench import bench_occupants as occ
    from gis.access.scope import Scope

    api = occ.Api(port)
    api.login("bench_admin", password)
    sample = occ.sample_points(city.url, points + 20, seed=1)
    admin = Scope.system("bench_admin")
    occ.time_occupants(api, city.url, sample[:20], admin)  # warm-up
    run = occ.time_occupants(api, city.url, sample[20:], admin)
    suite.results["occupants"] = run
    suite.rows.append(
        Row(
            "P2",
            f"occupants within 100 m, p50 ({run['identical_answers']} points, admin)",
            f"{run['api']['p50_ms']:.1f} ms (p95 {run['api']['p95_ms']:.1f})",
            f"same SQL {run['sql']['p50_ms']:.1f} ms",
            f"{run['ratio_p50']:.2f}",
            "≤ 1.5, p95 ≤ 50 ms",
        )
    )


# --- P4, P5, sizes --------------------------------------------------------------------------


def bench_grids(suite: Suite, city: City, edits: int) -> None:
    from bench.city_grids import bench_classify, bench_edits
    from gis.db import make_engine, make_session_factory

    engine = make_engine(city.url, pool_size=2)
    factory = make_session_factory(engine)
    try:
        edit = bench_edits(factory, edits=edits)
        classify = bench_classify(factory)
    finally:
        engine.dispose()
    suite.results["grids"] = {"edit": edit, "classify": classify}
    suite.rows += [
        Row(
            "P4",
            f"edit a grid with its impact, median of {edit['edits']} "
            f"(county {edit['county']}, {edit['plan_grids']:,} grids)",
            f"{edit['edit_with_impact_ms_median']:.0f} ms",
            f"bare house count {edit['bare_houses_ms_median']:.1f} ms",
            f"{edit['ratio']:.1f}",
            "≤ 200 ms",
        ),
        Row(
            "P5",
            f"classify every grid ({classify['grids']:,}), the buildings' counts kept "
            f"(from nothing: {classify['counted_from_nothing_ms'] / 1000:.1f} s; after a day's "
            f"changes: {classify['after_a_day_ms'] / 1000:.1f} s)",
            f"{classify['ms'] / 1000:.2f} s",
            f"bare building→grid join {classify['reference_ms'] / 1000:.2f} s",
            f"{classify['ratio']:.2f}",
        ),
    ]


def database_size(suite: Suite, city: City) -> None:
    with psycopg.connect(city.url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert row is not None
    size = int(row[0])
    per_million = size / city.buildings * 1_000_000 / 1024**3
    suite.results["database_bytes"] = size
    suite.rows.append(
        Row(
            "size",
            f"city database ({city.buildings:,} buildings, {city.houses:,} houses, "
            f"{city.people:,} residents, {city.grids:,} grids)",
            f"{size / 1024**3:.2f} GB",
            "",
            f"{per_million:.1f} GB per million buildings",
        )
    )


def run(args: argparse.Namespace) -> Suite:
    from bench.bench_occupants import ensure_users, start_server
    from gis import cluster

    buildings = CITY_BUILDINGS if args.city else args.buildings
    scale = "city" if args.city else ("district" if buildings >= DISTRICT_BUILDINGS else SMALL)
    suite = Suite(buildings=buildings, scale=scale)
    suite.results["machine"] = machine()
    log = args.out / "logs"
    log.mkdir(parents=True, exist_ok=True)

    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    say(f"city of {buildings:,} buildings (bench/make_city.py; reused when built)")
    city = build_city(buildings=buildings, data_dir=args.data, out_dir=args.out, log=say)
    suite.results["city"] = {
        "url_database": city.url.rpartition("/")[2],
        "buildings": city.buildings,
        "houses": city.houses,
        "people": city.people,
        "grids": city.grids,
        "counties": city.counties,
        "build_seconds": city.seconds,
    }
    if not args.skip_import:
        say("P1 import vs ogr2ogr, P6 re-survey (python -m bench.bench_import)")
        resurvey = min(buildings, args.resurvey)
        run_import_bench(suite, buildings=buildings, resurvey=resurvey, args=args)
    password = secrets.token_urlsafe(18)
    ensure_users(city.url, password)
    port, tipg_port = cluster.free_port(), cluster.free_port()
    server = tipg = None
    try:
        say("gridhouse serve and tipg on the city")
        server = start_server(city.url, city.key_path, port, log / "suite-server.log")
        tipg = start_tipg(ensure_tipg(args.out), city.url, tipg_port, log / "suite-tipg.log")
        say("P2 occupants within 100 m")
        bench_occupants(suite, city, port, password, args.points)
        say("P3 tiles z15–z17 and items of 1,500")
        token = login(port, "bench_admin", password)
        bench_tiles(
            suite,
            city,
            port=port,
            tipg_port=tipg_port,
            token=token,
            tiles_per_zoom=args.tiles,
        )
        say(f"P7 {args.officers} officers")
        before = peak_rss_mb(server.pid)
        bench_officers(suite, city, port, password, args.officers, args.ramp_s)
        rss = peak_rss_mb(server.pid)
        suite.results["server_peak_rss_mb"] = {"p2_to_p3": before, "p2_to_p7": rss}
        suite.rows.append(
            Row("memory", "peak RSS of the server (uvicorn, one process), P2–P7",
                f"{rss:,.0f} MB", f"{before:,.0f} MB before P7", "")
        )  # fmt: skip
    finally:
        stop(server)
        stop(tipg)
    say("P4 edit with its impact, P5 classify")
    bench_grids(suite, city, args.edits)
    database_size(suite, city)
    suite.results["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--buildings", type=int, default=DISTRICT_BUILDINGS, help="default 100,000")
    size.add_argument("--city", action="store_true", help=f"{CITY_BUILDINGS:,} buildings")
    parser.add_argument("--resurvey", type=int, default=100_000, help="P6 footprints (at most N)")
    parser.add_argument("--points", type=int, default=200, help="P2 points")
    parser.add_argument("--tiles", type=int, default=20, help="P3 tiles a zoom")
    parser.add_argument("--officers", type=int, default=OFFICERS, help="P7")
    parser.add_argument(
        "--ramp-s", type=float, default=0.0, help="P7: officers start over this many seconds"
    )
    parser.add_argument("--edits", type=int, default=10, help="P4 grids edited")
    parser.add_argument("--skip-import", action="store_true", help="no P1/P6")
    parser.add_argument("--append-docs", action="store_true", help="add the table to the docs")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    for name in ("points", "tiles", "officers", "edits", "resurvey"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: at least 1")
    if not 0 <= args.ramp_s <= 3600:
        parser.error("--ramp-s: 0…3600 seconds")
    args.out, args.data = args.out.resolve(), args.data.resolve()
    configure_environment()
    try:
        suite = run(args)
    finally:
        if not args.keep_cluster:
            gridhouse = Path(sys.executable).parent / "gridhouse"
            subprocess.run([str(gridhouse), "db", "stop"], check=False)
    text = table(suite)
    print(text)
    path = args.out / f"suite-{suite.buildings}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    document = {
        "scale": suite.scale,
        "buildings": suite.buildings,
        "rows": [r.__dict__ for r in suite.rows],
        "problems": suite.problems,
        **suite.results,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"results: {path}")
    if args.append_docs:
        append_docs(text)
        print(f"table added to {DOCS.relative_to(ROOT)}")
    return 1 if suite.problems else 0


if __name__ == "__main__":
    sys.exit(main())
