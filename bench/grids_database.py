"""The grid benchmark's database: made or reused on a cluster of its own, its district and grids.

Created afresh (or migrated, when reused) on the embedded cluster of ``GRIDHOUSE_DATA_DIR``, never
the dev cluster; the district loaded by ``bench/grids_city.py`` and given a published plan per
township.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from bench.grids_city import load_district
from bench.grids_measures import ADMIN, timed
from gis import schema
from gis.clock import today_in_china
from gis.db import embedded_cluster, transaction
from gis.grids.classes import ClassConfig
from gis.grids.publishing import publish_plan
from gis.grids.suggesting import suggest_plan
from gis.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


def fresh_database(database: str, *, reuse: bool = False) -> str:
    settings = get_settings()
    if settings.database_url or settings.data_dir.resolve() == (ROOT / ".gridhouse").resolve():
        raise SystemExit(
            "run on an embedded cluster of its own: set GRIDHOUSE_DATA_DIR (not "
            ".gridhouse) and GRIDHOUSE_DB_PORT, and leave GRIDHOUSE_DATABASE_URL unset"
        )
    from gis import cluster

    embedded = embedded_cluster(settings)
    cluster.start(embedded)
    admin = embedded.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    url = embedded.url(database)
    if reuse:
        schema.upgrade(url)  # a district kept before newer migrations: bring it up to date
        return url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    schema.upgrade(url)
    return url


def drop_database(database: str) -> None:
    embedded = embedded_cluster(get_settings())
    admin = embedded.url("postgres").replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def kept_district(factory: Any) -> dict[str, Any]:
    with factory() as session:
        counts = session.execute(
            text(
                "SELECT (SELECT count(*) FROM buildings), (SELECT count(*) FROM houses), "
                "(SELECT count(*) FROM people), (SELECT count(*) FROM grids WHERE valid_to IS NULL)"
            )
        ).one()
    if counts[0] == 0:
        raise SystemExit("no kept district: run once with --keep first")
    return {
        "buildings": counts[0],
        "houses": counts[1],
        "people": counts[2],
        "grids": counts[3],
        "reused": True,
    }


def build_district(factory: Any, args: argparse.Namespace, results: dict[str, Any]) -> None:
    started = time.perf_counter()
    district = load_district(
        factory, buildings=args.buildings, out_dir=args.out, data_dir=args.data
    )
    results["load_s"] = round(time.perf_counter() - started, 1)
    results.update(
        houses=district.houses, people=district.people, communities=len(district.communities)
    )
    print(
        f"district: {args.buildings:,} buildings, {district.houses:,} houses, "
        f"{district.people:,} people, {len(district.communities)} communities "
        f"(loaded in {results['load_s']} s)"
    )
    publish_grids(factory, args, district.townships, results)


def list_townships(factory: Any) -> list[str]:
    with factory() as session:
        return list(
            session.scalars(
                text("SELECT code FROM divisions WHERE level = 'township' ORDER BY code")
            )
        )


def publish_grids(
    factory: Any, args: argparse.Namespace, townships: list[str], results: dict[str, Any]
) -> None:
    """A suggested plan per township (999 communities at most), published today."""
    results["suggest_s"] = results["publish_s"] = 0.0
    results["grids"] = 0
    for township in townships:
        with transaction(factory) as session:
            ms, plan = timed(
                partial(
                    suggest_plan,
                    session,
                    division_code=township,
                    scope=ADMIN,
                    target_households=args.target,
                )
            )
            results["suggest_s"] += round(ms / 1000, 1)
            ms, switch = timed(
                partial(
                    publish_plan,
                    session,
                    plan_id=plan.id,
                    effective=today_in_china(),
                    scope=ADMIN,
                    config=ClassConfig(),
                )
            )
            results["publish_s"] += round(ms / 1000, 1)
            results["grids"] += len(switch.added)
    print(
        f"grids: {results['grids']:,} suggested in {results['suggest_s']} s, published in "
        f"{results['publish_s']} s"
    )
