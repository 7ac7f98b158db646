"""Request limits (OWASP API4): body size, NUL bytes, per-caller rate, page size, integer range.

- :class:`RequestGuardMiddleware` answers 413 for a body over ``max_body_bytes`` and 422 for NUL
  bytes in the path, the query string or the body, and for a JSON body that cannot be read (not
  UTF-8, nested too deeply, an integer too long: FastAPI's 400 named nothing), before any route
  runs.
- :class:`TokenBucketLimiter` is the per-user (and per-address for login) rate limit; ``ScopeDep``
  charges it, so every scoped route is limited. Over the limit: 429 with ``Retry-After``.
- ``PageLimit``, ``Int32`` and ``Int64`` bound integers at the door (422, never a database error);
  ``api/errors.py`` still maps any ``DataError`` that slips through to 422.
- :class:`ConcurrencyLimitMiddleware` lets at most ``pool_size`` requests work at once and queues
  the rest on the event loop (static files pass), so a burst can never leave every worker thread
  waiting for a pooled connection held by a request that itself waits for a thread.
- ``statement_timeout`` is a setting of the service's connections (``api.main``); a cancelled
  statement answers 503 (``api/errors.py``) and the rolled-back connection goes back to the pool.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from gis.errors import RateLimited

MAX_PAGE_SIZE = 1000
"""The largest page any list returns (``limit`` above it is a 422)."""
DEFAULT_PAGE_SIZE = 100

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")]
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]

AsgiScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[AsgiScope, Receive, Send], Awaitable[None]]

_ENCODED_NUL = re.compile(rb"%00", re.IGNORECASE)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class TokenBucketLimiter:
    """An in-process token bucket per key: ``burst`` requests at once, refilled at
    ``per_minute`` per minute. Good for one process; several workers each keep their own."""

    def __init__(self, *, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def charge(self, key: str, *, now: float | None = None) -> None:
        """Take one token for ``key``; :class:`RateLimited` when there is none."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, moment))
            tokens = min(self.burst, tokens + (moment - last) * self.rate_per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, moment)
                wait_s = math.ceil((1.0 - tokens) / self.rate_per_s)
                raise RateLimited("too many requests; slow down", retry_after_s=max(1, wait_s))
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._buckets.clear()  # crude but bounded: a flood of keys cannot exhaust memory
            self._buckets[key] = (tokens - 1.0, moment)


def _error(status: int, loc: str | list[str | int], message: str, kind: str) -> tuple[int, bytes]:
    where = [loc] if isinstance(loc, str) else loc
    body = {"detail": [{"loc": where, "msg": message, "type": kind}]}
    return status, json.dumps(body).encode()


NUL_MESSAGE = "NUL bytes are not allowed"
SURROGATE_MESSAGE = "not valid Unicode: a lone surrogate (\\ud800-\\udfff) is no character"


def text_problem(body: bytes) -> tuple[list[str | int], str] | None:
    """Where a body holds text no column can store, and why: a NUL, or a lone surrogate of a
    JSON escape (``"\\ud800"``, which Python reads but UTF-8 cannot write). The location is
    ``["body", "person", "name"]`` for a JSON member (a key counts as its member), ``["body"]``
    for a body that is not JSON and holds a NUL; ``None`` when nothing is wrong (a ``\\u0000``
    after an escaped backslash is text).

    >>> text_problem(b'{"person": {"names": ["a", "b\\\\u0000"]}}')
    (['body', 'person', 'names', 1], 'NUL bytes are not allowed')
    >>> text_problem(b'{"password": "x\\\\ud800"}')[0]
    ['body', 'password']
    >>> text_problem(b'{"emoji": "\\\\ud83d\\\\ude00"}') is None
    True
    >>> text_problem(b'{"note": "\\\\\\\\u0000"}') is None, text_problem(b'name=a\\x00')
    (True, (['body'], 'NUL bytes are not allowed'))
    """
    try:
        found = _bad_text(json.loads(body))
    except (ValueError, RecursionError):  # not JSON (or UTF-8), or nested past Python's stack
        return (["body"], NUL_MESSAGE) if b"\x00" in body else None
    if found is None:
        return None
    path, message = found
    return ["body", *path], message


