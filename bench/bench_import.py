"""Import benchmark (issue 3, item 8): ``gridhouse import buildings`` against ``ogr2ogr`` on the
same tiled city, and a re-survey of N footprints against N, all in one run on one cluster.

Absolute times on shared machines are noisy (DESIGN §11), so the import is reported as a ratio
to ``ogr2ogr`` loading the same file in the same run: the floor any import is measured against.

Runs on its own embedded cluster (``GRIDHOUSE_DATA_DIR=.gridhouse-bench``, port 55440 unless set)
because it truncates the building tables between runs; it refuses the dev cluster. ``make bench``
runs it; ``python -m bench.bench_import --help`` lists the options.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import tiling

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BENCH_DATA_DIR = ROOT / ".gridhouse-bench"
BENCH_DB_PORT = 55440
DEV_DATA_DIR = ROOT / ".gridhouse"
DEV_DB_PORT = 55432
IMPORT_RATIO_TARGET = 1.5
RESURVEY_TARGET_S = 60.0
RESURVEY_SHIFT_M = (0.6, 0.8)  # 1.0 m to the north-north-east, every footprint
OGR_TABLE = "ogr_buildings"
GNU_TIME = Path("/usr/bin/time")  # Debian package `time`
# every table an import writes; TRUNCATE … CASCADE also empties what hangs off them (houses …)
IMPORT_TABLES = (
    "buildings", "building_footprints", "building_code_counters", "import_changes",
    "import_batches", "lineage",
)  # fmt: skip


@dataclass
class Timed:
    """One timed child process: wall time, its own peak RSS, exit status and its log."""

    command: str
    seconds: float
    peak_rss_mb: float
    returncode: int
    log: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Results:
    machine: dict[str, Any]
    buildings_file: str = ""
    buildings: int = 0
    ogr2ogr: Timed | None = None
    ogr2ogr_rows: int = 0
    gridhouse: Timed | None = None
    gridhouse_counts: dict[str, Any] = field(default_factory=dict)
    gridhouse_rows: int = 0
    ratio: float | None = None
    resurvey_buildings: int = 0
    resurvey_base: Timed | None = None
    resurvey: Timed | None = None
    resurvey_counts: dict[str, Any] = field(default_factory=dict)
    resurvey_changes: dict[str, int] = field(default_factory=dict)
    resurvey_statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def shown(path: Path) -> str:
    """A path as printed and recorded: relative to the repository when inside it (``--out`` may
    name a folder elsewhere)."""
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def configure_environment() -> bool:
    """Point gridhouse at the benchmark cluster; True when it is an embedded one we may stop."""
    if os.environ.get("GRIDHOUSE_DATABASE_URL"):
        return False
    os.environ.setdefault("GRIDHOUSE_DATA_DIR", str(BENCH_DATA_DIR))
    os.environ.setdefault("GRIDHOUSE_DB_PORT", str(BENCH_DB_PORT))
    data_dir = Path(os.environ["GRIDHOUSE_DATA_DIR"])
    data_dir = (data_dir if data_dir.is_absolute() else ROOT / data_dir).resolve()
    if data_dir == DEV_DATA_DIR.resolve() or int(os.environ["GRIDHOUSE_DB_PORT"]) == DEV_DB_PORT:
        raise SystemExit(
            "refusing to benchmark on the dev cluster (it truncates the building tables): "
            f"use GRIDHOUSE_DATA_DIR={BENCH_DATA_DIR.name} GRIDHOUSE_DB_PORT={BENCH_DB_PORT}"
        )
    os.environ["GRIDHOUSE_DATA_DIR"] = str(data_dir)
    return True


def ensure_ogr2ogr() -> str:
    """The path of ``ogr2ogr``; Debian's gdal-bin is installed when missing (root only)."""
    found = shutil.which("ogr2ogr")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("ogr2ogr is missing: as root run apt-get install -y gdal-bin")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "gdal-bin"],
        check=True,
        env=env,
    )
    found = shutil.which("ogr2ogr")
    if not found:
        raise SystemExit("gdal-bin installed but ogr2ogr is still not on PATH")
    return found


