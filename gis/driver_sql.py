"""Kept statements handed to psycopg as they are: compiled once, run on the session's DBAPI
cursor, without SQLAlchemy's per-execution work (the occupant pages, the audit row, tiles)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.exc import DBAPIError, NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

DRIVER_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]
"""What hot statements are compiled for, once, and then handed to the driver as they are."""


@lru_cache(maxsize=1024)
def compiled_for_driver(statement: Select[Any]) -> SQLCompiler:
    """``statement`` compiled once for psycopg (cached by the statement object: build each
    statement shape once and keep it, as the occupant pages and the tiles do).

    Its parameters must be plain values psycopg adapts itself; :func:`check_driver_binds`
    refuses a statement with a parameter type SQLAlchemy would convert on the way.
    """
    compiled = statement.compile(dialect=DRIVER_DIALECT)
    assert isinstance(compiled, SQLCompiler)
    check_driver_binds(compiled)
    return compiled


def check_driver_binds(compiled: SQLCompiler) -> None:
    """Refuse a statement with a parameter SQLAlchemy would convert before the driver sees it
    (a type with a bind processor): sent straight to the driver it would be bound wrongly."""
    converted = sorted(
        name
        for name, param in compiled.binds.items()
        if param.type.dialect_impl(compiled.dialect).bind_processor(compiled.dialect) is not None
    )
    if converted:
        raise TypeError(f"parameters SQLAlchemy converts cannot go to the driver: {converted}")


def one_row_for_driver(
    session: Session, statement: Select[Any], params: dict[str, Any]
) -> tuple[Any, ...]:
    """The one row of a kept statement, its SQL handed to the driver as it is.

    ``Session.execute`` walks the whole statement to make its cache key on every execution:
    1.4 ms for an occupant page (a dozen CTEs), more than building a tile's bytes. The
    expanded state renders the lists of an ``IN`` (an officer's grids). No result processing
    either: columns come back as psycopg gives them (bytes for ``bytea``).
    """
    expanded = compiled_for_driver(statement).construct_expanded_state(params)
    return driver_row(session, expanded.statement, expanded.parameters)


@contextmanager
def _driver_cursor(
    session: Session, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> Iterator[psycopg.Cursor[Any]]:
    """A DBAPI cursor of the session's connection that has run ``sql``, in the session's
    transaction. Errors come back as SQLAlchemy's (``OperationalError`` for a cancelled
    statement: a 503), and a connection the server ended is invalidated, as SQLAlchemy does."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None, "a checked-out connection has its driver connection"
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, params)
            yield cursor
    except psycopg.Error as error:
        is_disconnect = connection.dialect.is_disconnect(
            error,  # type: ignore[arg-type]  # psycopg's Error is the dialect's DBAPI error
            connection.connection,
            None,
        )
        if is_disconnect:
            connection.invalidate(error)
        raise DBAPIError.instance(
            sql, params, error, psycopg.Error, connection_invalidated=is_disconnect,
            dialect=connection.dialect,
        ) from error  # fmt: skip


def driver_row(
    session: Session, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> tuple[Any, ...]:
    """The one row of ``sql`` run on the session's DBAPI cursor (:func:`_driver_cursor`).

    For the statements of every occupant query (the page, the audit row): SQLAlchemy's
    ``exec_driver_sql`` spends ~0.3 ms a statement on its execution context and result (issue
    5 item 8).
    """
    with _driver_cursor(session, sql, params) as cursor:
        row = cursor.fetchone()
    if row is None:
        raise NoResultFound("the statement returned no row")
    return tuple(row)


def driver_rows(
    session: Session, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` as psycopg's tuples (:func:`_driver_cursor`): for hundreds of
    thousands of rows, SQLAlchemy's ``Row`` objects cost as much as the query (an exchange
    file of a district: 436,569 rows, 2.7 s through psycopg, 4.0–4.8 s through a session)."""
    with _driver_cursor(session, sql, params) as cursor:
        return cursor.fetchall()
