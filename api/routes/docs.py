"""``GET /docs``: the OpenAPI documentation (Swagger UI) from gridhouse's own files.

FastAPI's default page loads Swagger UI from a CDN, which a machine without the internet (the
rule for every page here) shows blank; the same library, pinned in ``maps/assets/package.json``,
is served under ``/vendor`` like the maps' libraries. ReDoc (CDN only) is not offered.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from maps.assets import vendor_url

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """The API's documentation, usable with a token from ``POST /api/auth/login``."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="gridhouse API",
        swagger_js_url=vendor_url("swagger_ui_js"),
        swagger_css_url=vendor_url("swagger_ui_css"),
        swagger_favicon_url=vendor_url("swagger_ui_favicon"),
        oauth2_redirect_url=None,
    )
