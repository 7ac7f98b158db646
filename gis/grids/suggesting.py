"""Suggesting a draft plan: grids designed by ``gis.grids.suggest`` for each community of a
division, from its buildings, their households and the roads loaded (``gridhouse import roads``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from gis.access.scope import Scope
from gis.clock import today_in_china
from gis.errors import InvalidInput
from gis.grids import area_queries, plan_queries
from gis.grids.indicators import estimated_districts
from gis.grids.models import GridPlan
from gis.grids.plans import create_plan, plan_communities, refresh_plan
from gis.grids.suggest import BAND_HIGH, BAND_LOW, SuggestInput, suggest_grids
from gis.roads.queries import select_road_lines


def suggest_plan(
    session: Session,
    *,
    division_code: str,
    scope: Scope,
    target_households: int = 400,
    on: date | None = None,
    name: str | None = None,
) -> GridPlan:
    """A draft plan whose grids, for every community of the division that has a boundary, are
    suggested afresh (they get new codes when published; lineage links them to the old)."""
    if not 10 <= target_households <= 100_000:
        raise InvalidInput("the target is 10…100,000 households", field="--target-households")
    on = on or today_in_china()
    band = (round(BAND_LOW * target_households), round(BAND_HIGH * target_households))
    plan = create_plan(
        session,
        division_code=division_code,
        scope=scope,
        name=name or f"suggested {division_code} {on.isoformat()}",
        target_households=band,
        on=on,
        # measured and checked once its grids are suggested: the copied live grids are
        # replaced (checking them first would be work thrown away)
        refresh=False,
    )
    polygons = area_queries.select_community_polygons(
        session, codes=plan_communities(session, plan)
    )
    estimated = estimated_districts(session, districts=[plan.district_code])[plan.district_code]
    # a community without a boundary keeps its copied grids (measured with the new ones)
    new_ids: list[int] = [
        row.id
        for row in plan_queries.select_plan_grids(
            session,
            plan_id=plan.id,
            communities=sorted(c for c, wkb in polygons.items() if wkb is None),
            with_geometry=False,
        )
    ]
    for community, wkb in sorted(polygons.items()):
        if wkb is None:
            continue
        old = plan_queries.select_plan_grids(
            session, plan_id=plan.id, communities=[community], with_geometry=False
        )
        plan_queries.delete_plan_grids(session, ids=[row.id for row in old])
        for polygon in suggest_community(
            session,
            community=community,
            wkb=wkb,
            on=on,
            target=target_households,
            estimated=estimated,
        ):
            values = {"plan_id": plan.id, "community_code": community}
            new_ids.append(
                plan_queries.insert_plan_grid(session, values=values, wkb=shapely.to_wkb(polygon))
            )
    refresh_plan(session, plan=plan, grid_ids=new_ids, communities=sorted(polygons), on=on)
    return plan


def suggest_community(
    session: Session, *, community: str, wkb: bytes, on: date, target: int, estimated: bool
) -> list[Any]:
    """Suggested grid polygons of one community (EPSG:4490), in reading order."""
    outline = shapely.from_wkb(wkb)
    rows = area_queries.select_suggest_buildings(session, community=community, on=on)
    footprints = np.array([shapely.from_wkb(r[0]) for r in rows], dtype=object)
    points = np.array([shapely.from_wkb(r[1]) for r in rows], dtype=object)
    households = np.array([r[2] if estimated else r[3] for r in rows], dtype=np.float64)
    roads = np.array(
        [shapely.from_wkb(line) for line in select_road_lines(session, wkb=wkb)], dtype=object
    )
    data = SuggestInput(
        community=outline,
        footprints=footprints,
        points=points,
        households=households,
        roads=roads,
        target_households=target,
    )
    return suggest_grids(data)
