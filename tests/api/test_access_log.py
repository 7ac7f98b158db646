"""The server's access log keeps paths, never query strings (an ID number searched for, a
stated purpose): the app served by uvicorn from a thread, its log records collected."""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from api.access_log import ACCESS_LOGGER
from api.main import create_app
from gis.settings import Settings
from tests.access_world import share_test_session
from tests.served import served_in_thread

ID_NUMBER = "44030519900101123X"


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines(settings: Settings, db: Session) -> Iterator[tuple[int, list[str]]]:
    app = create_app(settings)
    share_test_session(app, db)
    collected = _Collected()
    logger = logging.getLogger(ACCESS_LOGGER)
    with served_in_thread(app, log_level="info", access_log=True) as port:
        logger.addHandler(collected)  # after uvicorn has set its loggers up
        try:
            yield port, collected.lines
        finally:
            logger.removeHandler(collected)


def test_the_access_log_drops_query_strings(access_lines: tuple[int, list[str]]) -> None:
    port, lines = access_lines
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in (
        f"/api/search/people?q={ID_NUMBER}&purpose=A4403052026050001",
        f"/healthz?probe={ID_NUMBER}",
    ):
        connection.request("GET", path)
        connection.getresponse().read()
    connection.close()
    searched = [line for line in lines if "/api/search/people" in line]
    assert len(searched) == 1 and "/api/search/people?… HTTP/1.1" in searched[0]
    assert any("/healthz?…" in line for line in lines)
    assert not any(ID_NUMBER in line or "A4403052026050001" in line for line in lines)
