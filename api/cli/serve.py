"""``gridhouse serve``: run the HTTP service with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console
from gis.db import database_url
from gis.settings import get_settings


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
    console.print(f"serving on http://{host}:{port}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
