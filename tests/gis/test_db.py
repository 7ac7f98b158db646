"""The service's engine: a pooled connection the server has closed is replaced at checkout."""

from __future__ import annotations

from sqlalchemy import Engine, text

from gis.db import make_engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def test_a_connection_the_server_ended_is_replaced_without_an_error(
    database_url: str, engine: Engine
) -> None:
    service = make_engine(database_url, pool_size=1)
    try:
        first = _backend_pid(service)  # now resting in the pool
        with engine.connect() as admin:
            ended = admin.scalar(
                text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first}
            )  # waits until the backend is gone
        assert ended is True
        # the pool hands out a live connection: no "server closed the connection" error
        second = _backend_pid(service)
        assert second != first
        assert _backend_pid(service) == second  # and keeps it
    finally:
        service.dispose()


def test_an_idle_live_connection_is_kept(database_url: str) -> None:
    service = make_engine(database_url, pool_size=1)
    try:
        assert _backend_pid(service) == _backend_pid(service)
    finally:
        service.dispose()
