"""``GET /docs``: the OpenAPI documentation (Swagger UI) from gridhouse's own files.

FastAPI's default page loads Swagger UI from a CDN, which a machine without the internet (the
rule for every page here) shows blank; the same library, pinned in ``maps/assets/package.json``,
is served under ``/vendor`` like the maps' libraries. ReDoc (CDN only) is not offered.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.routes.pages import html_page, logout_form
from maps import i18n
from maps.assets import vendor_url

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """The API's documentation, usable with a token from ``POST /api/auth/login``; auditors land
    here after logging in, so it carries a log-out button."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="gridhouse API",
        swagger_js_url=vendor_url("swagger_ui_js"),
        swagger_css_url=vendor_url("swagger_ui_css"),
        swagger_favicon_url=vendor_url("swagger_ui_favicon"),
        oauth2_redirect_url=None,
    )
    lang = request.cookies.get(i18n.LANG_COOKIE) or ""
    bar = f'<div style="text-align:right;padding:4px 12px">{logout_form(lang)}</div>'
    body = bytes(page.body).decode("utf-8").replace("<body>", "<body>" + bar, 1)
    return html_page(request, body, status_code=page.status_code)  # the pages' CSP and headers
