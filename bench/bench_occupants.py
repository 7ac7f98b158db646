"""Occupants benchmark (issue 5, item 8): "who lives within 100 m of here" through the API
versus the same SQL through psycopg, on a district of 100,000 tiled buildings and ~1.5M
generated residents; and the p95 of registering and deregistering a resident.

Absolute times on these shared machines are noisy (DESIGN §11), so every point is queried both
ways in the same run, in alternating order, and the ratio of the medians is the result (target
≤ 1.5, with an API p95 ≤ 50 ms). The API runs as ``gridhouse serve`` (uvicorn, one process) and is
called over a kept-alive HTTP connection; the reference executes the very statement the service
builds (:func:`gis.people.occupancy_queries.occupants_statement`, compiled for psycopg, written to
``bench/out/occupants-reference.sql``) in a transaction of its own, and every answer of the API
must equal the reference's document byte for byte (same people, grouping and masked values).
What the API does on top (authentication, scope, the stated purpose, the audit row and its
durable commit, HTTP) is the overhead the ratio measures.

Runs on its own cluster (default ``GRIDHOUSE_DATA_DIR=.gridhouse-people``, port 55460; the dev
cluster is refused) in a database of its own, built once and reused (``bench/people_city.py``).
``python -m bench.bench_occupants --help`` lists the options.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.dialects import postgresql

from bench.servers import wait_http
from gis.clock import today_in_china

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ".gridhouse-people"
DEFAULT_PORT = "55460"
DEV = (ROOT / ".gridhouse", 55432)
PURPOSE = "A4403052026110001"
RADIUS_M = 100.0
LIMIT = 1000  # people a page: the largest page, so one page answers every point
RATIO_TARGET = 1.5
P95_TARGET_MS = 50.0


def configure_environment() -> None:
    os.environ.setdefault("GRIDHOUSE_DATA_DIR", DEFAULT_DATA_DIR)
    os.environ.setdefault("GRIDHOUSE_DB_PORT", DEFAULT_PORT)
    data_dir = Path(os.environ["GRIDHOUSE_DATA_DIR"]).resolve()
    if data_dir == DEV[0].resolve() or int(os.environ["GRIDHOUSE_DB_PORT"]) == DEV[1]:
        sys.exit("refusing the dev cluster: set GRIDHOUSE_DATA_DIR and GRIDHOUSE_DB_PORT")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 50) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "mean_ms": statistics.fmean(values) * 1000,
        "n": len(values),
    }


class Api:
    """A kept-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # the server closes connections idle for 5 s (uvicorn's keep-alive timeout)
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def login(self, name: str, password: str) -> None:
        status, body = self.call("POST", "/api/auth/login", {"name": name, "password": password})
        if status != 200:
            raise RuntimeError(f"login of {name} failed: {status} {body[:200]!r}")
        self.token = json.loads(body)["access_token"]


def start_server(url: str, key_file: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GRIDHOUSE_DATABASE_URL": url.replace("+psycopg", ""),
        "GRIDHOUSE_PEOPLE_KEY_FILE": str(key_file),
        "GRIDHOUSE_RATE_LIMIT_BURST": "1000000000",
        "GRIDHOUSE_RATE_LIMIT_PER_MINUTE": "1000000000",
        # the suite's P7 logs 200 officers in from one address at once
        "GRIDHOUSE_LOGIN_RATE_LIMIT_BURST": "1000000000",
        "GRIDHOUSE_LOGIN_RATE_LIMIT_PER_MINUTE": "1000000000",
    }
    handle = log.open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gridhouse"), "serve", "--port", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        wait_http(port, "/healthz", server, log)
    except RuntimeError:
        server.terminate()
        raise
    return server


