"""P7 of ``bench/run.py`` in the generated city: simulated officers at once on ``gridhouse serve``.

Each officer (asyncio and httpx) logs in, opens tiles and occupants, registers a resident and
deregisters them; p95 of every request and the errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import numpy as np
import psycopg

from bench.city_tiles import tile_of
from bench.make_city import City
from bench.suite import Row, Suite, ms, p
from gis.clock import today_in_china

OFFICERS = 200
PURPOSE = "A4403052026110001"


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
    today = today_in_china()
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
