"""Grid benchmark (issue 6, item 8): the impact of editing one grid at district scale (target
≤ 200 ms) and classifying every grid of the district, each with a reference measured in the same
run (DESIGN §11: ratios, because absolute times on shared machines are noisy).

- **edit with its impact**: one edit of a district plan (a grid grows by ~30 m inside its
  community, its neighbours give way: ``gis.grids.plan_edits.edit_grid``) answered with what
  changed in the impact (``gis.grids.impact.apply_edit``, what ``PUT /api/plans/{id}/grids/
  {grid}`` returns and the planner page shows), in its own transaction as the HTTP request, JSON
  included; the median of ``--edits`` grids. Also timed after each edit: the whole impact
  (``plan_impact``, ``GET /api/plans/{id}/impact``, read when a plan is opened). Reference: the
  bare SQL that counts the houses of the edited grid (the least any edit must do).
- **classify**: ``gis.grids.classify.classify_grids`` over every grid of the district, three
  ways, each rolled back: with the buildings' kept counts current (after one committed count of
  every building), with every building to count first (the kept counts marked stale inside the
  transaction), and after a day's changes (0.2% of the residents leave, through SQL, so the
  triggers mark their buildings). Reference: the bare SQL join of every building to its grid
  (``ST_PointOnSurface``).
- **classify many grids** (``--city-grids N``): the district's grids replaced, inside a
  transaction that is rolled back, by about N square cells clipped to the communities (from
  tomorrow), then all classified: the per-grid cost of a city's 10,000 grids, measured over
  this district's buildings and people (a real city has more people: see docs/benchmarks.md).

Runs in a database of its own (``bench_grids``) on the embedded cluster of ``GRIDHOUSE_DATA_DIR``
(not the dev cluster), created afresh and dropped at the end unless ``--keep``; ``--reuse``
measures again in a district kept by an earlier ``--keep`` run (its grids already published;
its schema is migrated first, so a district kept before a migration still works).
``python -m bench.bench_grids --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.grids_database import (
    ROOT,
    build_district,
    drop_database,
    fresh_database,
    kept_district,
    list_townships,
    publish_grids,
)
from bench.grids_measures import bench_city_classify, bench_classify, bench_edits
from gis.clock import today_in_china
from gis.db import make_engine, make_session_factory

DATABASE = "bench_grids"


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = fresh_database(args.database, reuse=args.reuse)
    engine = make_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    results: dict[str, Any] = {"buildings": args.buildings, "machine": machine()}
    if args.reuse:
        results.update(kept_district(factory))
        print(f"reusing the kept district: {results}")
        if results["grids"] == 0:  # loaded, not yet given grids (a build stopped there)
            publish_grids(factory, args, list_townships(factory), results)
    else:
        build_district(factory, args, results)
    if args.setup_only:
        engine.dispose()
        return results
    if not args.no_classify:
        results["classify"] = bench_classify(factory)
    if args.city_grids:
        results["classify_city"] = bench_city_classify(factory, cells=args.city_grids)
    if args.edits:
        results["impact"] = bench_edits(factory, edits=args.edits)
    engine.dispose()
    return results


def _name(value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.isascii():
        raise argparse.ArgumentTypeError("letters, digits and _ only")
    return value


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in load],
        "date": today_in_china().isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_grids", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--buildings", type=int, default=100_000, help="district: 100,000")
    parser.add_argument("--target", type=int, default=400, help="households a grid")
    parser.add_argument("--edits", type=int, default=10, help="0: no edits")
    parser.add_argument(
        "--city-grids", type=int, default=0, help="also classify about N cells (0: no)"
    )
    parser.add_argument("--no-classify", action="store_true", help="skip classifying the grids")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--database", default=DATABASE, help="database name (letters, digits, _)", type=_name
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse", action="store_true", help="measure in the district kept by a --keep run"
    )
    parser.add_argument(
        "--setup-only", action="store_true", help="build and publish the district, measure nothing"
    )
    args = parser.parse_args(argv)
    try:
        results = run(args)
    finally:
        if not (args.keep or args.reuse or args.setup_only):
            drop_database(args.database)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = args.out / f"grids-results-{args.buildings}-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
