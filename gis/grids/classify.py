"""Classifying the live grids of whole districts, and saying what changed and why."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.grids import indicator_queries, queries
from gis.grids.classes import ClassConfig, classify
from gis.grids.indicators import measure_live_grids
from gis.grids.models import GridClass


@dataclass(frozen=True)
class ClassChange:
    """One grid whose class is set or changes."""

    code: str
    old: str | None
    new: str
    summary: str
    hysteresis: str | None


@dataclass
class ClassifyReport:
    on: date
    grids: int = 0
    changes: list[ClassChange] = field(default_factory=list)
    kept: list[ClassChange] = field(default_factory=list)
    by_class: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def classify_grids(
    session: Session,
    *,
    on: date,
    config: ClassConfig,
    actor: Actor,
    prefix: str | None = None,
    dry_run: bool = False,
) -> ClassifyReport:
    """Classify every grid valid on ``on`` in the districts under ``prefix`` (all districts
    when None): ranks are taken within each whole district, so a district is always classified
    as a whole. Writes class, explanation, indicators and date unless ``dry_run``."""
    rows = queries.select_class_rows(session, on=on, prefix=prefix[:6] if prefix else None)
    by_district: dict[str, list[queries.ClassRow]] = defaultdict(list)
    for row in rows:
        by_district[row.community_code[:6]].append(row)
    report = ClassifyReport(on=on, grids=len(rows), dry_run=dry_run)
    updates: list[dict[str, Any]] = []
    # every grid counted in one set-based pass (a pass per district would read the people of
    # the whole city once per district), then ranked within its district
    measured = measure_live_grids(
        session, grids=[(row.uid, row.community_code) for row in rows], on=on
    )
    for district in sorted(by_district):
        members = by_district[district]
        indicators = [measured[str(row.uid)] for row in members]
        previous = [GridClass(row.grid_class) if row.grid_class else None for row in members]
        results = classify(indicators, previous=previous, config=config)
        for row, ind, result in zip(members, indicators, results, strict=True):
            new = str(result.grid_class)
            report.by_class[new] = report.by_class.get(new, 0) + 1
            change = ClassChange(
                row.code,
                row.grid_class,
                new,
                result.explanation["summary"],
                result.explanation["hysteresis"],
            )
            (report.changes if row.grid_class != new else report.kept).append(change)
            updates.append(
                {
                    "uid": row.uid,
                    "grid_class": result.grid_class,
                    "explanation": result.explanation,
                    "indicators": ind.as_dict(),
                    "on": on,
                }
            )
    if not dry_run:
        indicator_queries.store_classes(session, rows=updates)
        record_audit(
            session,
            actor=actor,
            action="grids.classify",
            target_codes=[c.code for c in report.changes],
            row_count=len(updates),
        )
    session.flush()
    return report
