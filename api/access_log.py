"""The server's access log without query strings.

Query strings carry what the log must not keep: an ID number or a name searched for
(``/api/search/people?q=…``), a stated purpose, coordinates of a police query. uvicorn writes
the path with its query (``%s - "%s %s HTTP/%s" %d``); :class:`QueryStringRedactor` keeps the
path and replaces the query with ``?…``. The audit log, which the application cannot alter,
is where reads of personal data are recorded.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class QueryStringRedactor(logging.Filter):
    """Drops the query string from uvicorn's access-log records (the path stays).

    >>> record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
    ...     ("127.0.0.1:5", "GET", "/api/search/people?q=44030519900101123X", "1.1", 200), None)
    >>> QueryStringRedactor().filter(record), record.getMessage()
    (True, '127.0.0.1:5 - "GET /api/search/people?… HTTP/1.1" 200')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, question, _ = args[2].partition("?")
            if question:
                record.args = (*args[:2], f"{path}?…", *args[3:])
        return True


def redact_access_log() -> None:
    """Install the redactor on uvicorn's access logger (once, however many apps start)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, QueryStringRedactor) for existing in logger.filters):
        logger.addFilter(QueryStringRedactor())
