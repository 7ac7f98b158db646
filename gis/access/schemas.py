"""The base of every aggregate-only response model: planner responses can carry no personal field.

Planners see aggregates only (DESIGN §8). Their responses are separate models derived from
:class:`AggregateModel`, never full models with fields filtered out: a subclass that declares a
personal field, at any depth of nesting, fails when its class is defined (at import time, so a
test run catches it), and unknown keys are refused when a response is built::

    class GridStats(AggregateModel):
        grid_code: str
        households: int | None      # suppress_small_count() applied
        floating_share: float | None

    class GridStatsPage(AggregateModel):
        items: list[GridStats]       # nested models are checked too

    class Bad(AggregateModel):
        name: str                    # TypeError: personal field 'name'
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict

PERSONAL_FIELDS = frozenset(
    {
        "name",
        "names",
        "person_name",
        "person_uid",
        "person_uids",
        "id_number",
        "id_number_masked",
        "phone",
        "phone_masked",
        "birth_date",
        "sex",
        "hukou_address",
        "hukou_division_code",
        "occupants",
        "residents",
        "people",
        "person",
        "landlord",
        "landlord_uid",
        "employer",
        "employer_uid",
    }
)
"""Field names that denote a person or personal data; none may appear in an aggregate model."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside a type annotation (``list[X]``, ``X | None``, ``dict[str, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found.extend(_models_in(argument))
    return found


def personal_field_paths(model: type[BaseModel], *, prefix: str = "") -> list[str]:
    """Dotted paths of every personal field in ``model`` and the models nested in it."""
    paths: list[str] = []
    seen: set[type[BaseModel]] = set()

    def walk(current: type[BaseModel], path: str) -> None:
        if current in seen:
            return
        seen.add(current)
        for field_name, field in current.model_fields.items():
            keys = {field_name, field.alias or field_name, field.serialization_alias or field_name}
            if keys & PERSONAL_FIELDS:
                paths.append(f"{path}{field_name}")
            for nested in _models_in(field.annotation):
                walk(nested, f"{path}{field_name}.")

    walk(model, prefix)
    return paths


class AggregateModel(BaseModel):
    """Base of responses for aggregate-only roles (planners): no personal field at any depth,
    no extra keys."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        paths = personal_field_paths(cls)
        if paths:
            raise TypeError(f"{cls.__name__} is an AggregateModel with personal fields: {paths}")