def _text_message(text: str) -> str | None:
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def _bad_text(value: object) -> tuple[list[str | int], str] | None:
    if isinstance(value, str):
        message = _text_message(value)
        return None if message is None else ([], message)
    items: list[tuple[str | int, object]]
    if isinstance(value, dict):
        for key in value:
            message = _text_message(key)
            if message is not None:
                return [key.encode("utf-8", "replace").decode().replace("\x00", "")], message
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return None
    for key, item in items:
        inner = _bad_text(item)
        if inner is not None:
            return [key, *inner[0]], inner[1]
    return None


MAX_JSON_BRACKETS = 500
"""Below this many ``[`` and ``{`` a body cannot nest deeper than Python's parser allows, so
it is not parsed here (the application parses it once)."""


def json_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be read at all (FastAPI answers those with a 400 naming nothing):
    bytes that are not UTF-8, arrays and objects nested deeper than the parser goes, or an
    integer longer than Python converts (``sys.get_int_max_str_digits()``, 4300 digits: a
    guard against the quadratic cost of reading one). A body that is merely not JSON is left to
    the application's 422 (``json_invalid``).

    >>> json_problem(b'{"name": "R\\xe9view"}')
    'not UTF-8: byte 0xe9 at position 11'
    >>> json_problem(b"[" * 100_000)
    'nested too deeply to read (arrays and objects inside one another)'
    >>> json_problem(b'{"moved_out": ' + b"9" * 5000 + b"}")
    'a number is too long to read: an integer has at most 4300 digits'
    >>> json_problem(b'{"name": "Review"}') is None, json_problem(b"[[1]") is None
    (True, True)
    >>> json_problem(b'{"note": "' + b"9" * 5000 + b'"}') is None  # digits in a text are text
    True
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8: byte 0x{body[error.start]:02x} at position {error.start}"
    brackets = body.count(b"[") + body.count(b"{")
    digits = sys.get_int_max_str_digits()
    if brackets > MAX_JSON_BRACKETS or (digits and _has_digit_run(body, digits + 1)):
        try:
            json.loads(body)
        except RecursionError:
            return "nested too deeply to read (arrays and objects inside one another)"
        except json.JSONDecodeError:
            return None
        except ValueError:  # int("9" * 5000): the only other error of a UTF-8 body
            return f"a number is too long to read: an integer has at most {digits} digits"
    return None


_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")


def _has_digit_run(body: bytes, length: int) -> bool:
    """Whether ``length`` digits follow one another somewhere in ``body`` (in C, ~1 ms a MB:
    a regular expression for it takes ~20, or far longer where it backtracks)."""
    return len(body) >= length and b"0" * length in body.translate(_DIGITS_AS_ZEROS)


