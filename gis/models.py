"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from gis.audit.models import AuditEntry
from gis.buildings.models import (
    Building,
    BuildingCodeCounter,
    BuildingFootprint,
    ImportBatch,
    ImportChange,
    Lineage,
)
from gis.db import Base
from gis.divisions.models import Division
from gis.grids.models import Grid, GridCodeCounter
from gis.houses.models import House
from gis.people.models import Organization, Person, Residence
from gis.users.models import User, UserSession

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "BuildingCodeCounter",
    "BuildingFootprint",
    "Division",
    "Grid",
    "GridCodeCounter",
    "House",
    "ImportBatch",
    "ImportChange",
    "Lineage",
    "Organization",
    "Person",
    "Residence",
    "User",
    "UserSession",
]
