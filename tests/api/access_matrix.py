"""The authorization matrix: every route × every role (and anonymous) × own / other / missing.

A new route adds one :class:`RouteCase` to :data:`CASES`; ``tests/api/test_access_matrix.py``
runs it for every role and fails when a route of the app has no case. Objects come from the
world of ``tests/access_world.py``: for building-like routes, ``own`` is a building in the
officer's grid and the police user's county, ``other`` one outside both (an admin sees both),
``missing`` a well-formed code that does not exist. An object outside the caller's scope must
answer exactly like a missing one: same status, same body (the code itself aside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from gis.users.models import Role
from tests.access_world import PASSWORD, World

Variant = Literal["own", "other", "missing"]
Caller = Role | None  # None: no token at all

ALL_ROLES: frozenset[Role] = frozenset(Role)
PERSONAL: frozenset[Role] = frozenset({Role.OFFICER, Role.POLICE, Role.ADMIN})
SEES_OTHER: frozenset[Role] = frozenset({Role.ADMIN})
"""Roles whose scope holds the ``other`` object too."""


@dataclass(frozen=True)
class RouteCase:
    """How one route must answer each caller.

    ``allowed`` roles get ``ok_status`` for objects in their scope; other roles get
    ``denied_status`` (403 when the role may not use the route at all, 404 when the route
    answers every object of theirs as missing). Anonymous callers get 401 unless ``public``.
    ``objects`` names the kind of object in ``path`` (``{code}``; ``{plan_id}`` and ``{grid_id}``
    for plans and their grids): ``buildings`` from ``world.buildings``, any other kind from
    ``world.objects[kind]``; routes without one run once (a ``{plan_id}`` is the own plan).
    ``sees_other``: roles for which the ``other`` object is in scope (default: admins).
    ``query``: a query string added to the URL (not part of the route's id).
    ``url_path``: the path to request when the route's has placeholders the world cannot fill
    (``/tiles/{layer}/{z}/{x}/{y}.pbf``).
    ``lists`` names the kind of object a list route returns: its body must hold the ``own``
    object for roles that see it and never the ``other`` one for roles whose scope excludes it.
    ``allowed_keys``: the top-level keys a successful JSON body may carry.
    ``pending``: a reason the route does not meet its case yet (the case is expected to fail).
    """

    method: str
    path: str
    allowed: frozenset[Role]
    ok_status: int = 200
    denied_status: int = 403
    public: bool = False
    anonymous_status: int | None = None
    objects: str | None = None
    lists: Literal["buildings", "people"] | None = None
    body: Callable[[Caller, World], dict[str, object]] | None = None
    allowed_keys: frozenset[str] | None = None
    revokes_token: bool = False
    pending: str | None = None
    sees_other: frozenset[Role] = SEES_OTHER
    query: str = ""
    url_path: str | None = None
    variants: tuple[Variant, ...] = field(init=False)

    def __post_init__(self) -> None:
        variants: tuple[Variant, ...] = ("own", "other", "missing") if self.objects else ("own",)
        object.__setattr__(self, "variants", variants)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def expected_status(self, caller: Caller, variant: Variant) -> int:
        if caller is None:
            if self.anonymous_status is not None:
                return self.anonymous_status
            return self.ok_status if self.public else 401
        if caller not in self.allowed:
            return self.denied_status
        if variant == "missing" or (variant == "other" and caller not in self.sees_other):
            return 404
        return self.ok_status

    def object_code(self, world: World, variant: Variant) -> str:
        """The code (or id) of the object a variant asks for."""
        if self.objects == "buildings":
            return {
                "own": world.buildings["own"],
                "other": world.buildings["far"],
                "missing": world.missing_building,
            }[variant]
        assert self.objects is not None
        return world.objects[self.objects][variant]

    def url(self, world: World, variant: Variant) -> str:
        if self.url_path is not None:
            return self.url_path + self.query
        if "{" not in self.path:
            return self.path + self.query
        code = self.object_code(world, variant) if self.objects else ""
        plans = world.objects.get("plans", {})
        plan_id = plans.get("own", "")
        if self.objects == "plans":
            plan_id = code
        elif self.objects == "plan_grids" and variant == "other":
            plan_id = plans["other"]
        return (
            self.path.format(code=code, plan_id=plan_id, grid_id=code, uid=code, credit_code=code)
            + self.query
        )


def _login_body(caller: Caller, world: World) -> dict[str, object]:
    if caller is None:
        return {"name": "nobody", "password": PASSWORD}
    return {"name": world.users[caller], "password": PASSWORD}


AGGREGATES: frozenset[Role] = ALL_ROLES - {Role.AUDITOR}
PLANS: frozenset[Role] = frozenset({Role.PLANNER, Role.ADMIN})
BOX_A_SMALLER = {
    "type": "Polygon",
    "coordinates": [[[113.90, 22.50], [113.909, 22.50], [113.909, 22.51], [113.90, 22.51],
                     [113.90, 22.50]]],
}  # fmt: skip
ACROSS_BOX_A = {"type": "LineString", "coordinates": [[113.905, 22.499], [113.905, 22.511]]}


def _merge_body(caller: Caller, world: World) -> dict[str, object]:
    grids = world.objects["plan_grids"]
    return {"grid_ids": [int(grids["own"]), int(grids["own_b"])]}


GRID_CASES: list[RouteCase] = [
    # grid outlines are not personal: every role but the auditor reads any of them
    RouteCase("GET", "/api/grids", AGGREGATES),
    RouteCase("GET", "/api/grids/{code}", AGGREGATES, objects="grids", sees_other=AGGREGATES),
    # full statistics within the scope; planners read any grid's, suppressed
    RouteCase("GET", "/api/grids/{code}/stats", AGGREGATES, objects="grids",
              sees_other=PLANS),
    RouteCase("GET", "/api/grids/problems", PLANS, query="?division=990101"),
    RouteCase("POST", "/api/plans", PLANS, ok_status=201,
              body=lambda caller, world: {"division_code": "990101000000"}),
    RouteCase("GET", "/api/plans", PLANS, allowed_keys=frozenset({"items", "next_before_id"})),
    RouteCase("GET", "/api/plans/{plan_id}", PLANS, objects="plans", sees_other=PLANS),
    RouteCase("DELETE", "/api/plans/{plan_id}", PLANS, objects="plans", sees_other=PLANS),
    RouteCase("GET", "/api/plans/{plan_id}/impact", PLANS, objects="plans", sees_other=PLANS),
    RouteCase("POST", "/api/plans/{plan_id}/grids", PLANS, objects="plans", sees_other=PLANS,
              ok_status=201, body=lambda caller, world: {"geometry": BOX_A_SMALLER,
                                                          "community_code": "990101001001"}),
    RouteCase("PUT", "/api/plans/{plan_id}/grids/{grid_id}", PLANS, objects="plan_grids",
              sees_other=PLANS, body=lambda caller, world: {"geometry": BOX_A_SMALLER}),
    RouteCase("DELETE", "/api/plans/{plan_id}/grids/{grid_id}", PLANS, objects="plan_grids",
              sees_other=PLANS, ok_status=204),
    RouteCase("POST", "/api/plans/{plan_id}/grids/{grid_id}/split", PLANS, objects="plan_grids",
              sees_other=PLANS, body=lambda caller, world: {"line": ACROSS_BOX_A}),
    RouteCase("POST", "/api/plans/{plan_id}/merge", PLANS, body=_merge_body),
    # the world's communities have no boundary, so publishing is refused (409): reaching the
    # refusal is what the matrix checks; tests/api/test_plans_api.py publishes for real
    RouteCase("POST", "/api/plans/{plan_id}/publish", PLANS, objects="plans", sees_other=PLANS,
              ok_status=409, body=lambda caller, world: {"effective_date": "2099-01-01"}),
]  # fmt: skip


MAP_ROLES: frozenset[Role] = frozenset({Role.OFFICER, Role.POLICE, Role.ADMIN})
MAP_CASES: list[RouteCase] = [
    # tiles: every role but the auditor; what each sees in them is tests/gis/test_tiles.py's
    RouteCase("GET", "/tiles/{layer}/{z}/{x}/{y}.pbf", AGGREGATES,
              url_path="/tiles/roads+grids+buildings/16/53503/28561.pbf"),
    # pages: a visitor without a session is redirected to the login page (followed: 200), a role
    # that may not open a page gets a 403 page; "/" redirects to the role's first page
    RouteCase("GET", "/login", ALL_ROLES, public=True),
    RouteCase("GET", "/api/search/people", PERSONAL, allowed_keys=frozenset({"items", "more"}),
              query="?q=%E7%8E%8B%E8%87%AA%E5%B7%B1&purpose=A4403052026050001"),
    RouteCase("GET", "/", ALL_ROLES, anonymous_status=200),
    # a plain form's log-out: revoked, then the login page (followed: 200); without a session
    # the login page too
    RouteCase("POST", "/logout", ALL_ROLES, anonymous_status=200, revokes_token=True),
    RouteCase("GET", "/map", MAP_ROLES, anonymous_status=200),
    RouteCase("GET", "/planner", PLANS, anonymous_status=200),
    RouteCase("GET", "/dashboard", AGGREGATES, anonymous_status=200),
]  # fmt: skip


CHANGERS: frozenset[Role] = frozenset({Role.OFFICER, Role.ADMIN})
PURPOSE = "?purpose=A4403052026050001"
# a polygon over the world's three boxes (own, other and far): each role must see only its own
OVER_THE_WORLD = {
    "type": "Polygon",
    "coordinates": [[[113.899, 22.499], [113.961, 22.499], [113.961, 22.511], [113.899, 22.511],
                     [113.899, 22.499]]],
}  # fmt: skip


def _arrival_body(caller: Caller, world: World) -> dict[str, object]:
    return {
        "house_code": world.objects["house_own_2"]["own"],
        "person": {"name": "新来者", "id_number": "110105199205050516", "phone": "13700000009"},
        "moved_in": "2026-01-05",
        "kind": "tenant",
        "declared_by": "officer",
    }


def _move_body(caller: Caller, world: World) -> dict[str, object]:
    return {"house_code": world.objects["house_own_2"]["own"], "moved_on": "2025-06-01",
            "kind": "tenant"}  # fmt: skip


def _organization_body(caller: Caller, world: World) -> dict[str, object]:
    return {"name": "新单位", "credit_code": world.objects["new_credit_code"]["own"],
            "kind": "company", "house_code": world.objects["houses"]["own"]}  # fmt: skip


def _employee_body(caller: Caller, world: World) -> dict[str, object]:
    # an earlier job at the same organization: the world's employment runs from 2024-01-01
    return {"person_uid": world.objects["people"]["own"], "since": "2020-01-01",
            "until": "2023-06-01", "position": "工人"}  # fmt: skip


@dataclass(frozen=True)
class EmploymentRouteCase(RouteCase):
    """``…/{credit_code}/employees/{uid}/…``: an organization and an employment of it."""

    def url(self, world: World, variant: Variant) -> str:
        organization = world.objects["organizations"][variant]
        employment = world.objects["employments"][variant]
        return self.path.format(credit_code=organization, uid=employment) + self.query


PEOPLE_CASES: list[RouteCase] = [
    # occupants: personal routes; out of scope answers like missing
    RouteCase("GET", "/api/houses/{code}/occupants", PERSONAL, objects="houses", query=PURPOSE),
    RouteCase("GET", "/api/buildings/{code}/occupants", PERSONAL, objects="buildings",
              query=PURPOSE),
    RouteCase("GET", "/api/occupants", PERSONAL, lists="people",
              query=PURPOSE + "&lon=113.905&lat=22.505&radius_m=300&crs=EPSG:4490"),
    RouteCase("POST", "/api/occupants/search", PERSONAL, lists="people",
              body=lambda caller, world: {"polygon": OVER_THE_WORLD,
                                          "purpose": "A4403052026050001"}),
    RouteCase("GET", "/api/people/{uid}", PERSONAL, objects="people", query=PURPOSE),
    RouteCase("POST", "/api/people/{uid}/reveal", PERSONAL, objects="people",
              body=lambda caller, world: {"reason": "A4403052026050001"}),
    # residences: officers and admins change them; police change nothing in grids
    RouteCase("POST", "/api/residences", CHANGERS, ok_status=201, body=_arrival_body),
    RouteCase("POST", "/api/residences/{uid}/deregister", CHANGERS, objects="residences",
              body=lambda caller, world: {"moved_out": "2025-03-01"}),
    # the world's own resident holds a permit issued at the house: the void is refused (409)
    # once scope and role let the caller reach it (tests/api/test_residences_voids.py)
    RouteCase("POST", "/api/residences/{uid}/void", CHANGERS, objects="residences",
              ok_status=409, body=lambda caller, world: {"reason": "登记错了房屋"}),
    RouteCase("POST", "/api/residences/{uid}/declaration", CHANGERS, objects="residences"),
    RouteCase("POST", "/api/people/{uid}/move", CHANGERS, objects="people", body=_move_body),
    RouteCase("PATCH", "/api/people/{uid}", CHANGERS, objects="people",
              body=lambda caller, world: {"occupation": "厨师"}),
    RouteCase("POST", "/api/organizations", CHANGERS, ok_status=201, body=_organization_body),
    RouteCase("GET", "/api/organizations", PERSONAL, query=PURPOSE),
    RouteCase("GET", "/api/organizations/{credit_code}", PERSONAL, objects="organizations",
              query=PURPOSE),
    RouteCase("POST", "/api/organizations/{credit_code}/move", CHANGERS, objects="organizations",
              body=lambda caller, world: {"house_code": world.objects["house_own_2"]["own"]}),
    RouteCase("POST", "/api/organizations/{credit_code}/employees", CHANGERS, ok_status=201,
              objects="organizations", body=_employee_body),
    EmploymentRouteCase("POST", "/api/organizations/{credit_code}/employees/{uid}/end",
                        CHANGERS, objects="organizations",
                        body=lambda caller, world: {"until": "2025-06-01"}),
    # houses one at a time: officers in their grids and admins change them
    RouteCase("POST", "/api/buildings/{code}/houses", CHANGERS, ok_status=201,
              objects="buildings", body=lambda caller, world: {"floor": 9, "use": "dorm"}),
    RouteCase("PATCH", "/api/houses/{code}", CHANGERS, objects="houses",
              body=lambda caller, world: {"is_rented": True}),
    RouteCase("POST", "/api/houses/{code}/retire", CHANGERS, objects="empty_houses"),
    # a grid's overdue work is personal; its quality rates are aggregates planners may read
    RouteCase("GET", "/api/grids/{code}/overdue", PERSONAL, objects="grids", query=PURPOSE),
    RouteCase("GET", "/api/quality", AGGREGATES, query="?grid=990101001001001"),
]  # fmt: skip


CASES: list[RouteCase] = [
    RouteCase(
        "GET", "/healthz", ALL_ROLES, public=True, allowed_keys=frozenset({"status", "postgis"})
    ),
    RouteCase(
        "POST",
        "/api/auth/login",
        ALL_ROLES,
        public=True,
        anonymous_status=401,  # "nobody" has no account
        body=_login_body,
        allowed_keys=frozenset({"access_token", "token_type", "expires_in", "role"}),
    ),
    RouteCase(
        "GET",
        "/api/auth/me",
        ALL_ROLES,
        allowed_keys=frozenset({"name", "role", "grid_codes", "division_prefix"}),
    ),
    RouteCase("POST", "/api/auth/logout", ALL_ROLES, ok_status=204, revokes_token=True),
    RouteCase(
        "GET",
        "/api/audit",
        frozenset({Role.AUDITOR}),
        allowed_keys=frozenset({"items", "next_before_id"}),
    ),
    RouteCase(
        "GET",
        "/api/buildings/{code}",
        PERSONAL,
        denied_status=404,
        objects="buildings",
    ),
    RouteCase(
        "GET",
        "/api/buildings/{code}/houses",
        PERSONAL,
        denied_status=404,
        objects="buildings",
    ),
    RouteCase("GET", "/api/buildings", ALL_ROLES, lists="buildings"),
    *GRID_CASES,
    *MAP_CASES,
    *PEOPLE_CASES,
]


# -- issue 9: events, residence permits, exchange (objects from tests/events_world.py) -------


@dataclass(frozen=True)
class EventRouteCase(RouteCase):
    """A case whose path names ``{event_id}``, ``{number}``, ``{batch_id}`` or ``{photo_uid}``."""

    def url(self, world: World, variant: Variant) -> str:
        code = self.object_code(world, variant) if self.objects else ""
        path = self.path.format(
            event_id=code, number=code, code=code, batch_id=code,
            photo_uid="ffffffff-ffff-afff-bfff-ffffffffffff",
        )  # fmt: skip
        return path + self.query


EXCHANGERS: frozenset[Role] = frozenset({Role.POLICE, Role.ADMIN})
PERIOD = "&region=990101000000&period_from=2025-01-01&period_to=2025-12-31"


def _event_body(caller: Caller, world: World) -> dict[str, object]:
    return {"kind": "safety_hazard", "title": "电线老化", "building_code": world.buildings["own"]}


def _reconcile_body(caller: Caller, world: World) -> dict[str, object]:
    return {"region": "990101000000", "outflow": {
        "kind": "outflow", "region": "110105000000", "period_from": "2025-01-01",
        "period_to": "2025-12-31", "records": []},
        "purpose": PURPOSE.removeprefix("?purpose=")}  # fmt: skip


EVENT_CASES: list[RouteCase] = [
    # counts are aggregates (planners: suppressed); officers only for their own grids
    EventRouteCase("GET", "/api/events/counts", AGGREGATES, query="?grid=990101001001001"),
    EventRouteCase("POST", "/api/events", CHANGERS, ok_status=201, body=_event_body),
    EventRouteCase("GET", "/api/events", PERSONAL, query=PURPOSE,
                   allowed_keys=frozenset({"items", "next_after"})),
    EventRouteCase("GET", "/api/events/{event_id}", PERSONAL, objects="events", query=PURPOSE),
    EventRouteCase("POST", "/api/events/{event_id}/steps", CHANGERS, objects="events",
                   body=lambda caller, world: {"status": "accepted"}),
    # the matrix sends an empty image (422 where the event is reachable); test_events_api uploads
    EventRouteCase("POST", "/api/events/{event_id}/photos", CHANGERS, objects="events",
                   ok_status=422, body=lambda caller, world: {"content_base64": ""}),
    # the world's events have no photo (404 where the event is reachable)
    EventRouteCase("GET", "/api/events/{event_id}/photos/{photo_uid}", PERSONAL,
                   objects="events", ok_status=404, query=PURPOSE),
    # the own resident already holds the world's permit (409 where reachable); issuing for
    # real is tests/gis/test_permits.py's
    EventRouteCase("POST", "/api/permits", PERSONAL, ok_status=409,
                   body=lambda caller, world: {"person_uid": world.objects["people"]["own"]}),
    EventRouteCase("GET", "/api/permits/{number}", PERSONAL, objects="permits", query=PURPOSE),
    EventRouteCase("POST", "/api/permits/{number}/endorse", PERSONAL, objects="permits",
                   body=lambda caller, world: {}),
    EventRouteCase("POST", "/api/permits/{number}/revoke", PERSONAL, objects="permits",
                   body=lambda caller, world: {"reason": "迁出本市"}),
    EventRouteCase("GET", "/api/grids/{code}/permit-reminders", PERSONAL, objects="grids",
                   query=PURPOSE),
    EventRouteCase("GET", "/api/exchange/inflow", EXCHANGERS, query=PURPOSE + PERIOD),
    EventRouteCase("POST", "/api/exchange/reconcile", EXCHANGERS, body=_reconcile_body),
    EventRouteCase("GET", "/api/exchange/reconciliations/{batch_id}", EXCHANGERS,
                   objects="reconciliations", query=PURPOSE),
    # the dashboard's figures: aggregates of the grids each role sees (tests/api/test_dashboard_api)
    EventRouteCase("GET", "/api/dashboard", AGGREGATES, allowed_keys=frozenset({
        "on", "division_code", "grids", "totals", "floating_share", "class_mix", "quality",
        "has_overdue", "is_truncated", "quality_grids", "next", "open_events_by_kind",
        "closure_rate"})),
]  # fmt: skip
CASES.extend(EVENT_CASES)


# OGC API Features (/ogc): the documents for every role; collections for every role but the
# auditor. Buildings are scoped like /api/buildings, except that planners read every footprint
# (no personal data, as in tiles); grid outlines are not personal (as in /api/grids).
OGC_ITEMS_OF_BUILDINGS: frozenset[Role] = frozenset({Role.PLANNER, Role.ADMIN})
OGC_CASES: list[RouteCase] = [
    RouteCase("GET", "/ogc", ALL_ROLES),
    RouteCase("GET", "/ogc/conformance", ALL_ROLES, allowed_keys=frozenset({"conformsTo"})),
    RouteCase("GET", "/ogc/collections", ALL_ROLES,
              allowed_keys=frozenset({"links", "collections", "crs"})),
    RouteCase("GET", "/ogc/collections/{collection_id}", AGGREGATES,
              url_path="/ogc/collections/buildings"),
    RouteCase("GET", "/ogc/collections/{collection_id}/items", AGGREGATES,
              url_path="/ogc/collections/grids/items"),
    RouteCase("GET", "/ogc/collections/buildings/items/{code}", AGGREGATES, objects="buildings",
              sees_other=OGC_ITEMS_OF_BUILDINGS),
    RouteCase("GET", "/ogc/collections/grids/items/{code}", AGGREGATES, objects="grids",
              sees_other=AGGREGATES),
    # the world's divisions have no boundary, so none is a feature: every role allowed reaches
    # the lookup (404); tests/api/test_ogc.py reads a real district
    RouteCase("GET", "/ogc/collections/divisions/items/{code}", AGGREGATES, ok_status=404,
              url_path="/ogc/collections/divisions/items/990101000000"),
]  # fmt: skip
CASES.extend(OGC_CASES)
