"""``gridhouse serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.common import console
from gis.db import database_url
from gis.settings import Settings, get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Serve the API and the pages (starts the embedded cluster first when it is used)."""
    # imported here: the web application (FastAPI, every route, the pages) is a second or more
    # of start-up that no other command needs
    import uvicorn

    from api.main import create_app

    settings = get_settings()
    database_url(settings)
    host = host or settings.host
    port = port or settings.port
    app = create_app(settings)  # a broken setting (the grid classes file) stops here
    console.print(f"serving on http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, **uvicorn_options(settings))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options but the address: proxy headers only from ``GRIDHOUSE_TRUSTED_PROXIES``
    (uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so any local process could
    write the address of its choice into the audit log and dodge the per-address login limit).
    """
    proxies = settings.trusted_proxies.strip()
    return {
        "log_level": "info",
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or "",
    }
