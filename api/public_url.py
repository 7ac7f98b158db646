"""The service's own address as clients see it: from ``GRIDHOUSE_PUBLIC_URL`` when it is set,
else from the request.

Every absolute link the service writes (the OGC API's documents and paging links) and every
check of "is this our own site" (the origin of a change sent with the session cookie, the
``Secure`` flag of that cookie) goes through here, so a client-sent ``Host`` header (or a proxy
that rewrites it) never ends up in a link once the address is configured. Unset, the request
decides as before: its ``Host`` and scheme, the scheme a proxy forwards believed only from
``GRIDHOUSE_TRUSTED_PROXIES`` (``api/cli/serve.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from gis.settings import Settings


def _configured(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    return settings.public_url


def base_url(request: Request) -> str:
    """The service's root URL without a trailing slash (``https://grid.example.org/gis``):
    the configured public address, else the request's own base URL."""
    return _configured(request) or str(request.base_url).rstrip("/")


def is_https(request: Request) -> bool:
    """Whether clients reach the service over https (the session cookie is ``Secure`` then)."""
    return urlsplit(base_url(request)).scheme == "https"


def is_own_origin(request: Request, origin: str) -> bool:
    """Whether a browser's ``Origin`` is this site: the configured public address (scheme and
    host: ``http://`` is another origin than ``https://``; a proxy may pass the service a Host
    of its own), or the request's ``Host`` (whose scheme only a trusted proxy would tell)."""
    given = urlsplit(origin.lower())
    configured = _configured(request)
    if configured is not None:
        own = urlsplit(configured)
        if (given.scheme, given.netloc) == (own.scheme, own.netloc):
            return True
    return given.netloc == request.headers.get("host", "").lower()