def gridhouse(*args: str) -> None:
    """Run a gridhouse command that is setup, not measured (its output goes to the console)."""
    subprocess.run([str(BIN / "gridhouse"), *args], check=True, cwd=ROOT)


def run_timed(args: Sequence[str], *, log: Path, env: dict[str, str] | None = None) -> Timed:
    """Run ``args``, wall-timed, its output to ``log``, its peak RSS measured by GNU time.

    ``wait4`` of a child forked from this process would report this process's RSS too (Linux
    keeps the pre-exec high-water mark), so the child is started by ``/usr/bin/time``, which is
    small; without it the peak RSS is reported as unknown (-1).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    rss_file = log.with_suffix(".rss")
    rss_file.unlink(missing_ok=True)
    wrapper = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file)] if GNU_TIME.exists() else []
    with log.open("w") as handle:
        started = time.perf_counter()
        process = subprocess.run(
            [*wrapper, *args], stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
            check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    rss_kb = rss_file.read_text().strip().splitlines()[-1] if rss_file.exists() else ""
    return Timed(
        command=" ".join(_redact(args)),
        seconds=round(seconds, 2),
        peak_rss_mb=round(int(rss_kb) / 1024, 1) if rss_kb.isdigit() else -1.0,
        returncode=process.returncode,
        log=shown(log),
    )


def _redact(args: Sequence[str]) -> list[str]:
    return [arg if not arg.startswith("PG:") else f'PG:"{arg[3:]}"' for arg in args]


def tail(path: str, lines: int = 3) -> str:
    text = (ROOT / path).read_text(errors="replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:])


class Database:
    """The few statements the benchmark itself runs, on the configured database."""

    def __init__(self) -> None:
        from sqlalchemy import make_url

        from gis.db import database_url, make_engine
        from gis.settings import get_settings

        self.url = database_url(get_settings())  # starts the embedded cluster if needed
        self.engine = make_engine(self.url, pool_size=1)
        parsed = make_url(self.url)
        self.conninfo = (
            f"host={parsed.host} port={parsed.port} dbname={parsed.database} user={parsed.username}"
        )
        self.password = parsed.password or ""

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def execute(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with self.connection() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.execute(sql, **params)
        return rows[0][0] if rows else None

    def checkpoint(self) -> None:
        """Write out dirty pages of earlier steps so the next timing does not pay for them."""
        self.execute("CHECKPOINT")

    def empty_import_tables(self) -> None:
        existing = [t for t in IMPORT_TABLES if self.scalar("SELECT to_regclass(:t)", t=t)]
        self.execute(f"TRUNCATE {', '.join(existing)} CASCADE")  # names from IMPORT_TABLES

    def drop_ogr_table(self) -> None:
        self.execute(f"DROP TABLE IF EXISTS {OGR_TABLE}")

    def latest_batch(self) -> tuple[int, dict[str, Any]]:
        rows = self.execute("SELECT id, counts FROM import_batches ORDER BY id DESC LIMIT 1")
        return (int(rows[0][0]), dict(rows[0][1] or {})) if rows else (0, {})

    def versions(self) -> dict[str, str]:
        return {
            "postgresql": str(self.scalar("SHOW server_version")),
            "postgis": str(self.scalar("SELECT postgis_lib_version()")),
            "geos": str(self.scalar("SELECT postgis_geos_version()")),
        }


def machine_info(ogr2ogr: str) -> dict[str, Any]:
    """What the numbers were measured on (they mean little without it)."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    gdal = subprocess.run([ogr2ogr, "--version"], capture_output=True, text=True, check=False)
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(total_kb / 1024 / 1024, 1),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gdal": gdal.stdout.strip(),
    }


def bench_ogr2ogr(db: Database, *, file: Path, ogr2ogr: str, logs: Path) -> tuple[Timed, int]:
    """(a) ``ogr2ogr -f PostgreSQL`` of the file into an empty table (its defaults: COPY, GiST)."""
    db.drop_ogr_table()
    db.checkpoint()
    args = [
        ogr2ogr, "-f", "PostgreSQL", f"PG:{db.conninfo}", str(file), "buildings",
        "-nln", OGR_TABLE, "-overwrite",
    ]  # fmt: skip
    timed = run_timed(args, log=logs / "ogr2ogr.log", env={**os.environ, "PGPASSWORD": db.password})
    rows = int(db.scalar(f"SELECT count(*) FROM {OGR_TABLE}") or 0) if timed.ok else 0  # noqa: S608
    db.drop_ogr_table()
    return timed, rows


