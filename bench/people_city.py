"""A benchmark district with residents: tiled Nanshan buildings (``bench.tiling``), houses at the
district density of DESIGN §11, and generated residents (``gis.people.populate``).

Everything goes into a database of its own (``gridhouse_people_bench_<buildings>`` on the cluster of
``GRIDHOUSE_DATA_DIR``/``GRIDHOUSE_DB_PORT``) and is reused when it is already there.

Houses: the lead's estimate (:func:`gis.houses.service.estimate_layout`: urban-village rooms,
flats, offices) gives tiled Nanshan ~64 units a building; the district of DESIGN §11 has ~10
(100k buildings, 1M houses, 1.5M people). Each building keeps its estimated use and unit size,
with its unit count scaled by one factor so the district holds 15 people a building (1.5M for
100k buildings) at the demo's occupancy (1.89 people a house). Written with COPY, vectorised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench import tiling
from gis import schema
from gis.buildings.importing import import_buildings
from gis.buildings.reading import open_footprints
from gis.clock import today_in_china
from gis.codes import format_codes
from gis.crs import parse_crs
from gis.db import make_engine, make_session_factory, transaction
from gis.divisions.service import attach_boundaries, import_divisions
from gis.houses.queries import copy_houses
from gis.houses.service import METRES_PER_FLOOR, estimate_layout
from gis.people.crypto import PeopleCipher
from gis.people.populate import PopulateReport, populate

DATABASE = "gridhouse_people_bench_{buildings}"
PEOPLE_PER_BUILDING = 15  # DESIGN §11: 100k buildings, 1.5M people
PEOPLE_PER_HOUSE = 1.89  # the demo district's generated residents per estimated house
SEED = 20261122


@dataclass
class District:
    url: str
    buildings: int
    houses: int
    people: int
    communities: list[str]
    seconds: dict[str, float]


def bench_database_url(cluster_url: str, *, buildings: int) -> str:
    """The benchmark's own database for a district size on the cluster (created when missing)."""
    name = DATABASE.format(buildings=int(buildings))
    admin = cluster_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {name}")  # digits only
    base, _, _ = cluster_url.rpartition("/")
    return f"{base}/{name}"


_COUNTS = {
    "buildings": text("SELECT count(*) FROM buildings"),
    "houses": text("SELECT count(*) FROM houses"),
    "people": text("SELECT count(*) FROM people"),
}


def _count(session: Session, table: str) -> int:
    return int(session.scalar(_COUNTS[table]) or 0)


def scaled_houses(session: Session, *, target_houses: int) -> int:
    """Houses for every building without any: the estimate's use and unit size, its count
    scaled to ``target_houses`` for the district."""
    rows = session.execute(
        text(
            "SELECT uid, code, coalesce(floors, 0), coalesce(height_m, 9), "
            "ST_Area(geom::geography) FROM buildings b "
            "WHERE NOT EXISTS (SELECT 1 FROM houses h WHERE h.building_uid = b.uid) ORDER BY code"
        )
    ).all()
    if not rows:
        return 0
    floors = np.array(
        [r[2] or max(1, round(r[3] / METRES_PER_FLOOR)) for r in rows], dtype=np.int64
    )
    area = np.array([r[4] for r in rows], dtype=np.float64)
    layouts = [estimate_layout(a, int(f)) for a, f in zip(area, floors, strict=True)]
    unit_m2 = np.array([layout[1] for layout in layouts])
    estimated = np.maximum(1, (area * 0.8 * floors // unit_m2)).astype(np.int64)
    factor = target_houses / estimated.sum()
    units = np.clip(np.rint(estimated * factor), 1, 99_999).astype(np.int64)
    building = np.repeat(np.arange(len(rows)), units)
    unit = np.arange(len(building)) - np.repeat(np.cumsum(units) - units, units) + 1
    codes = [str(r[1]) for r in rows]
    communities = np.array([code[:12] for code in codes])[building]
    classes = np.array([int(code[12]) for code in codes])[building]
    seqs = np.array([int(code[13:19]) for code in codes])[building]
    house_codes = format_codes(
        community_codes=communities, structure_classes=classes, seqs=seqs, units=unit
    )
    per_floor = np.ceil(units / floors).astype(np.int64)[building]
    floor = (unit - 1) // per_floor + 1
    uses = [layout[0].value for layout in layouts]
    rented = [layout[2] for layout in layouts]
    uids = [r[0] for r in rows]

    def house_rows() -> Any:
        for i, b in enumerate(building.tolist()):
            yield (
                house_codes[i],
                uids[b],
                codes[b][:6],
                int(unit[i]),
                int(floor[i]),
                f"{floor[i]}{(unit[i] - 1) % per_floor[i] + 1:02d}",
                uses[b],
                float(unit_m2[b]),
                None,
                rented[b],
                True,
            )

    return copy_houses(session, house_rows())


def build_district(
    *,
    cluster_url: str,
    buildings: int,
    data_dir: Path,
    out_dir: Path,
    cipher: PeopleCipher,
    log: Any = print,
) -> District:
    """The tiled district with houses and residents in the benchmark database (reused)."""
    seconds: dict[str, float] = {}
    url = bench_database_url(cluster_url, buildings=buildings)
    schema.upgrade(url)
    engine = make_engine(url, pool_size=2)
    factory: sessionmaker[Session] = make_session_factory(engine)
    city = tiling.make_city_files(buildings=buildings, out_dir=out_dir, data_dir=data_dir)
    with transaction(factory) as session:
        have = _count(session, "buildings")
    if have < buildings:
        started = time.perf_counter()
        log(f"divisions and {city.tiles * 8} community polygons")
        with transaction(factory) as session:
            import_divisions(session, path=data_dir / "divisions")
            attach_boundaries(session, path=city.communities, crs=None)
        log(f"importing {buildings:,} buildings from {city.buildings.name}")
        source = open_footprints(city.buildings, layer="buildings", crs=parse_crs("EPSG:4490"))
        import_buildings(
            factory,
            source=source,
            community_code=None,
            repair=True,
            rejects_file=out_dir / "people-bench-rejects.csv",
        )
        seconds["buildings"] = time.perf_counter() - started
    with transaction(factory) as session:
        communities = [
            str(c)
            for c in session.scalars(
                text("SELECT DISTINCT community_code FROM buildings ORDER BY 1")
            )
        ]
    started = time.perf_counter()
    with transaction(factory) as session:
        target = buildings * PEOPLE_PER_BUILDING / PEOPLE_PER_HOUSE
        added = scaled_houses(session, target_houses=round(target))
    if added:
        seconds["houses"] = time.perf_counter() - started
        log(f"houses: {added:,} ({seconds['houses']:.0f} s)")
    started = time.perf_counter()
    with transaction(factory) as session:
        report: PopulateReport = populate(
            session,
            cipher=cipher,
            communities=communities,
            divisions_dir=data_dir / "divisions",
            seed=SEED,
            as_of=today_in_china(),
            on_progress=lambda step: log(f"residents: {step}"),
        )
    if not report.skipped:
        seconds["people"] = time.perf_counter() - started
        log(f"residents: {report.people:,} in {report.seconds:.0f} s")
    with transaction(factory) as session:
        counts = {table: _count(session, table) for table in ("buildings", "houses", "people")}
        session.execute(text("ANALYZE"))
    engine.dispose()
    return District(
        url, counts["buildings"], counts["houses"], counts["people"], communities, seconds
    )
