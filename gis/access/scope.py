"""Who may see which rows: the caller as a :class:`Scope`, and SQL clauses that filter by it.

Every query that returns personal data, or rows that lead to it (buildings, houses, residences,
people, grid statistics, plans, exports, tiles), filters with a clause from the caller's scope, in
SQL, so that an object outside the scope is indistinguishable from a missing one::

    from gis.access.scope import Scope
    from gis.buildings.models import Building

    def select_building(session: Session, *, code: str, scope: Scope) -> Building | None:
        statement = select(Building).where(Building.code == code, scope.buildings_clause())
        return session.scalar(statement)  # None → raise NotFound: same 404 as a missing code

    def select_houses(session, *, building_code, scope):
        return select(House).where(scope.houses_clause(), ...)

The rules (DESIGN §8, docs/security.md):

============  ===========================================================================
role          personal rows visible
============  ===========================================================================
officer       buildings whose ``ST_PointOnSurface(geom)`` is covered by a *current* version
              (``valid_from <= today < valid_to``, or ``valid_to`` NULL) of one of their grids
police        buildings whose ``community_code`` starts with their division's prefix
admin         everything
planner       none (aggregates only: use :meth:`Scope.require_aggregates`)
auditor       none (the audit log only)
============  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, select, true
from sqlalchemy.orm import InstrumentedAttribute

from gis.audit.schemas import Actor
from gis.buildings.models import Building
from gis.codes import is_ascii_digits
from gis.errors import Forbidden, InvalidInput
from gis.grids.models import Grid
from gis.grids.queries import valid_on
from gis.houses.models import House
from gis.users.models import Role, User
from gis.users.schemas import SessionCaller

LEVEL_DIGITS = (2, 4, 6, 9, 12)
"""Significant digits of a 12-digit division code per level: province … village."""

PERSONAL_ROLES = frozenset({Role.OFFICER, Role.POLICE, Role.ADMIN})
"""Roles that may see rows of personal data at all (each within its scope)."""


def division_prefix(code: str) -> str:
    """The significant prefix of a 12-digit division code: its trailing zero groups stripped.

    >>> division_prefix("440305000000"), division_prefix("440305007000")
    ('440305', '440305007')
    >>> division_prefix("440300000000"), division_prefix("440305007003")
    ('4403', '440305007003')
    """
    if len(code) != 12 or not is_ascii_digits(code):
        raise ValueError(f"{code!r} is not a 12-digit division code")
    for digits in LEVEL_DIGITS:
        if set(code[digits:]) <= {"0"}:
            return code[:digits]
    return code  # pragma: no cover - the loop ends at 12 digits


def requested_division_prefix(code: str, *, field: str = "division") -> str:
    """:func:`division_prefix` of a code a caller gave: a malformed one is a 422 naming
    ``field``."""
    try:
        return division_prefix(code)
    except ValueError:
        raise InvalidInput("a division code has 12 digits", field=field) from None


@dataclass(frozen=True)
class Scope:
    """The caller: a user name, a role and the jurisdiction that bounds what they see.

    Build one with :meth:`for_user` (routes get it from ``api.deps.ScopeDep``) or
    :meth:`system` (CLI jobs acting for an administrator).
    """

    user_name: str
    role: Role
    grid_codes: frozenset[str] = frozenset()
    division_prefix: str | None = None

    @classmethod
    def for_user(cls, user: User | SessionCaller) -> Scope:
        """The scope of an account (or of the caller a login session names)."""
        prefix = division_prefix(user.division_code) if user.division_code else None
        return cls(
            user_name=user.name,
            role=user.role,
            grid_codes=frozenset(user.grid_codes or ()),
            division_prefix=prefix if user.role is Role.POLICE else None,
        )

    @classmethod
    def system(cls, name: str = "system") -> Scope:
        """An administrator's scope for jobs run from the CLI."""
        return cls(user_name=name, role=Role.ADMIN)

    @property
    def actor(self) -> Actor:
        """Who to name in audit rows."""
        return Actor(name=self.user_name, role=str(self.role))

    @property
    def may_see_personal(self) -> bool:
        """True for officers, police and admins: roles that see personal rows in their scope."""
        return self.role in PERSONAL_ROLES

    # -- role checks: raise Forbidden (403) for a role that may not use an operation at all ----

    def require_role(self, *roles: Role) -> None:
        """Refuse callers whose role is not among ``roles``."""
        if self.role not in roles:
            raise Forbidden(f"the {self.role} role may not do this")

    def require_personal(self) -> None:
        """Refuse planners and auditors: for routes that return personal data."""
        self.require_role(*PERSONAL_ROLES)

    def require_aggregates(self) -> None:
        """Refuse auditors: for routes that return counts and statistics (planners included)."""
        self.require_role(Role.OFFICER, Role.POLICE, Role.ADMIN, Role.PLANNER)

    # -- SQL clauses: add to .where() of any query of these tables ----------------------------

    def buildings_clause(
        self, building: type[Building] | Any = Building, *, on: date | None = None
    ) -> ColumnElement[bool]:
        """A boolean clause true for the rows of ``building`` (the class or an alias) in scope.

        ``on`` is the date an officer's grids must be valid on (default: the database's
        ``current_date``). Use it for buildings themselves and for any table joined to them.
        """
        if self.role is Role.ADMIN:
            return true()
        if self.role is Role.POLICE and self.division_prefix:
            # a building code begins with its community's code: the range lets a walk in code
            # order (a page of buildings) start at the jurisdiction instead of passing every
            # building of the divisions before it
            prefix = self.division_prefix
            return and_(
                building.code > prefix,
                building.code < prefix + "Z",  # after every digit and the check character X
                _prefix_clause(building, prefix),
            )
        if self.role is Role.OFFICER and self.grid_codes:
            # the box of the grids first (a building whose point on surface a grid covers
            # overlaps the grids' box), so the spatial index finds the few candidates instead of
            # every building being asked for its point on surface
            return and_(
                building.geom.op("&&")(_grids_box(self.grid_codes, on=on)),
                _in_grids_clause(building.geom, self.grid_codes, on=on),
            )
        return false()

    def building_uid_clause(
        self, column: InstrumentedAttribute[Any] | ColumnElement[Any], *, on: date | None = None
    ) -> ColumnElement[bool]:
        """True when ``column`` (a ``building_uid`` of another table) refers to a building in
        scope: ``select(House).where(scope.building_uid_clause(House.building_uid))``."""
        if self.role is Role.ADMIN:
            return true()
        if not self.may_see_personal:
            return false()
        return exists(
            select(Building.uid).where(Building.uid == column, self.buildings_clause(on=on))
        )

    def houses_clause(
        self, house: type[House] | Any = House, *, on: date | None = None
    ) -> ColumnElement[bool]:
        """True for rows of ``house`` (the class or an alias) whose building is in scope."""
        return self.building_uid_clause(house.building_uid, on=on)

    def house_uid_clause(
        self, column: InstrumentedAttribute[Any] | ColumnElement[Any], *, on: date | None = None
    ) -> ColumnElement[bool]:
        """True when ``column`` (a ``house_uid``, e.g. ``Residence.house_uid``) refers to a house
        in scope."""
        if self.role is Role.ADMIN:
            return true()
        if not self.may_see_personal:
            return false()
        return exists(select(House.uid).where(House.uid == column, self.houses_clause(on=on)))

    def grids_clause(self, grid: type[Grid] | Any = Grid) -> ColumnElement[bool]:
        """True for grid rows whose *personal* statistics the caller may see: an officer's own
        grid codes, grids of a police jurisdiction, every grid for admins, none otherwise.
        Grid outlines and suppressed counts are not personal: planners read them unfiltered."""
        if self.role is Role.ADMIN:
            return true()
        if self.role is Role.POLICE and self.division_prefix:
            return _prefix_clause(grid, self.division_prefix)
        if self.role is Role.OFFICER and self.grid_codes:
            return grid.code.in_(sorted(self.grid_codes))
        return false()


