"""The demo's accounts: one user per role, with a published password, for trying the pages.

Only ``gridhouse demo`` creates them (never a real deployment); an account that exists is left
as it is, so the step is idempotent and a changed password stays changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.buildings.models import Building
from gis.grids.models import Grid
from gis.tiles.queries import current_grid_clause
from gis.users import queries as user_queries
from gis.users.models import Role
from gis.users.service import add_user

DEMO_PASSWORD = "gridhouse-demo"  # noqa: S105 - published in the README, demo accounts only
DEMO_ACTOR = Actor(name="cli:demo", role="admin")
OFFICER_GRIDS = 2
"""The demo officer holds the grids of the first demo community with the most buildings."""


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: Role
    created: bool


def add_demo_users(session: Session, *, township: str, community: str) -> list[DemoUser]:
    """``demo_officer`` (the busiest grids of ``community``), ``demo_police`` (``township``),
    ``demo_planner``, ``demo_admin``, ``demo_auditor``; all with :data:`DEMO_PASSWORD`."""
    buildings = func.count(Building.uid)
    grids = list(
        session.scalars(
            select(Grid.code)
            .join(
                Building,
                and_(
                    Building.geom.op("&&")(Grid.geom),
                    func.ST_Covers(Grid.geom, func.ST_PointOnSurface(Building.geom)),
                ),
            )
            .where(Grid.community_code == community, current_grid_clause())
            .group_by(Grid.code)
            .order_by(buildings.desc(), Grid.code)
            .limit(OFFICER_GRIDS)
        )
    )
    accounts: list[tuple[str, Role, dict[str, object]]] = [
        ("demo_officer", Role.OFFICER, {"grid_codes": grids}),
        ("demo_police", Role.POLICE, {"division_code": township}),
        ("demo_planner", Role.PLANNER, {}),
        ("demo_admin", Role.ADMIN, {}),
        ("demo_auditor", Role.AUDITOR, {}),
    ]
    users = []
    for name, role, jurisdiction in accounts:
        if user_queries.select_user(session, name=name) is not None:
            users.append(DemoUser(name, role, created=False))
            continue
        if role is Role.OFFICER and not grids:
            continue  # no grids yet: an officer without grids cannot be created
        add_user(
            session, name=name, role=role, password=DEMO_PASSWORD, actor=DEMO_ACTOR,
            **jurisdiction,  # type: ignore[arg-type]
        )  # fmt: skip
        users.append(DemoUser(name, role, created=True))
    return users