def ensure_users(url: str, password: str) -> None:
    from gis.audit.schemas import Actor
    from gis.db import make_engine, make_session_factory, transaction
    from gis.users import queries as user_queries
    from gis.users import service as users
    from gis.users.models import Role

    engine = make_engine(url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        for name, role, division in (
            ("bench_admin", Role.ADMIN, None),
            ("bench_police", Role.POLICE, "440305000000"),
        ):
            if user_queries.select_user(session, name=name) is None:
                users.add_user(
                    session,
                    name=name,
                    role=role,
                    password=password,
                    actor=Actor("bench", "admin"),
                    division_code=division,
                )
            else:
                users.reset_password(
                    session, name=name, password=password, actor=Actor("bench", "admin")
                )
    engine.dispose()


def reference_statement(lon: float, lat: float, scope: Any, at: date) -> tuple[str, dict[str, Any]]:
    """The SQL the API runs for this point, compiled for psycopg, with its parameters.

    The very statement of :func:`gis.people.occupancy_queries.occupants_statement`: the same
    people (residences covering ``at``, buildings in the caller's scope), the same grouping
    building → house → people, the same stored masked ID numbers and phones, the same JSON
    document, built by PostgreSQL. :func:`time_occupants` checks that the API answers with
    exactly that document, byte for byte, for every point.
    """
    from gis.people import occupancy_queries as sql

    area = sql.radius_area(lon, lat, RADIUS_M)
    statement = sql.occupants_statement(kind=area.kind, scope=scope)
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    compiled = statement.compile(dialect=dialect)
    params = compiled.construct_params(sql.occupant_params(area, at=at, limit=LIMIT))
    return str(compiled), dict(params)


def police_scope() -> Any:
    """The scope of ``bench_police`` (Nanshan police), as the API builds it from the user."""
    from gis.access.scope import Scope
    from gis.users.models import Role

    return Scope(user_name="bench_police", role=Role.POLICE, division_prefix="440305")


def sample_points(
    url: str, count: int, seed: int, where: str = "true"
) -> list[tuple[float, float]]:
    """Points near random buildings (a jitter of up to ±50 m), so queries hit lived-in places."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("SELECT setseed(%s)", (seed / 2**31,))
        rows = conn.execute(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM buildings "  # noqa: S608 - fixed clauses
            f"WHERE {where} ORDER BY random() LIMIT %s) s",
            (count,),
        ).fetchall()
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(-0.00045, 0.00045, size=(len(rows), 2))
    return [(float(x + dx), float(y + dy)) for (x, y), (dx, dy) in zip(rows, jitter, strict=True)]


def _by_api(api: Api, path: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    status, body = api.call("GET", path)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{status}: {body[:300]!r}")
    return elapsed, body


def _by_sql(
    conn: psycopg.Connection[Any], statement: str, params: dict[str, Any]
) -> tuple[float, bytes]:
    started = time.perf_counter()
    with conn.transaction():
        row = conn.execute(statement, params).fetchone()
    elapsed = time.perf_counter() - started
    assert row is not None
    return elapsed, str(row[0]).encode()


def time_occupants(
    api: Api, url: str, points: list[tuple[float, float]], scope: Any
) -> dict[str, Any]:
    """Each point both ways, in alternating order; medians, 95th percentiles, their ratios.

    Both answers must be the same document (same people, grouping, masked values, order): a
    difference stops the benchmark, since the reference would then not be a reference.
    """
    api_times: list[float] = []
    sql_times: list[float] = []
    rows: list[float] = []
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for i, (lon, lat) in enumerate(points):
            path = (
                f"/api/occupants?lon={lon!r}&lat={lat!r}&radius_m={RADIUS_M:g}"
                f"&crs=EPSG:4490&limit={LIMIT}&purpose={PURPOSE}"
            )
            # the API's default date is today in China; the reference asks for the same day
            statement, params = reference_statement(lon, lat, scope, today_in_china())
            if i % 2:
                sql_elapsed, reference = _by_sql(conn, statement, params)
            api_elapsed, body = _by_api(api, path)
            if not i % 2:
                sql_elapsed, reference = _by_sql(conn, statement, params)
            if body != reference:
                raise RuntimeError(
                    f"the API and the reference SQL differ at ({lon!r}, {lat!r}): "
                    f"{body[:200]!r} vs {reference[:200]!r}"
                )
            api_times.append(api_elapsed)
            sql_times.append(sql_elapsed)
            rows.append(float(json.loads(body)["returned"]))
    api_s, sql_s = summary(api_times), summary(sql_times)
    return {
        "api": api_s,
        "sql": sql_s,
        "ratio_p50": api_s["p50_ms"] / sql_s["p50_ms"],
        "ratio_p95": api_s["p95_ms"] / sql_s["p95_ms"],
        "people_per_query_p50": percentile(rows, 50),
        "people_per_query_max": max(rows) if rows else 0,
        "identical_answers": len(points),
    }


def time_changes(api: Api, url: str, count: int, seed: int) -> dict[str, Any]:
    """Register a new resident in a random flat, then deregister them: both timed."""
    from gis.people.generation import citizen_ids

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("SELECT setseed(0.25)")
        houses = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM houses WHERE use = 'residential' ORDER BY random() LIMIT %s",
                (count,),
            ).fetchall()
        ]
    rng = np.random.default_rng(seed)
    spares = 2 * count  # an ID number may already be someone's (generated or an earlier run)
    births = np.datetime64("1990-01-01") + rng.integers(0, 3650, spares).astype("timedelta64[D]")
    ids = iter(citizen_ids(rng, np.full(spares, "110105"), births, rng.random(spares) < 0.5))
    register: list[float] = []
    deregister: list[float] = []
    today = today_in_china()
    yesterday = date.fromordinal(today.toordinal() - 1).isoformat()
    for house in houses:
        status = 409
        while status == 409:  # that ID number is taken: a conflict, not timed; try the next one
            body = {
                "house_code": house,
                "moved_in": yesterday,
                "kind": "tenant",
                "declared_by": "officer",
                "person": {"name": "测试登记", "id_number": str(next(ids))},
            }
            started = time.perf_counter()
            status, answer = api.call("POST", "/api/residences", body)
            elapsed = time.perf_counter() - started
        register.append(elapsed)
        if status != 201:
            raise RuntimeError(f"register: {status} {answer[:300]!r}")
        uid = json.loads(answer)["uid"]
        started = time.perf_counter()
        status, answer = api.call(
            "POST", f"/api/residences/{uid}/deregister", {"moved_out": today.isoformat()}
        )
        deregister.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"deregister: {status} {answer[:300]!r}")
    return {"register": summary(register), "deregister": summary(deregister)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_occupants", description=__doc__)
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--port", type=int, default=0, help="for the API (default: a free port)")
    args = parser.parse_args(argv)
    configure_environment()
    from bench.people_city import bench_database_url, build_district
    from gis import cluster, schema
    from gis.access.scope import Scope
    from gis.db import database_url, make_engine, make_session_factory, transaction
    from gis.people.registry import ensure_people_key, people_key_path
    from gis.settings import get_settings

    settings = get_settings()
    cluster_url = database_url(settings)
    key_path = people_key_path(settings)
    started = time.perf_counter()
    district_url = bench_database_url(cluster_url, buildings=args.buildings)
    schema.upgrade(district_url)
    engine = make_engine(district_url, pool_size=1)
    with transaction(make_session_factory(engine)) as session:
        cipher, _ = ensure_people_key(session, path=key_path)
    engine.dispose()
    district = build_district(
        cluster_url=cluster_url,
        buildings=args.buildings,
        data_dir=args.data,
        out_dir=args.out,
        cipher=cipher,
        log=lambda message: print(message, flush=True),
    )
    print(
        f"district: {district.buildings:,} buildings, {district.houses:,} houses, "
        f"{district.people:,} people (ready in {time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    password = secrets.token_urlsafe(18)
    load_at_start = os.getloadavg()
    ensure_users(district.url, password)
    port = args.port or cluster.free_port()
    args.out.mkdir(parents=True, exist_ok=True)
    server = start_server(district.url, key_path, port, args.out / "occupants-server.log")
    try:
        api = Api(port)
        api.login("bench_admin", password)
        everywhere = sample_points(district.url, args.points + 20, seed=1)
        reference, _ = reference_statement(*everywhere[0], police_scope(), today_in_china())
        (args.out / "occupants-reference.sql").write_text(reference + "\n")
        time_occupants(api, district.url, everywhere[:20], Scope.system("bench_admin"))  # warm-up
        admin = time_occupants(api, district.url, everywhere[20:], Scope.system("bench_admin"))
        police_api = Api(port)
        police_api.login("bench_police", password)
        nanshan = sample_points(
            district.url, args.points // 2, seed=2, where="district_code = '440305'"
        )
        police = time_occupants(police_api, district.url, nanshan, police_scope())
        changes = time_changes(api, district.url, args.changes, seed=time.time_ns() % 2**32)
    finally:
        server.terminate()
        server.wait(timeout=30)
    results: dict[str, Any] = {
        "date": today_in_china().isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "district": {
            "buildings": district.buildings,
            "houses": district.houses,
            "people": district.people,
            "build_seconds": district.seconds,
        },
        "radius_m": RADIUS_M,
        "admin": admin,
        "police": police,
        "changes": changes,
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    path = args.out / f"occupants-results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    for label, run in (("admin (all)", admin), ("police (Nanshan)", police)):
        print(
            f"{label:17} API p50 {run['api']['p50_ms']:.1f} ms p95 {run['api']['p95_ms']:.1f} ms | "
            f"SQL p50 {run['sql']['p50_ms']:.1f} ms p95 {run['sql']['p95_ms']:.1f} ms | "
            f"ratio p50 {run['ratio_p50']:.2f} (target ≤ {RATIO_TARGET}), "
            f"p95 {run['ratio_p95']:.2f}; "
            f"people/query p50 {run['people_per_query_p50']:.0f}"
        )
        met = run["ratio_p50"] <= RATIO_TARGET and run["api"]["p95_ms"] <= P95_TARGET_MS
        print(
            f"{'':17} targets (ratio ≤ {RATIO_TARGET}, API p95 ≤ {P95_TARGET_MS:g} ms): "
            f"{'met' if met else 'missed'}"
        )
    start_load, end_load = results["load_average"]["start"][0], results["load_average"]["end"][0]
    print(f"load average (1 min) {start_load:.1f} at the start, {end_load:.1f} at the end")
    print(
        f"register p95 {changes['register']['p95_ms']:.1f} ms, deregister p95 "
        f"{changes['deregister']['p95_ms']:.1f} ms; results in {path}"
    )


if __name__ == "__main__":
    main()
