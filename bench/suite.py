"""The benchmark suite's results and its table, printed and added to docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
DOCS_HEADING = "## Benchmark suite (issue 8)"


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
