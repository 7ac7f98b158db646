"""What every CLI command shares: the console, settings and a transaction on the database."""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis.audit.schemas import Actor
from gis.audit.service import record_audit
from gis.db import database_url, make_engine, make_session_factory, transaction
from gis.errors import GisError, InvalidInput
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


def rejects_path(given: Path | None, *, source: Path, kind: str) -> Path:
    """Where an import writes its rejected rows: ``--rejects``, or a new file under the data
    folder's ``rejects/``; checked before anything is read or stored, so that a run never
    stores rows and then fails on the rejects file (a retry would add them again) and never
    writes its rejects over the file it imports."""
    if given is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = get_settings().data_dir / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{kind}-{source.stem}-{stamp}.csv"
    if given.exists() and source.exists() and os.path.samefile(given, source):
        raise InvalidInput(
            f"{given} is the file being imported: name another file for the rejected rows",
            field="--rejects",
        )
    if given.is_dir():
        raise InvalidInput(f"{given} is a folder: name a file in it", field="--rejects")
    folder = given.parent
    if not folder.is_dir():
        raise InvalidInput(f"the folder {folder} does not exist", field="--rejects")
    writable = os.access(given, os.W_OK) if given.exists() else os.access(folder, os.W_OK)
    if not writable:
        raise InvalidInput(f"{given} cannot be written", field="--rejects")
    return given
