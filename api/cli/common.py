"""What every CLI command shares: the console, settings and a transaction on the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.db import database_url, make_engine, make_session_factory, transaction
from gis.settings import get_settings

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def engine_scope() -> Iterator[Engine]:
    """An engine on the configured database (the embedded cluster is started if needed)."""
    engine = make_engine(database_url(get_settings()), pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction on the configured database (the embedded cluster is started if needed)."""
    with engine_scope() as engine, transaction(make_session_factory(engine)) as session:
        yield session
