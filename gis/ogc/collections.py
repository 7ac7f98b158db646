"""The collections offered to GIS clients, and which rows of each a caller may read.

==========  ====================================  ===============================================
collection  features                              who reads what
==========  ====================================  ===============================================
buildings   live footprints (retired left out):   officers and police their scope (as in
            code, status, use, floors, …          ``/api/buildings``); planners every footprint
                                                  (no personal data, as in tiles); admins all
grids       grid versions valid today (or on      every role but the auditor, every grid (as in
            ``datetime``): code, name, class      ``/api/grids``: outlines are not personal)
divisions   divisions with a boundary: code,      every role but the auditor
            name, level, parent code
==========  ====================================  ===============================================

Auditors read the audit log only: every collection refuses them. Only these collections exist;
nothing else in the database is exposed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from gis.access.scope import Scope
from gis.buildings.models import PUBLIC_COLUMNS, Building, BuildingStatus
from gis.divisions.models import Division
from gis.errors import NotFound
from gis.grids.models import Grid
from gis.grids.queries import valid_on
from gis.users.models import Role


@dataclass(frozen=True)
class Collection:
    """One collection: its table, the column that identifies a feature, the properties shown,
    and the title and description a client lists."""

    id: str
    title: str
    description: str
    table: Any
    id_column: Any
    properties: tuple[Any, ...]
    is_temporal: bool = False

    @property
    def geom(self) -> Any:
        return self.table.geom


BUILDINGS = Collection(
    id="buildings",
    title="Buildings",
    description="Live building footprints with their permanent 25-character codes.",
    table=Building,
    id_column=Building.code,
    properties=PUBLIC_COLUMNS,
)
GRIDS = Collection(
    id="grids",
    title="Grids",
    description="Grid cells valid today (or on the date given as datetime), with their class.",
    table=Grid,
    id_column=Grid.code,
    properties=(
        Grid.code,
        Grid.version,
        Grid.name,
        Grid.community_code,
        Grid.grid_class,
        Grid.valid_from,
        Grid.valid_to,
    ),
    is_temporal=True,
)
DIVISIONS = Collection(
    id="divisions",
    title="Divisions",
    description="Administrative divisions that have a boundary, by 12-digit statistical code.",
    table=Division,
    id_column=Division.code,
    properties=(Division.code, Division.name, Division.level, Division.parent_code),
)
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (BUILDINGS, GRIDS, DIVISIONS)}


def get_collection(collection_id: str) -> Collection:
    """The collection called ``collection_id`` (NotFound for any other name)."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(f"no collection {collection_id[:100]!r}", field="collectionId") from None


def readable_collections(scope: Scope) -> list[Collection]:
    """The collections the caller may read, in listing order (none for auditors)."""
    if scope.role is Role.AUDITOR:
        return []
    return list(COLLECTIONS.values())


def rows_clause(collection: Collection, *, scope: Scope, on: date) -> ColumnElement[bool]:
    """The rows of ``collection`` the caller may read, on ``on`` for temporal collections;
    Forbidden (403) for a role that may read none of it."""
    scope.require_aggregates()
    if collection is BUILDINGS:
        admitted = true() if scope.role is Role.PLANNER else scope.buildings_clause()
        return and_(admitted, Building.status != BuildingStatus.RETIRED)
    if collection is GRIDS:
        return valid_on(on)
    return Division.geom.is_not(None)


def is_whole_table(collection: Collection, *, scope: Scope) -> bool:
    """True when the caller may read every row of a large collection (its extent can then be
    estimated instead of scanned): buildings for planners and admins."""
    return collection is BUILDINGS and scope.role in (Role.PLANNER, Role.ADMIN)