def _prefix_clause(table: Any, prefix: str) -> ColumnElement[bool]:
    """``community_code`` starts with ``prefix``, with the indexed ``district_code`` narrowed
    first so the planner can use its index."""
    district = prefix[:6]
    district_match = (
        table.district_code == district
        if len(prefix) >= 6
        else table.district_code.startswith(prefix, autoescape=True)
    )
    return and_(district_match, table.community_code.startswith(prefix, autoescape=True))


def _valid_on(on: date | None) -> ColumnElement[bool]:
    """Grid versions valid on ``on`` (default: the database's today)."""
    return valid_on(on if on is not None else func.current_date())


def _grids_box(codes: Collection[str], *, on: date | None) -> Any:
    """The box of the versions of ``codes`` valid on ``on`` as a geometry (NULL for none)."""
    return (
        select(func.ST_Envelope(func.ST_Collect(Grid.geom)))
        .where(Grid.code.in_(sorted(codes)), _valid_on(on))
        .scalar_subquery()
    )


def _in_grids_clause(geom: Any, codes: Collection[str], *, on: date | None) -> ColumnElement[bool]:
    """The point on surface of ``geom`` is covered by a version of one of ``codes`` valid on
    ``on`` (default: today)."""
    return exists(
        select(Grid.uid).where(
            Grid.code.in_(sorted(codes)),
            _valid_on(on),
            func.ST_Covers(Grid.geom, func.ST_PointOnSurface(geom)),
        )
    )