def _is_json(scope: AsgiScope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or (
                kind.startswith(b"application/") and kind.endswith(b"+json")
            )
    return False


class RequestGuardMiddleware:
    """Refuses oversized bodies (413), NUL bytes and lone surrogates (422) before the
    application sees them.

    The body is read here (at most ``max_body_bytes``) and replayed to the application, so a
    chunked upload without ``Content-Length`` is bounded too.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._check_target(scope)
        if refusal is None and scope["method"] in _BODY_METHODS:
            refusal, receive = await self._read_body(scope, receive)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        await self.app(scope, receive, send)

    def _check_target(self, scope: AsgiScope) -> tuple[int, bytes] | None:
        if "\x00" in scope.get("path", ""):
            return _error(422, "path", "NUL bytes are not allowed", "InvalidInput")
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in query or _ENCODED_NUL.search(query):
            return _error(422, "query", "NUL bytes are not allowed", "InvalidInput")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit():
                    return _error(400, "header", "bad Content-Length", "InvalidInput")
                if int(value) > self.max_body_bytes:
                    return self._too_large()
        return None

    def _too_large(self) -> tuple[int, bytes]:
        message = f"the request body is larger than {self.max_body_bytes} bytes"
        return _error(413, "body", message, "PayloadTooLarge")

    async def _read_body(
        self, scope: AsgiScope, receive: Receive
    ) -> tuple[tuple[int, bytes] | None, Receive]:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body: bytes = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                return self._too_large(), receive
            if not message.get("more_body", False):
                break
        whole = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if b"\x00" in whole or b"\\u0000" in whole or _SURROGATE_ESCAPE.search(whole):
            problem = text_problem(whole)
            if problem is not None:
                return _error(422, *problem, "InvalidInput"), receive
        unreadable = json_problem(whole) if whole and _is_json(scope) else None
        if unreadable is not None:
            return _error(422, "body", unreadable, "InvalidInput"), receive
        pending = list(messages)

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return None, replay


async def _respond(send: Send, status: int, body: bytes, *, retry: int | None = None) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry is not None:
        headers.append((b"retry-after", str(retry).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ConcurrencyLimitMiddleware:
    """At most ``limit`` requests at once past this point; the others wait their turn here.

    A sync route runs its dependencies and body on AnyIO's worker threads (40), one hop each,
    and holds its pooled connection between hops. Without a bound, a burst of requests fills
    every thread with requests waiting for a connection while the requests holding the
    connections wait for a thread: each waiter gives up only after the pool's timeout (503).
    Admitting no more requests than the pool has connections (it has twice ``pool_size``: a
    request may need a second one for an audit row of its own) keeps the two from starving
    each other. Paths under ``exempt_prefixes`` (static files) pass without waiting.

    ``lanes`` gives exact paths a queue and a limit of their own: a login spends ~0.25 s of
    CPU on its password hash and holds a connection only briefly around it, so a burst of
    logins (a shift starting) waits in its own lane instead of filling every slot while the
    officers already signed in wait behind it for their map tiles. A lane's queue holds at
    most ``lane_backlog`` requests; one more is answered 503 with ``Retry-After`` at once
    (a flood of logins from many addresses cannot make every login wait for minutes).
    ``lane_limiter`` charges each address before it may queue (429 at once when spent): one
    address sending logins as fast as it can filled the queue with requests the route would
    refuse, and everyone else's login was a 503.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        exempt_prefixes: tuple[str, ...] = (),
        lanes: dict[str, int] | None = None,
        lane_backlog: int = 64,
        lane_limiter: TokenBucketLimiter | None = None,
    ) -> None:
        self.app = app
        self.exempt_prefixes = exempt_prefixes
        self._slots = asyncio.Semaphore(limit)
        self._lanes = {path: asyncio.Semaphore(n) for path, n in (lanes or {}).items()}
        self._lane_backlog = lane_backlog
        self._in_lane = dict.fromkeys(self._lanes, 0)
        self._lane_limiter = lane_limiter

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        lane = self._lanes.get(path)
        if lane is None:
            async with self._slots:
                await self.app(scope, receive, send)
            return
        if self._lane_limiter is not None:
            client = scope.get("client")
            try:
                self._lane_limiter.charge(f"addr:{client[0] if client else None}")
            except RateLimited as limited:
                await _respond(send, *_error(429, "path", limited.message, "RateLimited"),
                               retry=limited.retry_after_s)  # fmt: skip
                return
        if self._in_lane[path] >= self._lane_backlog:
            message = "too many requests of this kind are waiting; try again shortly"
            await _respond(send, *_error(503, "path", message, "DatabaseUnavailable"), retry=2)
            return
        self._in_lane[path] += 1
        try:
            async with lane:
                await self.app(scope, receive, send)
        finally:
            self._in_lane[path] -= 1
