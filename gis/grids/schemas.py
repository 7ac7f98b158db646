"""Shapes of the grids domain: topology problems, indicators, and planner-safe aggregates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict

from gis.access.masking import shown_part, suppress_small_count
from gis.access.schemas import AggregateModel
from gis.crs import WGS84_SRID, SourceCrs, transform_geometries
from gis.grids.measure import where


class ProblemKind(StrEnum):
    """What a topology rule found (DESIGN §6: the hard rules block publishing)."""

    INVALID = "invalid_polygon"
    MULTIPART = "not_single_polygon"
    OVERLAP = "overlap"
    GAP = "gap"
    SLIVER = "sliver"
    OUTSIDE = "outside_community"
    NO_COMMUNITY = "no_community_boundary"
    UNASSIGNED = "building_unassigned"
    MULTIPLE = "building_in_several_grids"


class Severity(StrEnum):
    ERROR = "error"  # a hard rule: blocks publishing
    WARNING = "warning"  # reported, never blocking


@dataclass(frozen=True)
class Tolerances:
    """Areas below ``noise_m2`` are floating-point noise and not reported; gaps (and parts
    outside the community) below ``sliver_m2`` are reported as slivers with their area, as
    warnings; anything larger breaks a hard rule."""

    noise_m2: float = 0.01
    sliver_m2: float = 10.0


@dataclass(frozen=True)
class GridShape:
    """A grid to check: its reference (a code, or ``#id`` for a plan's new grid), its community
    and its geometry (shapely, EPSG:4490)."""

    ref: str
    community_code: str
    geom: Any


@dataclass(frozen=True)
class Problem:
    """One broken rule, located: ``geom`` (EPSG:4490) is where it is, ``area_m2`` its size."""

    kind: ProblemKind
    severity: Severity
    message: str
    geom: Any
    community_code: str | None = None
    grids: tuple[str, ...] = ()
    area_m2: float | None = None
    building_code: str | None = None

    @property
    def location(self) -> str:
        return where(self.geom)

    def line(self) -> str:
        """One printable line: severity, kind, message, ``at lon,lat``."""
        return f"{self.severity}: {self.kind}: {self.message} at {self.location}"

    def feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (EPSG:4326, RFC 7946) a map can draw."""
        wgs84 = transform_geometries(
            np.array([self.geom], dtype=object), SourceCrs(epsg=4490), WGS84_SRID
        )[0]
        return {
            "type": "Feature",
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(wgs84, 1e-7))),
            "properties": {
                "kind": str(self.kind),
                "severity": str(self.severity),
                "message": self.message,
                "community_code": self.community_code,
                "grids": list(self.grids),
                "area_m2": None if self.area_m2 is None else round(self.area_m2, 2),
                "building_code": self.building_code,
                "location": self.location,
            },
        }


@dataclass
class TopologyReport:
    """Every problem found; ``ok`` when none breaks a hard rule."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def feature_collection(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [p.feature() for p in self.problems]}


INDICATOR_NAMES = (
    "buildings",
    "houses",
    "households",
    "resident_count",
    "floating_count",
    "rented_houses",
    "large_rentals",
    "organizations",
    "key_person_count",
    "open_events",
)
"""Counts measured per grid (``resident_count``, not ``residents``: aggregate models may not
carry a field named like personal data)."""


@dataclass
class Indicators:
    """Measured indicators of one grid on a date. ``households_estimated``: no residences are
    registered in the district, so households are the dwellings (residential, mixed and dorm
    houses) and residents are unknown (0)."""

    buildings: int = 0
    houses: int = 0
    households: int = 0
    resident_count: int = 0
    floating_count: int = 0
    rented_houses: int = 0
    large_rentals: int = 0
    organizations: int = 0
    key_person_count: int = 0
    open_events: int = 0
    households_estimated: bool = False
    moved_buildings: int = 0
    moved_households: int = 0
    moved_residents: int = 0

    @property
    def floating_share(self) -> float:
        return self.floating_count / self.resident_count if self.resident_count else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in INDICATOR_NAMES},
            "floating_share": round(self.floating_share, 4),
            "households_estimated": self.households_estimated,
            "moved_buildings": self.moved_buildings,
            "moved_households": self.moved_households,
            "moved_residents": self.moved_residents,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Indicators:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})


class GridStatsAggregate(AggregateModel):
    """A grid's indicators as planners see them: counts from 1 to 4 suppressed (``null``), and
    the floating share and count when the floating, the residents or those not floating are
    1 to 4."""

    code: str
    on: str
    buildings: int | None
    houses: int | None
    households: int | None
    households_estimated: bool
    resident_count: int | None
    floating_count: int | None
    floating_share: float | None
    rented_houses: int | None
    large_rentals: int | None
    organizations: int | None
    key_person_count: int | None
    open_events: int | None
    officers_needed: int
    grid_class: str | None
    notes: list[str]


def suppressed_stats(
    *,
    code: str,
    on: str,
    indicators: Indicators,
    officers: int,
    grid_class: str | None,
    notes: list[str],
) -> GridStatsAggregate:
    """The planner's view of ``indicators``."""
    counts = {name: suppress_small_count(getattr(indicators, name)) for name in INDICATOR_NAMES}
    counts["floating_count"] = shown_part(indicators.floating_count, indicators.resident_count)
    share = None if counts["floating_count"] is None else round(indicators.floating_share, 4)
    return GridStatsAggregate(
        code=code,
        on=on,
        **counts,
        floating_share=share,
        households_estimated=indicators.households_estimated,
        officers_needed=officers,
        grid_class=grid_class,
        notes=notes,
    )


class GridStats(BaseModel):
    """A grid's indicators in full, for the roles whose scope holds the grid."""

    model_config = ConfigDict(extra="forbid")

    code: str
    on: str
    buildings: int
    houses: int
    households: int
    households_estimated: bool
    resident_count: int
    floating_count: int
    floating_share: float
    rented_houses: int
    large_rentals: int
    organizations: int
    key_person_count: int
    open_events: int
    officers_needed: int
    grid_class: str | None
    notes: list[str]


def full_stats(
    *,
    code: str,
    on: str,
    indicators: Indicators,
    officers: int,
    grid_class: str | None,
    notes: list[str],
) -> GridStats:
    counts = {name: getattr(indicators, name) for name in INDICATOR_NAMES}
    return GridStats(
        code=code,
        on=on,
        **counts,
        floating_share=round(indicators.floating_share, 4),
        households_estimated=indicators.households_estimated,
        officers_needed=officers,
        grid_class=grid_class,
        notes=notes,
    )
