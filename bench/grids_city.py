"""A district for the grid benchmark: the tiled Nanshan footprints (``bench.tiling``) in one
fictitious county, with houses, residents and organizations at the district ratios of DESIGN §11
(10 houses and 15 people a building), loaded with COPY.

The tiled communities keep their polygons but get codes of one fictitious county 960101
(townships 960101001…, 999 villages each: …001…), so the whole city is one district for ranking
and plans.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench import tiling
from gis.buildings.importing import import_buildings
from gis.buildings.reading import open_footprints
from gis.codes import format_codes
from gis.db import copy_rows, transaction

PROVINCE, CITY, COUNTY = "960000000000", "960100000000", "960101000000"
HOUSES_PER_BUILDING = 10
PEOPLE_PER_HOUSE = 1.5
FLOATING_SHARE = 0.4
RENTED_SHARE = 0.3
SINCE = date(2024, 1, 1)


@dataclass
class District:
    communities: list[str]
    townships: list[str]
    buildings: int
    houses: int
    people: int


VILLAGES_PER_TOWNSHIP = 999


def township_code(index: int) -> str:
    """The township of the ``index``-th community: 999 villages a township (a city-scale
    district has more communities than one township's three digits can number)."""
    return f"960101{index // VILLAGES_PER_TOWNSHIP + 1:03d}000"


def community_code(index: int) -> str:
    return f"{township_code(index)[:9]}{index % VILLAGES_PER_TOWNSHIP + 1:03d}"


def load_district(
    factory: sessionmaker[Session], *, buildings: int, out_dir: Path, data_dir: Path, seed: int = 6
) -> District:
    """Divisions, buildings (imported with codes), houses, people and residences."""
    city = tiling.make_city_files(buildings=buildings, out_dir=out_dir, data_dir=data_dir)
    frame = pyogrio.read_dataframe(city.communities, layer="communities")
    polygons = np.asarray(frame.geometry.values, dtype=object)
    codes = [community_code(i) for i in range(len(polygons))]
    with transaction(factory) as session:
        rows = [
            (PROVINCE, "province", 1, None),
            (CITY, "city", 2, PROVINCE),
            (COUNTY, "county", 3, CITY),
        ]
        townships = sorted({township_code(i) for i in range(len(polygons))})
        rows += [(township, "township", 4, COUNTY) for township in townships]
        for code, level, rank, parent in rows:
            session.execute(
                text(
                    "INSERT INTO divisions (code, name, level, rank, parent_code) "
                    "VALUES (:c, :c, :l, :r, :p)"
                ),
                {"c": code, "l": level, "r": rank, "p": parent},
            )
        for index, (code, polygon) in enumerate(zip(codes, polygons, strict=True)):
            session.execute(
                text(
                    "INSERT INTO divisions (code, name, level, rank, parent_code, geom) VALUES "
                    "(:c, :c, 'village', 5, :p, ST_Multi(ST_GeomFromWKB(:g, 4490)))"
                ),
                {"c": code, "p": township_code(index), "g": shapely.to_wkb(polygon)},
            )
    import_buildings(
        factory,
        source=open_footprints(city.buildings, layer="buildings", crs=None),
        community_code=None,
        repair=True,
        rejects_file=out_dir / "grids-bench-rejects.csv",
    )
    rng = np.random.default_rng(seed)
    with transaction(factory) as session:
        houses = _load_houses(session, rng)
        people = _load_people(session, rng)
        session.execute(text("ANALYZE"))
    return District(
        communities=codes,
        townships=townships,
        buildings=buildings,
        houses=houses,
        people=people,
    )


def _load_houses(session: Session, rng: np.random.Generator) -> int:
    rows = session.execute(
        text("SELECT uid, community_code, seq FROM buildings ORDER BY code")
    ).all()
    count = len(rows) * HOUSES_PER_BUILDING
    uids = np.repeat(np.array([r[0] for r in rows], dtype=object), HOUSES_PER_BUILDING)
    communities = np.repeat(np.array([r[1] for r in rows], dtype="U12"), HOUSES_PER_BUILDING)
    seqs = np.repeat(np.array([r[2] for r in rows], dtype=np.int64), HOUSES_PER_BUILDING)
    units = np.tile(np.arange(1, HOUSES_PER_BUILDING + 1, dtype=np.int64), len(rows))
    codes = format_codes(community_codes=communities, structure_classes=1, seqs=seqs, units=units)
    rented = rng.random(count) < RENTED_SHARE
    rooms = rng.integers(1, 4, count)
    uses = np.where(rng.random(count) < 0.9, "residential", "commercial")
    copy_rows(
        session,
        table="houses",
        columns=(
            "code",
            "building_uid",
            "district_code",
            "unit",
            "floor",
            "use",
            "rooms",
            "is_rented",
        ),
        rows=(
            (
                str(codes[i]),
                uids[i],
                str(communities[i])[:6],
                int(units[i]),
                int(units[i]) // 4 + 1,
                str(uses[i]),
                int(rooms[i]),
                bool(rented[i]),
            )
            for i in range(count)
        ),
    )
    return count


def _load_people(session: Session, rng: np.random.Generator) -> int:
    houses = (
        session.execute(text("SELECT uid FROM houses WHERE use = 'residential'")).scalars().all()
    )
    occupied = [h for h in houses if rng.random() < 0.85]
    # 85% of the dwellings occupied, 1 + Poisson people each: 1.5 people a house overall
    per_house = rng.poisson(PEOPLE_PER_HOUSE / (0.9 * 0.85) - 1, len(occupied)) + 1
    total = int(per_house.sum())
    people = [uuid.uuid4() for _ in range(total)]
    floating = rng.random(total) < FLOATING_SHARE
    key = rng.random(total) < 0.01
    copy_rows(
        session,
        table="people",
        columns=("uid", "name", "category", "is_key_person", "district_code"),
        rows=(
            (people[i], "测试", "floating" if floating[i] else "hukou", bool(key[i]), "960101")
            for i in range(total)
        ),
    )
    house_of = np.repeat(np.arange(len(occupied)), per_house)
    copy_rows(
        session,
        table="residences",
        columns=("person_uid", "house_uid", "period", "kind", "declared_by"),
        rows=(
            (people[i], occupied[house_of[i]], f"[{SINCE.isoformat()},)", "tenant", "self")
            for i in range(total)
        ),
    )
    organizations = houses[:: 20 * HOUSES_PER_BUILDING]
    copy_rows(
        session,
        table="organizations",
        columns=("name", "house_uid", "district_code"),
        rows=(("测试单位", house, "960101") for house in organizations),
    )
    return total
