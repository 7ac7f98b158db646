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
import asyncio
import datetime as dt
import json
import math
import os
import platform
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench.make_city import (
    CITY_BUILDINGS,
    DISTRICT_BUILDINGS,
    City,
    build_city,
    configure_environment,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
DOCS_HEADING = "## Benchmark suite (issue 8)"
TIPG_VERSION = "1.6.1"
TIPG_UVICORN = "0.54.0"
ZOOMS = (15, 16, 17)
ITEMS = 1_500
OFFICERS = 200
PURPOSE = "A4403052026110001"
SMALL = "small scale, not the target size"

_BARE_TILE = """
WITH b AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4490) AS env4490
)
SELECT coalesce(ST_AsMVT(t, 'buildings', 4096, 'geom'), ''::bytea) FROM (
    SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), b.env, 4096, 64, true) AS geom,
           code, status::text AS status, use, floors
    FROM buildings, b WHERE geom && b.env4490 AND status <> 'retired'
) t WHERE geom IS NOT NULL
"""
_BARE_ITEMS = """
SELECT json_build_object(
    'type', 'FeatureCollection', 'numberReturned', count(*),
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature', 'id', code, 'geometry', ST_AsGeoJSON(geom, 9)::json,
        'properties', json_build_object('code', code, 'status', status, 'use', use,
                                        'floors', floors))), '[]'::json))::text
FROM (
    SELECT code, status, use, floors, geom FROM buildings
    WHERE geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4490) AND status <> 'retired'
    ORDER BY code LIMIT %(limit)s
) b
"""


@dataclass
class Row:
    """One line of the table: what was timed, our number, the reference's, their ratio."""

    step: str
    what: str
    ours: str
    reference: str
    ratio: str
    target: str = ""


@dataclass
class Suite:
    buildings: int
    scale: str
    results: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def p(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else math.nan


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(total_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
    }


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


# --- servers --------------------------------------------------------------------------------


def ensure_tipg(out: Path) -> Path:
    """tipg in a venv of its own (its FastAPI and pydantic pins differ from ours)."""
    venv = out / "tipg-venv"
    python = venv / "bin" / "python"
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('tipg'))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.stdout.strip() == TIPG_VERSION:
            return venv
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [
            str(python), "-m", "pip", "install", "-q",
            f"tipg=={TIPG_VERSION}", f"uvicorn=={TIPG_UVICORN}",
        ],
        check=True,
    )  # fmt: skip
    return venv


