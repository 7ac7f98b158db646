"""What every CLI command shares: the console, settings and a transaction on the database."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.db import database_url, make_engine, make_session_factory, transaction
from gis.errors import GisError
from gis.settings import get_settings
from gis.users.models import Role

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


def cli_actor() -> Actor:
    """The operator, as audit rows name them: ``cli:<os user>`` acting as admin."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(name=f"cli:{who}"[:64], role=str(Role.ADMIN))


def audit_cli(
    session: Session, action: str, *, target_codes: Sequence[str] = (), row_count: int = 0
) -> None:
    """The audit row of a change made from the command line, in the change's transaction."""
    record_audit(
        session,
        actor=cli_actor(),
        action=action,
        target_codes=list(target_codes),
        row_count=row_count,
    )


def audit_cli_job(action: str, *, target_codes: Sequence[str] = (), row_count: int = 0) -> None:
    """The audit row of a job that committed its own batches (an import), in a transaction of
    its own once the job is done."""
    with session_scope() as session:
        audit_cli(session, action, target_codes=target_codes, row_count=row_count)


@contextmanager
def options_named(options: dict[str, str]) -> Iterator[None]:
    """Errors of the domain name the request's fields (``period_to``); a command names them as
    its options (``--to``)."""
    try:
        yield
    except GisError as error:
        if error.field in options:
            error.field = options[error.field]
        raise
