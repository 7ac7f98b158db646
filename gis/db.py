"""Engine, declarative base and sessions; where the database URL is decided."""

from __future__ import annotations

import re
import select as io_select
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import ConnStatus
from sqlalchemy import (
    CheckConstraint,
    MetaData,
    create_engine,
    event,
    func,
    make_url,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    ProgrammingError,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from gis import cluster
from gis.errors import Conflict
from gis.settings import Settings

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

APP_ROLE = "gridhouse_app"
"""The NOLOGIN role the HTTP service acts as (created by migration 0002): it may read and write
every table but only SELECT and INSERT on ``audit_log``."""

AUTH_POOL_NAME = "gridhouse-sessions"
"""The ``application_name`` of the async pool's connections (what ``pg_stat_activity`` shows)."""

AUTH_POOL_TIMEOUT_S = 5.0
"""How long a session lookup waits for a connection before a 503. As many connections as the
service serves requests at once (``ConcurrencyLimitMiddleware``), each held for one statement:
only a database that cannot be reached makes a lookup wait."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names follow one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def embedded_cluster(settings: Settings) -> cluster.Cluster:
    """The embedded cluster described by ``settings`` (used when no external URL is set)."""
    return cluster.Cluster(
        data_dir=settings.data_dir,
        port=settings.db_port,
        shared_buffers=settings.db_shared_buffers,
        durable=settings.db_durable,
    )


def database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """The URL to use: ``GRIDHOUSE_DATABASE_URL`` when set, else the embedded cluster's.

    With ``start_embedded`` the embedded cluster is installed, created and started as needed, so
    every CLI command works after a reboot without a separate ``gridhouse db start``.
    """
    if settings.database_url:
        return settings.database_url
    embedded = embedded_cluster(settings)
    if start_embedded:
        return cluster.start(embedded)
    return embedded.url()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    role: str | None = None,
    statement_timeout_ms: int | None = None,
) -> Engine:
    """An engine whose connections speak UTC-free dates in China's time zone.

    With ``role`` every new connection runs ``SET ROLE role`` first, so the service acts with that
    role's privileges (the login user must be a member of it; migration 0002 sees to that).
    With ``statement_timeout_ms`` every statement on its connections is cancelled after that
    long (a connection setting: no statement per transaction; ``set_statement_timeout`` still
    changes it for one transaction).
    """
    options = _connection_options(statement_timeout_ms)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"options": options, "connect_timeout": 5},
    )
    event.listen(engine, "checkout", _refuse_ended_connection)
    if role is not None:

        @event.listens_for(engine, "connect")
        def _set_role(dbapi_connection: Any, connection_record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT set_config('role', %s, false)", (role,))
            dbapi_connection.commit()

    return engine


def _refuse_ended_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """At checkout, drop a pooled connection the server has ended (a restart, an idle timeout,
    ``pg_terminate_backend``): SQLAlchemy then tries a new one (its documented pessimistic
    disconnect handling). An idle connection has nothing to read: a readable socket is the
    server's goodbye or the end of the stream. A non-blocking look at the socket instead of
    the pool's pre-ping, a round trip on every checkout (~0.3 ms a request, issue 5 item 8).
    A peer that vanished without closing (a network cut) is found by the first statement
    instead, which fails and invalidates the connection."""
    if dbapi_connection.closed or dbapi_connection.pgconn.status != ConnStatus.OK:
        raise DisconnectionError("the pooled connection is closed")
    poller = io_select.poll()
    poller.register(
        dbapi_connection.fileno(), io_select.POLLIN | io_select.POLLERR | io_select.POLLHUP
    )
    if poller.poll(0):
        raise DisconnectionError("the server ended the pooled connection")


def _connection_options(statement_timeout_ms: int | None) -> str:
    """Server settings every connection of the service starts with."""
    options = "-c timezone=Asia/Shanghai"
    if statement_timeout_ms is not None:
        options += f" -c statement_timeout={int(statement_timeout_ms)}ms"
    return options


def make_async_pool(
    url: str,
    *,
    max_size: int,
    role: str | None = None,
    statement_timeout_ms: int | None = None,
) -> AsyncConnectionPool:
    """A pool of async psycopg connections in autocommit, set up like :func:`make_engine`'s.

    For the one statement every request runs before its route, the caller's session lookup
    (``api.deps``): on the event loop it costs no worker-thread hop and no ORM (issue 5 item 8).
    Not opened: ``await pool.open()`` in the application's lifespan.
    """
    from psycopg_pool import AsyncConnectionPool  # local: only the HTTP service uses it

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def configure(connection: AsyncConnection) -> None:
        if role is not None:
            await connection.execute("SELECT set_config('role', %s, false)", (role,))

    return AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        kwargs={
            "autocommit": True,
            "options": _connection_options(statement_timeout_ms),
            "connect_timeout": 5,
            "application_name": AUTH_POOL_NAME,
        },
        configure=configure,
        timeout=AUTH_POOL_TIMEOUT_S,
        open=False,
    )


def set_statement_timeout(session: Session, *, timeout_ms: int) -> None:
    """Cancel any statement of the current transaction that runs longer than ``timeout_ms``
    (``SET LOCAL statement_timeout``; it ends with the transaction)."""
    session.execute(select(func.set_config("statement_timeout", f"{int(timeout_ms)}ms", True)))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that do not expire objects on commit (responses are built after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back when it raises."""
    with factory() as session, session.begin():
        yield session


def postgis_version(session: Session) -> str:
    """The PostGIS library version the server runs (for example ``3.3.2``), from a real query."""
    return str(session.scalar(select(func.postgis_lib_version())))


def valid_geometry_check(column: str = "geom", *, nullable: bool = False) -> CheckConstraint:
    """CHECK that a geometry column holds a valid, non-empty geometry (NULL allowed if asked)."""
    condition = f"ST_IsValid({column}) AND NOT ST_IsEmpty({column})"
    if nullable:
        condition = f"{column} IS NULL OR ({condition})"
    return CheckConstraint(condition, name=f"{column}_valid")


def copy_rows(
    session: Session,
    *,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    binary_types: Sequence[str] | None = None,
) -> int:
    """Bulk-load rows into ``table`` with COPY on the session's connection (same transaction).

    COPY is 5-10x faster than INSERT for the million-row loads of imports and the generator.
    With ``binary_types`` (PostgreSQL type names, one per column) the binary format is used:
    a geometry column then takes raw (E)WKB bytes declared as ``bytea``, which saves the hex
    encoding (measured 6x faster than hex WKB in text COPY).
    """
    import psycopg  # local: only bulk loads talk to the driver directly
    from psycopg import sql

    connection = session.connection().connection.driver_connection
    assert connection is not None
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" (FORMAT binary)" if binary_types else ""),
    )
    count = 0
    try:
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            if binary_types:
                copy.set_types(list(binary_types))
            for row in rows:
                copy.write_row(row)
                count += 1
    except psycopg.errors.IntegrityError as error:
        # the same exception type as every other statement on the session raises
        raise IntegrityError(f"COPY {table}", None, error) from error
    return count


