"""P3 of ``bench/run.py`` in the generated city: building tiles and items vs bare SQL and tipg.

Tiles z15–z17 and pages of 1,500 items, ``gridhouse serve`` against bare SQL through psycopg and
against tipg, each fetched in rotating order.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg

from bench.make_city import City
from bench.suite import Row, Suite, p

ZOOMS = (15, 16, 17)
ITEMS = 1_500

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