def import_buildings(db: Database, file: Path, *, log: Path, resurvey: bool = False) -> Timed:
    db.checkpoint()
    args = [str(BIN / "gridhouse"), "import", "buildings", str(file), "--layer", "buildings"]
    return run_timed([*args, "--resurvey"] if resurvey else args, log=log)


def bench_resurvey(
    db: Database, results: Results, *, base: tiling.CityFiles, shifted: tiling.CityFiles, logs: Path
) -> None:
    """Import ``base``, then re-survey it with ``shifted`` (every footprint moved ~1 m)."""
    db.empty_import_tables()
    results.resurvey_buildings = base.buildings_count
    results.resurvey_base = import_buildings(db, base.buildings, log=logs / "resurvey-base.log")
    if not results.resurvey_base.ok:
        results.problems.append(f"re-survey base import failed: {tail(results.resurvey_base.log)}")
        return
    results.resurvey = import_buildings(
        db, shifted.buildings, log=logs / "resurvey.log", resurvey=True
    )
    if not results.resurvey.ok:
        results.problems.append(f"re-survey failed: {tail(results.resurvey.log)}")
        return
    batch_id, results.resurvey_counts = db.latest_batch()
    changes = db.execute(
        "SELECT change, count(*) FROM import_changes WHERE batch_id = :b GROUP BY change",
        b=batch_id,
    )
    results.resurvey_changes = {str(change): int(n) for change, n in changes}
    statuses = db.execute("SELECT status, count(*) FROM buildings GROUP BY status")
    results.resurvey_statuses = {str(status): int(n) for status, n in statuses}


def prepare_files(
    args: argparse.Namespace,
) -> tuple[tiling.CityFiles, tiling.CityFiles, tiling.CityFiles]:
    """The city, the re-survey's base and its shifted copy (reused when already current)."""
    started = time.perf_counter()
    base = tiling.load_base_tile(args.data)
    common = {"out_dir": args.out, "data_dir": args.data, "base": base}
    city = tiling.make_city_files(buildings=args.buildings, **common)
    survey = tiling.make_city_files(buildings=args.resurvey_buildings, **common)
    shifted = tiling.make_city_files(
        buildings=args.resurvey_buildings, shift_m=RESURVEY_SHIFT_M, **common
    )
    for files in (city, survey, shifted):
        state = "reused" if files.reused else "written"
        print(f"  {shown(files.buildings)}: {files.buildings_count:,} buildings, {state}")
    print(f"  files ready in {time.perf_counter() - started:.1f} s")
    return city, survey, shifted


