"""The demo district's grids: Nanshan's roads loaded, grids suggested and published for the demo
communities, then classified. Skipped when the communities already have grids (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.crs import parse_crs
from gis.db import transaction
from gis.grids import queries
from gis.grids.classes import ClassConfig
from gis.grids.classify import classify_grids
from gis.grids.publishing import publish_plan
from gis.grids.suggesting import suggest_plan
from gis.roads import queries as road_queries
from gis.roads.service import import_roads

DEMO_TARGET_HOUSEHOLDS = 400


@dataclass
class DemoGrids:
    """What the demo's grid step did."""

    roads_loaded: int = 0
    skipped: bool = False
    plan_id: int | None = None
    published: int = 0
    by_class: dict[str, int] = field(default_factory=dict)


def build_demo_grids(
    factory: sessionmaker[Session],
    *,
    data: Path,
    file: str,
    crs: str,
    township: str,
    communities: list[str],
    config: ClassConfig | None = None,
) -> DemoGrids:
    """Load the file's roads once; suggest, publish and classify grids unless they exist."""
    report = DemoGrids()
    scope = Scope.system("cli:demo")
    with transaction(factory) as session:
        if road_queries.count_roads(session, source=f"{file}:roads") == 0:
            loaded = import_roads(session, path=data / file, layer="roads", crs=parse_crs(crs))
            report.roads_loaded = loaded.imported
    with transaction(factory) as session:
        if queries.exists_open_grids(session, communities=communities):
            report.skipped = True
            return report
        plan = suggest_plan(
            session, division_code=township, scope=scope, target_households=DEMO_TARGET_HOUSEHOLDS
        )
        report.plan_id = plan.id
        result = publish_plan(
            session,
            plan_id=plan.id,
            effective=today_in_china(),
            scope=scope,
            config=config or ClassConfig(),
        )
        report.published = len(result.added)
        classified = classify_grids(
            session,
            on=today_in_china(),
            config=config or ClassConfig(),
            actor=scope.actor,
            prefix=township[:6],
        )
        report.by_class = classified.by_class
    return report