def wait_http(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx2

    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited: see {log}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer: see {log}")


def start_tipg(venv: Path, url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": url.replace("+psycopg", ""),
        "TIPG_DB_TABLES": '["public.buildings"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_DB_SPATIAL_EXTENT": "false",
        "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_TILE_BUFFER": "64",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    handle = log.open("wb")
    process = subprocess.Popen(
        [str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port), "--log-level",
         "warning"],
        stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=venv,
    )  # fmt: skip
    wait_http(port, "/collections/public.buildings", process, log)
    return process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def login(port: int, name: str, password: str) -> str:
    import httpx2

    answer = httpx2.post(
        f"http://127.0.0.1:{port}/api/auth/login",
        json={"name": name, "password": password},
        timeout=60,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"login of {name}: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["access_token"])


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


# --- P3 -------------------------------------------------------------------------------------


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def _bare_tile(conn: Any, zxy: tuple[int, int, int]) -> int:
    z, x, y = zxy
    row = conn.execute(_BARE_TILE, {"z": z, "x": x, "y": y}).fetchone()
    return len(bytes(row[0])) if row else 0


def _same_emptiness(zxy: tuple[int, int, int], sizes: dict[str, int]) -> None:
    """A tile empty one way must be empty every way (the same buildings are in it)."""
    if len({size == 0 for size in sizes.values()}) > 1:
        raise RuntimeError("tile {}/{}/{}: sizes {}".format(*zxy, sizes))


def _full_pages(bbox: str, sizes: dict[str, int]) -> None:
    if set(sizes.values()) != {ITEMS}:
        raise RuntimeError(f"items of {bbox}: {sizes} features, not {ITEMS} each")


def _three_ways(
    calls: dict[str, Callable[[], int]], rounds: int, check: Callable[[dict[str, int]], None]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Each call ``rounds`` times, rotating which goes first: times in seconds, last sizes."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for i in range(rounds):
        order = names[i % len(names) :] + names[: i % len(names)]
        sizes: dict[str, int] = {}
        for name in order:
            started = time.perf_counter()
            sizes[name] = calls[name]()
            times[name].append(time.perf_counter() - started)
        check(sizes)
    return times, sizes


def bench_tiles(
    suite: Suite, city: City, *, port: int, tipg_port: int, token: str, tiles_per_zoom: int
) -> None:
    import httpx2

    from bench.bench_occupants import sample_points

    conninfo = city.url.replace("+psycopg", "")
    points = sample_points(city.url, tiles_per_zoom * 4, seed=3)
    ours = httpx2.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )  # fmt: skip
    tipg = httpx2.Client(base_url=f"http://127.0.0.1:{tipg_port}", timeout=120)
    results: dict[str, Any] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn, ours, tipg:

        def fetch(client: Any, path: str) -> int:
            answer = client.get(path)
            if answer.status_code not in (200, 204):  # 204: an empty tile
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
            return len(answer.content)

        for z in ZOOMS:
            tiles = list(dict.fromkeys(tile_of(lon, lat, z) for lon, lat in points))
            tiles = tiles[:tiles_per_zoom]
            times: dict[str, list[float]] = {"ours": [], "bare": [], "tipg": []}
            empty = 0
            for zxy in tiles:
                got, sizes = _three_ways(
                    {
                        "ours": partial(fetch, ours, "/tiles/buildings/{}/{}/{}.pbf".format(*zxy)),
                        "bare": partial(_bare_tile, conn, zxy),
                        "tipg": partial(
                            fetch,
                            tipg,
                            "/collections/public.buildings/tiles/WebMercatorQuad/{}/{}/{}"
                            "?properties=code,status,use,floors".format(*zxy),
                        ),
                    },
                    rounds=3,
                    check=partial(_same_emptiness, zxy),
                )
                empty += int(sizes["bare"] == 0)
                for name, values in got.items():
                    times[name] += values
            results[f"z{z}"] = {
                "tiles": len(tiles),
                "empty": empty,
                **{f"{name}_p50_ms": p(v, 50) * 1000 for name, v in times.items()},
            }
            r = results[f"z{z}"]
            suite.rows.append(
                Row(
                    "P3",
                    f"building tile z{z}, p50 ({len(tiles)} tiles × 3)",
                    f"{r['ours_p50_ms']:.1f} ms",
                    f"ST_AsMVT {r['bare_p50_ms']:.1f} ms; tipg {r['tipg_p50_ms']:.1f} ms",
                    f"{r['ours_p50_ms'] / r['bare_p50_ms']:.2f} (tipg/bare "
                    f"{r['tipg_p50_ms'] / r['bare_p50_ms']:.2f})",
                )
            )
        results["items"] = _bench_items(suite, conn, points, fetch, ours, tipg)
    suite.results["tiles"] = results


def _bench_items(
    suite: Suite, conn: Any, points: list[tuple[float, float]], fetch: Any, ours: Any, tipg: Any
) -> dict[str, Any]:
    """Pages of 1,500 buildings: bboxes around sample points grown until they hold 1,500."""
    boxes: list[tuple[float, float, float, float]] = []
    for lon, lat in points[:10]:
        half = 0.004
        while half < 0.2:
            box = (lon - half, lat - half, lon + half, lat + half)
            count = conn.execute(
                "SELECT count(*) FROM buildings WHERE geom && ST_MakeEnvelope(%s,%s,%s,%s,4490) "
                "AND status <> 'retired'",
                box,
            ).fetchone()[0]
            if count >= ITEMS:
                boxes.append(box)
                break
            half *= 1.5
    if not boxes:
        suite.problems.append("items: no bbox holds 1,500 buildings")
        return {}

    def features(answer: bytes) -> int:
        document = json.loads(answer)
        return len(document["features"])

    def get(client: Any, path: str) -> int:
        answer = client.get(path)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        return features(answer.content)

    times: dict[str, list[float]] = {"ours": [], "bare": [], "tipg": []}
    for box in boxes:
        bbox = ",".join(f"{v:.7f}" for v in box)

        def bare(box: tuple[float, float, float, float] = box) -> int:
            x0, y0, x1, y1 = box
            row = conn.execute(
                _BARE_ITEMS, {"x0": x0, "y0": y0, "x1": x1, "y1": y1, "limit": ITEMS}
            ).fetchone()
            return features(str(row[0]).encode())

        got, _ = _three_ways(
            {
                "ours": partial(
                    get, ours, f"/ogc/collections/buildings/items?limit={ITEMS}&bbox={bbox}"
                ),
                "bare": bare,
                "tipg": partial(
                    get,
                    tipg,
                    f"/collections/public.buildings/items?limit={ITEMS}&bbox={bbox}"
                    "&properties=code,status,use,floors&f=geojson",
                ),
            },
            rounds=3,
            check=partial(_full_pages, bbox),
        )
        for name, values in got.items():
            times[name] += values
    r = {"pages": len(boxes), **{f"{n}_p50_ms": p(v, 50) * 1000 for n, v in times.items()}}
    suite.rows.append(
        Row(
            "P3",
            f"items, {ITEMS:,} buildings a page, p50 ({len(boxes)} bboxes × 3)",
            f"{r['ours_p50_ms']:.1f} ms",
            f"bare SQL GeoJSON {r['bare_p50_ms']:.1f} ms; tipg {r['tipg_p50_ms']:.1f} ms",
            f"{r['ours_p50_ms'] / r['bare_p50_ms']:.2f} (vs tipg "
            f"{r['ours_p50_ms'] / r['tipg_p50_ms']:.2f})",
        )
    )
    return r


# --- P7 -------------------------------------------------------------------------------------


def ensure_officers(city: City, password: str, count: int) -> list[dict[str, Any]]:
    """``count`` officer accounts, each for one current grid, with a building and a flat of it."""
    from gis.audit.schemas import Actor
    from gis.db import make_engine, make_session_factory, transaction
    from gis.people.generation import citizen_ids
    from gis.users import queries as user_queries
    from gis.users import service as users
    from gis.users.models import Role

    with psycopg.connect(city.url.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            """
            SELECT DISTINCT ON (g.code) g.code, b.code, ST_X(ST_PointOnSurface(b.geom)),
                   ST_Y(ST_PointOnSurface(b.geom)), h.code
            FROM grids g
            JOIN buildings b ON b.geom && g.geom AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
            JOIN houses h ON h.building_uid = b.uid AND h.use = 'residential'
            WHERE g.valid_to IS NULL
            ORDER BY g.code, b.code, h.code
            """
        ).fetchall()
    if not rows:
        raise RuntimeError("no grid with a residential house: rebuild the city")
    rng = np.random.default_rng(time.time_ns() % 2**32)  # new people every run
    births = np.datetime64("1990-01-01") + rng.integers(0, 3650, count).astype("timedelta64[D]")
    ids = citizen_ids(rng, np.full(count, "110105"), births, rng.random(count) < 0.5).tolist()
    engine = make_engine(city.url, pool_size=1)
    officers = []
    actor = Actor("bench", "admin")
    with transaction(make_session_factory(engine)) as session:
        for i in range(count):
            grid, building, lon, lat, house = rows[i % len(rows)]
            name = f"bench_officer_{i:03d}"
            if user_queries.select_user(session, name=name) is None:
                users.add_user(
                    session,
                    name=name,
                    role=Role.OFFICER,
                    password=password,
                    actor=actor,
                    grid_codes=[grid],
                )
            else:
                users.reset_password(session, name=name, password=password, actor=actor)
            officers.append(
                {
                    "name": name,
                    "grid": grid,
                    "building": building,
                    "lon": lon,
                    "lat": lat,
                    "house": house,
                    "id_number": ids[i],
                }
            )
    engine.dispose()
    return officers


async def _officer(
    client: Any, officer: dict[str, Any], password: str, log: list[Any], delay_s: float
) -> None:
    await asyncio.sleep(delay_s)

    async def call(kind: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            answer = await client.request(method, path, **kwargs)
            ok = 200 <= answer.status_code < 300
        except Exception as error:  # every failure is an error
            answer, ok = error, False
        log.append((kind, time.perf_counter() - started, ok, getattr(answer, "status_code", 0)))
        return answer if ok else None

    answer = await call(
        "login", "POST", "/api/auth/login", json={"name": officer["name"], "password": password}
    )
    if answer is None:
        return
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    _, x, y = tile_of(officer["lon"], officer["lat"], 17)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            await call("tile", "GET", f"/tiles/buildings/17/{x + dx}/{y + dy}.pbf", headers=headers)
    await call(
        "occupants",
        "GET",
        f"/api/buildings/{officer['building']}/occupants?purpose={PURPOSE}",
        headers=headers,
    )
    today = dt.date.today()
    body = {
        "house_code": officer["house"],
        "moved_in": (today - dt.timedelta(days=1)).isoformat(),
        "kind": "tenant",
        "declared_by": "officer",
        "person": {"name": "测试登记", "id_number": officer["id_number"]},
    }
    answer = await call("register", "POST", "/api/residences", json=body, headers=headers)
    if answer is None:
        return
    await call(
        "deregister",
        "POST",
        f"/api/residences/{answer.json()['uid']}/deregister",
        json={"moved_out": today.isoformat()},
        headers=headers,
    )


async def _officers(
    port: int, officers: list[dict[str, Any]], password: str, ramp_s: float
) -> list[Any]:
    import httpx2

    log: list[Any] = []
    limits = httpx2.Limits(max_connections=len(officers), max_keepalive_connections=len(officers))
    async with httpx2.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=300
    ) as client:
        step = ramp_s / len(officers)
        await asyncio.gather(
            *(_officer(client, o, password, log, i * step) for i, o in enumerate(officers))
        )
    return log


def bench_officers(
    suite: Suite, city: City, port: int, password: str, count: int, ramp_s: float
) -> None:
    officers = ensure_officers(city, password, count)
    started = time.perf_counter()
    log = asyncio.run(_officers(port, officers, password, ramp_s))
    wall = time.perf_counter() - started
    errors = [entry for entry in log if not entry[2]]
    by_kind = {
        kind: {
            "n": sum(1 for e in log if e[0] == kind),
            "p95_ms": p([e[1] for e in log if e[0] == kind], 95) * 1000,
            "errors": sum(1 for e in errors if e[0] == kind),
        }
        for kind in ("login", "tile", "occupants", "register", "deregister")
    }
    expected = count * 13
    p95 = p([e[1] for e in log], 95)
    suite.results["officers"] = {
        "officers": count,
        "ramp_s": ramp_s,
        "requests": len(log),
        "expected_requests": expected,
        "errors": len(errors),
        "error_statuses": sorted({e[3] for e in errors}),
        "p95_ms": p95 * 1000,
        "wall_s": wall,
        "by_kind": by_kind,
    }
    suite.rows.append(
        Row(
            "P7",
            f"{count} officers {'at once' if not ramp_s else f'starting over {ramp_s:g} s'}: "
            f"{len(log):,} requests of {expected:,} "
            f"(login, 9 tiles, occupants, register, deregister)",
            f"p95 {ms(p95)}; {len(errors)} errors",
            f"wall {wall:.1f} s; p95 login {by_kind['login']['p95_ms']:.0f} ms "
            f"({by_kind['login']['errors']} errors), tile {by_kind['tile']['p95_ms']:.0f} ms, "
            f"occupants {by_kind['occupants']['p95_ms']:.0f} ms, register "
            f"{by_kind['register']['p95_ms']:.0f} ms",
            "",
            "0 errors",
        )
    )
    if errors:
        suite.problems.append(
            f"P7: {len(errors)} errors, statuses {sorted({e[3] for e in errors})}"
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


# --- the table ------------------------------------------------------------------------------


def table(suite: Suite) -> str:
    m = suite.results["machine"]
    lines = [
        f"{suite.scale}: {suite.buildings:,} buildings; {m['date']}; {m['cpus']} cores "
        f"({m['cpu']}), {m['ram_gb']} GB RAM; load average "
        f"{m['load_average_at_start'][0]} → {m.get('load_average_at_end', ['?'])[0]}",
        "",
        "| step | measurement | gridhouse | reference (same run) | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.step} | {r.what} | {r.ours} | {r.reference} | {r.ratio} | {r.target} |"
              for r in suite.rows]  # fmt: skip
    lines += [f"\nproblem: {problem}" for problem in suite.problems]
    return "\n".join(lines)


def append_docs(text: str) -> None:
    """The table added at the end of the "Benchmark suite (issue 8)" section."""
    docs = DOCS.read_text()
    block = f"\n{text}\n"
    at = docs.find(DOCS_HEADING)
    if at < 0:
        DOCS.write_text(docs.rstrip("\n") + f"\n\n{DOCS_HEADING}\n{block}")
        return
    end = docs.find("\n## ", at + len(DOCS_HEADING))
    end = len(docs) if end < 0 else end
    DOCS.write_text(docs[:end].rstrip("\n") + "\n" + block + docs[end:])


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
