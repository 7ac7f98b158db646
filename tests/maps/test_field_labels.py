"""Every field a refusal shown on a page can name has a label in Chinese and in English: the
page shows ``label：message`` (``Gridhouse.errorText``), never the API's name (``geometry``,
``person.id_number``)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import typing
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.routes import (
    auth,
    buildings,
    events,
    houses,
    occupants,
    people,
    plans,
    quality,
    search,
)
from maps import i18n

PAGE_CALLS = {
    ("POST", "/api/auth/login"),
    # the planner (planner.js)
    ("GET", "/api/plans"),
    ("POST", "/api/plans"),
    ("GET", "/api/plans/{plan_id}"),
    ("GET", "/api/plans/{plan_id}/impact"),
    ("POST", "/api/plans/{plan_id}/grids"),
    ("PUT", "/api/plans/{plan_id}/grids/{grid_id}"),
    ("DELETE", "/api/plans/{plan_id}/grids/{grid_id}"),
    ("POST", "/api/plans/{plan_id}/publish"),
    # the officer's map (officer.js, officer_forms.js, officer_overdue.js, officer_map_tools.js,
    # events.js)
    ("GET", "/api/buildings/{code}"),
    ("GET", "/api/buildings/{code}/occupants"),
    ("POST", "/api/buildings/{code}/houses"),
    ("PATCH", "/api/houses/{code}"),
    ("POST", "/api/residences"),
    ("POST", "/api/residences/{uid}/deregister"),
    ("POST", "/api/residences/{uid}/void"),
    ("POST", "/api/residences/{uid}/declaration"),
    ("GET", "/api/people/{uid}"),
    ("PATCH", "/api/people/{uid}"),
    ("POST", "/api/people/{uid}/reveal"),
    ("GET", "/api/search/people"),
    ("GET", "/api/grids/{code}/overdue"),  # officer_overdue.js
    ("POST", "/api/events"),
    ("GET", "/api/events"),
    ("GET", "/api/events/{event_id}"),
    ("POST", "/api/events/{event_id}/steps"),
    ("POST", "/api/events/{event_id}/photos"),
    ("GET", "/api/events/{event_id}/photos/{photo_uid}"),
}
"""The API calls the pages make (method, path)."""

SERVICES = (
    "gis.access.purpose",
    "gis.buildings.service",
    "gis.clock",
    "gis.codes",
    "gis.events.lifecycle",
    "gis.events.photos",
    "gis.events.places",
    "gis.events.service",
    "gis.geometry",
    "gis.grids.plan_edits",
    "gis.grids.plans",
    "gis.grids.publishing",
    "gis.grids.switch",
    "gis.houses.editing",
    "gis.people.corrections",
    "gis.people.identity",
    "gis.people.occupancy",
    "gis.people.periods",
    "gis.people.quality",
    "gis.people.reads",
    "gis.people.service",
    "gis.search.service",
)
"""The modules whose refusals those calls answer with (each names its field, ``field="..."``)."""
NAME = re.compile(r"[a-z][a-z0-9_]*")


def _models(annotation: Any, seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    """The pydantic models in an annotation (``list[X] | None``), and those in their fields."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        yield annotation
        for info in annotation.model_fields.values():
            yield from _models(info.annotation, seen)
    for argument in typing.get_args(annotation):
        yield from _models(argument, seen)


def _parameters(dependant: Dependant) -> Iterator[Any]:
    yield from (*dependant.body_params, *dependant.query_params, *dependant.path_params)
    for sub in dependant.dependencies:
        yield from _parameters(sub)


def request_field_names() -> set[str]:
    """The names a request's shape may be refused for (pydantic's ``loc``), for every call a
    page makes."""
    names: set[str] = set()
    found: set[tuple[str, str]] = set()
    for module in (auth, buildings, events, houses, occupants, people, plans, quality, search):
        for route in module.router.routes:
            if not isinstance(route, APIRoute):
                continue
            assert route.methods is not None  # an APIRoute always has its methods
            calls = {(method, route.path) for method in route.methods} & PAGE_CALLS
            if not calls:
                continue
            found |= calls
            for parameter in _parameters(route.dependant):
                names.add(parameter.alias)
                for model in _models(parameter.field_info.annotation, set()):
                    names |= {info.alias or name for name, info in model.model_fields.items()}
    assert found == PAGE_CALLS, PAGE_CALLS - found
    return names


def service_field_names() -> set[str]:
    """The names the services' refusals give (``field="person.id_number"``: ``id_number``, the
    part a page shows; ``f"{prefix}phone"``: ``phone``). Options of the command line
    (``--crs``, ``FILE``) are never shown on a page."""
    names: set[str] = set()
    for module_name in SERVICES:
        tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
        for node in ast.walk(tree):
            if not isinstance(node, ast.keyword) or node.arg != "field":
                continue
            parts: list[ast.expr] = [node.value] if isinstance(node.value, ast.Constant) else []
            if isinstance(node.value, ast.JoinedStr):
                parts = node.value.values[-1:]
            for part in parts:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    last = part.value.rsplit(".", 1)[-1]
                    if NAME.fullmatch(last):
                        names.add(last)
    return names


def test_every_field_a_page_can_meet_has_a_label_in_both_languages() -> None:
    names = request_field_names() | service_field_names()
    assert {"geometry", "plan_id", "division_code", "line", "grid_ids", "building_code"} <= names
    missing = sorted(name for name in names if name not in i18n.MESSAGES)
    assert missing == []
    for name in names:
        zh, en = i18n.MESSAGES[name]
        assert zh != name and en != name and not NAME.fullmatch(en), (name, zh, en)
