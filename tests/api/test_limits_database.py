"""Limits (OWASP API4) on the database's time: a slow, busy or deadlocked one answers 503."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from psycopg import errors as pg_errors
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.main import create_app
from gis.driver_sql import driver_row
from gis.settings import Settings


def _sleep_through_the_session(session: Session) -> None:
    session.execute(text("SELECT pg_sleep(2)"))


def _sleep_through_the_driver(session: Session) -> None:
    # the occupant pages and audit rows bypass SQLAlchemy's execution (``driver_row``): their
    # cancelled statements must still come back as the 503 of a slow database, not a 500
    driver_row(session, "SELECT pg_sleep(2)", ())


@pytest.mark.parametrize("sleep_on", [_sleep_through_the_session, _sleep_through_the_driver])
def test_a_slow_statement_is_cancelled_503_and_frees_the_connection(
    settings: Settings, sleep_on: Callable[[Session], None]
) -> None:
    """A real app (its own engine, role and transactions): the pool gets its connection back."""
    app = create_app(settings.model_copy(update={"statement_timeout_ms": 100, "pool_size": 1}))

    @app.get("/test/sleep")
    def sleep(session: SessionDep) -> dict[str, str]:
        sleep_on(session)
        return {"slept": "yes"}

    with TestClient(app) as client:
        response = client.get("/test/sleep")
        assert response.status_code == 503
        assert response.json()["detail"][0]["msg"].startswith("the database did not answer")
        assert app.state.engine.pool.checkedout() == 0
        for _ in range(3):  # more requests than the pool has connections
            assert client.get("/healthz").status_code == 200


def test_a_pool_without_a_free_connection_answers_503_not_500(settings: Settings) -> None:
    """SQLAlchemy raises its TimeoutError when every pooled connection stays busy (a burst of
    requests): the caller is told to retry, not that the server broke."""
    app = create_app(settings)

    @app.get("/test/busy")
    def busy() -> dict[str, str]:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "busy" in response.json()["detail"][0]["msg"]


def test_a_deadlock_between_two_moves_answers_503_asking_to_send_again(
    settings: Settings, engine: Engine
) -> None:
    """Two transactions marking the counts of the same two buildings in opposite orders (two
    moves between them at the same moment) deadlock; the one PostgreSQL rolls back answers 503
    with Retry-After, and nothing of it is stored."""
    a, b = sorted(str(uuid.uuid4()) for _ in range(2))
    bump = text("SELECT building_counts_bump(ARRAY[CAST(:u AS uuid)])")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO building_counts (building_uid) VALUES (:a), (:b)"), {"a": a, "b": b}
        )
    errors: list[OperationalError] = []
    first_holds = threading.Event()

    def forwards() -> None:
        with Session(engine) as session:
            session.execute(bump, {"u": a})
            first_holds.set()
            time.sleep(0.3)
            try:
                session.execute(bump, {"u": b})
                session.commit()
            except OperationalError as error:
                errors.append(error)

    try:
        thread = threading.Thread(target=forwards)
        thread.start()
        first_holds.wait(5)
        with Session(engine) as session:
            session.execute(bump, {"u": b})
            try:
                session.execute(bump, {"u": a})
                session.commit()
            except OperationalError as error:
                errors.append(error)
        thread.join(10)
        assert len(errors) == 1 and isinstance(errors[0].orig, pg_errors.DeadlockDetected)

        app = create_app(settings)

        @app.get("/test/deadlock")
        def deadlock() -> None:
            raise errors[0]

        with TestClient(app) as client:
            response = client.get("/test/deadlock")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert "send the request again" in response.json()["detail"][0]["msg"]
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM building_counts WHERE building_uid IN (:a, :b)"),
                {"a": a, "b": b},
            )