RACE_CONFLICTS: dict[str, tuple[str | None, str]] = {
    "uq_users_name": ("name", "a user of this name was added at the same moment"),
    "uq_organizations_credit_code": (
        "credit_code",
        "an organization with this credit code was registered at the same moment",
    ),
    "residences_one_primary_at_a_time": (
        "period",
        "a primary residence of the person overlapping this one was registered at the same moment",
    ),
}
"""What a unique or exclusion constraint that another writer's change won means, by name."""


def race_conflict(error: IntegrityError) -> Conflict | None:
    """A unique or exclusion constraint violated because another transaction stored the same
    thing first (a race the service's checks could not see): a Conflict naming what, when it
    is one of :data:`RACE_CONFLICTS`, else the constraint; nothing of the losing transaction
    was stored. None for other integrity errors (a foreign key, a check: a fault, not a race)."""
    cause = error.orig
    if not isinstance(cause, psycopg.errors.UniqueViolation | psycopg.errors.ExclusionViolation):
        return None
    return race_conflict_named(cause.diag.constraint_name or "a unique constraint")


def race_conflict_named(constraint: str) -> Conflict:
    """The Conflict of a race lost on the constraint of this name (see :func:`race_conflict`)."""
    field, what = RACE_CONFLICTS.get(
        constraint, (None, f"another change stored the same record first ({constraint})")
    )
    return Conflict(f"{what}; nothing of this one was stored: look again, then retry", field=field)


def missing_schema(error: ProgrammingError) -> str | None:
    """What to do when the database lacks a table, column or function of gridhouse's schema
    (a new database, or one migrated to an older version); None for other errors."""
    cause = error.orig
    missing = (
        psycopg.errors.UndefinedTable,
        psycopg.errors.UndefinedColumn,
        psycopg.errors.UndefinedFunction,
    )
    if not isinstance(cause, missing):
        return None
    what = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    what = re.sub(r"\(.*\)", "(…)", what)  # function audit_append(…) does not exist
    return f"the database lacks gridhouse's schema ({what}): run gridhouse migrate"
