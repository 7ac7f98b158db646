"""Walking the app's routes, included routers flattened (FastAPI includes routers lazily)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles


@dataclass(frozen=True)
class WalkedRoute:
    methods: frozenset[str]
    path: str
    dependant: Dependant | None
    is_static: bool

    def __str__(self) -> str:
        return f"{','.join(sorted(self.methods)) or 'ANY'} {self.path}"


def walk_routes(app: FastAPI) -> Iterator[WalkedRoute]:
    """Every route the app answers, with its effective path and dependency tree."""
    for context in iter_route_contexts(app.routes):
        original = context.original_route
        is_static = isinstance(original, Mount) and isinstance(original.app, StaticFiles)
        dependant = getattr(context, "dependant", None)
        yield WalkedRoute(
            methods=frozenset(context.methods or ()),
            path=context.path or repr(original),
            dependant=dependant if isinstance(dependant, Dependant) else None,
            is_static=is_static,
        )


def depends_on(dependant: Dependant, target: Callable[..., Any]) -> bool:
    """True when ``target`` is among the dependencies of ``dependant``, at any depth."""
    return any(sub.call is target or depends_on(sub, target) for sub in dependant.dependencies)