def report(results: Results) -> str:
    """The summary printed at the end (the numbers docs/benchmarks.md records)."""
    m = results.machine
    lines = [
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, load at start "
        f"{m['load_average_at_start']}, at end {m.get('load_average_at_end')}; {m['gdal']}; "
        f"PostgreSQL {m.get('postgresql')}, "
        f"PostGIS {m.get('postgis')}; {m['date']}",
    ]
    if results.ogr2ogr and results.gridhouse:
        a, b = results.ogr2ogr, results.gridhouse
        lines += [
            f"P1 import of {results.buildings:,} footprints ({results.buildings_file})",
            f"  (a) ogr2ogr            {a.seconds:8.1f} s  peak RSS {a.peak_rss_mb:7.1f} MB  "
            f"rows {results.ogr2ogr_rows:,}" + ("" if a.ok else f"  FAILED: {tail(a.log)}"),
            f"  (b) gridhouse import   {b.seconds:8.1f} s  peak RSS {b.peak_rss_mb:7.1f} MB  "
            f"rows {results.gridhouse_rows:,}" + ("" if b.ok else f"  FAILED: {tail(b.log)}"),
        ]
        if results.ratio is not None:
            verdict = "met" if results.ratio <= IMPORT_RATIO_TARGET else "MISSED"
            lines.append(
                f"  ratio b/a = {results.ratio:.2f} (target <= {IMPORT_RATIO_TARGET}: {verdict})"
            )
        lines.append(f"  import summary: {results.gridhouse_counts}")
    if results.resurvey_base:
        lines.append(f"P6 re-survey of {results.resurvey_buildings:,} against as many")
        lines.append(
            f"  first import           {results.resurvey_base.seconds:8.1f} s  "
            f"peak RSS {results.resurvey_base.peak_rss_mb:7.1f} MB"
        )
        if results.resurvey and results.resurvey.ok:
            verdict = "met" if results.resurvey.seconds <= RESURVEY_TARGET_S else "MISSED"
            lines += [
                f"  --resurvey (1 m shift) {results.resurvey.seconds:8.1f} s  peak RSS "
                f"{results.resurvey.peak_rss_mb:7.1f} MB  (target <= {RESURVEY_TARGET_S:.0f} s: "
                f"{verdict})",
                f"  changelog {results.resurvey_changes}; batch counts {results.resurvey_counts}",
                f"  buildings by status {results.resurvey_statuses}",
            ]
    lines += [f"problem: {problem}" for problem in results.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_import", description=__doc__)
    parser.add_argument("--buildings", type=int, default=tiling.DEFAULT_BUILDINGS)
    parser.add_argument("--resurvey-buildings", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--skip-import", action="store_true", help="only the re-survey")
    parser.add_argument("--skip-resurvey", action="store_true", help="only P1")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running")
    args = parser.parse_args(argv)
    args.out, args.data = args.out.resolve(), args.data.resolve()

    is_embedded = configure_environment()
    ogr2ogr = ensure_ogr2ogr()
    print(f"database: {os.environ.get('GRIDHOUSE_DATA_DIR', 'GRIDHOUSE_DATABASE_URL')}")
    gridhouse("migrate")
    gridhouse("import", "divisions", str(args.data / "divisions"))
    print("generating the tiled city (deterministic; reused when current)")
    city, survey, shifted = prepare_files(args)
    for files in sorted({city, survey}, key=lambda f: f.tiles):  # the city's tiles hold survey's
        gridhouse("import", "divisions", str(args.data / "divisions"), "--boundaries",
                  str(files.communities))  # fmt: skip

    db = Database()
    results = Results(machine=machine_info(ogr2ogr) | db.versions())
    logs = args.out / "logs"
    try:
        if not args.skip_import:
            results.buildings_file = shown(city.buildings)
            results.buildings = city.buildings_count
            print(f"(a) ogr2ogr {city.buildings.name} …", flush=True)
            results.ogr2ogr, results.ogr2ogr_rows = bench_ogr2ogr(
                db, file=city.buildings, ogr2ogr=ogr2ogr, logs=logs
            )
            print(f"    {results.ogr2ogr.seconds:.1f} s", flush=True)
            db.empty_import_tables()
            print(f"(b) gridhouse import buildings {city.buildings.name} …", flush=True)
            results.gridhouse = import_buildings(db, city.buildings, log=logs / "import.log")
            print(f"    {results.gridhouse.seconds:.1f} s", flush=True)
            results.gridhouse_rows = int(db.scalar("SELECT count(*) FROM buildings") or 0)
            results.gridhouse_counts = db.latest_batch()[1]
            for name, timed in (("ogr2ogr", results.ogr2ogr), ("import", results.gridhouse)):
                if not timed.ok:
                    results.problems.append(f"{name} failed: {tail(timed.log)}")
            if results.ogr2ogr.ok and results.gridhouse.ok:
                results.ratio = round(results.gridhouse.seconds / results.ogr2ogr.seconds, 2)
        if not args.skip_resurvey:
            print(
                f"P6 re-survey {survey.buildings.name} then {shifted.buildings.name} …", flush=True
            )
            bench_resurvey(db, results, base=survey, shifted=shifted, logs=logs)
    finally:
        results.machine["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
        db.engine.dispose()
        out = args.out / f"results-{args.buildings}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(asdict(results), indent=2, ensure_ascii=False) + "\n")
        print(report(results))
        print(f"results: {shown(out)}; logs: {shown(logs)}/")
        if is_embedded and not args.keep_cluster:
            gridhouse("db", "stop")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
