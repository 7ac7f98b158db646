"""An app served by uvicorn from a thread of this process, for tests that need a real HTTP server
(GDAL reading /ogc, a browser, the server's own access log)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from gis.cluster import free_port

START_TIMEOUT_S = 30


@contextmanager
def served_in_thread(app: Any, **config: Any) -> Iterator[int]:
    """Serve ``app`` on a free port of 127.0.0.1 (yields the port) until the block ends;
    ``config`` goes to ``uvicorn.Config`` (``log_level``, ``access_log``, ``lifespan``…)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, name="uvicorn-in-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        thread.join(timeout=0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
