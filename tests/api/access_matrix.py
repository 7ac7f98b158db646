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
    ``objects`` names the kind of object in ``path`` (``{code}``); routes without one run once.
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
    objects: Literal["buildings"] | None = None
    lists: Literal["buildings"] | None = None
    body: Callable[[Caller, World], dict[str, object]] | None = None
    allowed_keys: frozenset[str] | None = None
    revokes_token: bool = False
    pending: str | None = None
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
        if variant == "missing" or (variant == "other" and caller not in SEES_OTHER):
            return 404
        return self.ok_status

    def url(self, world: World, variant: Variant) -> str:
        if self.objects != "buildings":
            return self.path
        code = {
            "own": world.buildings["own"],
            "other": world.buildings["far"],
            "missing": world.missing_building,
        }[variant]
        return self.path.format(code=code)


def _login_body(caller: Caller, world: World) -> dict[str, object]:
    if caller is None:
        return {"name": "nobody", "password": PASSWORD}
    return {"name": world.users[caller], "password": PASSWORD}


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
]
