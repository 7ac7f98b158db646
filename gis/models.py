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
from gis.events.models import (
    Event,
    EventMoveDue,
    EventPhoto,
    EventStep,
    ExchangeBatch,
    ExchangeFollowUp,
    ResidencePermit,
)
from gis.grids.models import (
    Grid,
    GridCodeCounter,
    GridLineage,
    GridPlan,
    PlanBuilding,
    PlanGrid,
)
from gis.houses.models import House
from gis.people.models import (
    Declaration,
    Employment,
    Organization,
    Person,
    Residence,
    VoidedResidence,
)
from gis.roads.models import Road
from gis.users.models import User, UserSession

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "BuildingCodeCounter",
    "BuildingFootprint",
    "Declaration",
    "Division",
    "Employment",
    "Event",
    "EventMoveDue",
    "EventPhoto",
    "EventStep",
    "ExchangeBatch",
    "ExchangeFollowUp",
    "Grid",
    "GridCodeCounter",
    "GridLineage",
    "GridPlan",
    "House",
    "ImportBatch",
    "ImportChange",
    "Lineage",
    "Organization",
    "Person",
    "PlanBuilding",
    "PlanGrid",
    "Residence",
    "ResidencePermit",
    "Road",
    "User",
    "UserSession",
    "VoidedResidence",
]
