"""The web pages: ``/login`` (public), ``/`` (the role's first page), ``/map``, ``/planner``,
``/dashboard``; scoped like every route, and a visitor without a session is sent to the login
page instead of getting a 401."""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Cookie, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SESSION_COOKIE, ScopeDep, SessionDep, bearer_token, client_addr
from api.errors import error_response, status_for, validation_body
from gis.access.scope import Scope, division_prefix
from gis.dashboard.queries import divisions_with_grids
from gis.dashboard.service import dashboard_data
from gis.errors import AuthenticationFailed, GisError
from gis.people.periods import today_in_china
from gis.settings import Settings
from gis.tiles.service import map_extent
from gis.users import service as users_service
from gis.users.models import Role
from maps import i18n
from maps.dashboard import DashboardView, build_dashboard
from maps.login_page import MAX_NEXT, build_login_page
from maps.officer_map import BaseMap, OfficerMapView, build_officer_map
from maps.page import PAGES, Viewer, home_path, pages_for
from maps.planner_page import PlannerView, build_planner_page

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_PATHS = frozenset({"/", *(path for path, _ in PAGES.values())})
LangQuery = Annotated[str | None, Query(max_length=5, description="zh or en")]
LangCookie = Annotated[str | None, Cookie(alias=i18n.LANG_COOKIE, max_length=5)]


def content_security_policy(settings: Settings) -> str:
    """Scripts, styles, fonts and data from this server only; images also from the configured
    base map's tile server (nothing else can load, whatever a page holds)."""
    images = ["'self'", "data:", "blob:"]
    if settings.basemap == "osm":
        images.append(_origin(settings.basemap_osm_url))
    elif settings.basemap == "tianditu":
        images.append("https://*.tianditu.gov.cn")
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src {' '.join(images)}; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].replace("{s}", "*")
    return f"{scheme}://{host}"


def html_page(request: Request, body: str, *, status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "Content-Security-Policy": content_security_policy(settings),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


def viewer_of(
    request: Request, session: Session, scope: Scope, lang: str | None, cookie: str | None
) -> Viewer:
    settings: Settings = request.app.state.settings
    return Viewer(
        name=scope.user_name,
        role=str(scope.role),
        lang=i18n.parse_lang(lang or cookie),
        has_totp=users_service.has_totp(session, name=scope.user_name),
        idle_minutes=settings.session_idle_minutes,
    )


LOGOUT_PATH = "/logout"


def logout_form(lang: str) -> str:
    """A log-out button that needs no script (pages without the top bar: 403s, /docs)."""
    label = html.escape(i18n.text("logout", i18n.parse_lang(lang)))
    return (
        f'<form method="post" action="{LOGOUT_PATH}"><button type="submit">{label}</button></form>'
    )


@router.post(LOGOUT_PATH, include_in_schema=False)
def logout_page(request: Request, session: SessionDep, scope: ScopeDep) -> RedirectResponse:
    """Log out from a plain form: the session is revoked, the cookie cleared, then the login
    page (a session already ended goes there too)."""
    token = bearer_token(request)
    assert token is not None  # ScopeDep has authenticated it
    users_service.logout(session, token=token, actor=scope.actor, client_addr=client_addr(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def forbidden_page(request: Request, viewer: Viewer) -> HTMLResponse:
    """403 for a role that may not open the page, with links to the pages it may open."""
    links = (
        "".join(
            f'<li><a href="{PAGES[key][0]}">{i18n.text(key, viewer.lang)}</a></li>'
            for key in pages_for(viewer.role)
        )
        or '<li><a href="/docs">/docs</a></li>'
    )  # a role without pages (auditors) has the API
    body = (
        f'<!DOCTYPE html><html lang="{viewer.lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        f"<p>{i18n.text('forbidden_page', viewer.lang)}</p><ul>{links}</ul>"
        f'<p><a href="/login">/login</a></p>{logout_form(viewer.lang)}</body></html>'
    )
    return html_page(request, body, status_code=403)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    next: Annotated[str | None, Query(description="where to go after logging in")] = None,
) -> HTMLResponse:
    """The login form (public)."""
    body = build_login_page(lang=i18n.parse_lang(lang or lang_cookie), next_path=next)
    return html_page(request, body)


@router.get("/", response_class=HTMLResponse)
def home(scope: ScopeDep) -> Response:
    """The first page the caller's role may open (``/map`` for officers and police)."""
    target = home_path(str(scope.role))
    if target is None:
        return RedirectResponse("/docs", status_code=303)
    return RedirectResponse(target, status_code=303)


@router.get("/map", response_class=HTMLResponse)
def officer_map(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
) -> HTMLResponse:
    """The map of buildings, houses and occupants, for officers, police and admins."""
    viewer = viewer_of(request, session, scope, lang, lang_cookie)
    if "map" not in pages_for(viewer.role):
        return forbidden_page(request, viewer)
    view = OfficerMapView(
        viewer=viewer,
        basemap=basemap_of(request.app.state.settings),
        bounds=map_extent(session, scope=scope),
        can_register=scope.role in (Role.OFFICER, Role.ADMIN),
        needs_purpose=scope.role is Role.POLICE,
        can_time_travel=scope.role is Role.POLICE,
        can_search_people=scope.may_see_personal,
        people_search_url="/api/search/people",
        today=today_in_china(),
        grid_codes=tuple(sorted(scope.grid_codes)) if scope.role is Role.OFFICER else (),
    )
    return html_page(request, build_officer_map(view))


@router.get("/planner", response_class=HTMLResponse)
def planner(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    plan: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The grid plan editor, for planners and admins."""
    viewer = viewer_of(request, session, scope, lang, lang_cookie)
    if "planner" not in pages_for(viewer.role):
        return forbidden_page(request, viewer)
    view = PlannerView(
        viewer=viewer,
        basemap=basemap_of(request.app.state.settings),
        bounds=map_extent(session, scope=scope),
        divisions=[(row.code, row.name) for row in divisions_with_grids(session)],
        today=today_in_china(),
        plan_id=plan,
    )
    return html_page(request, build_planner_page(view))


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    scope: ScopeDep,
    lang: LangQuery = None,
    lang_cookie: LangCookie = None,
    division: Annotated[str | None, Query(max_length=12, description="12 digits")] = None,
    after: Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="a grid code")] = None,
) -> HTMLResponse:
    """Figures per division and grid, with charts, for every role but auditors."""
    viewer = viewer_of(request, session, scope, lang, lang_cookie)
    if "dashboard" not in pages_for(viewer.role):
        return forbidden_page(request, viewer)
    choices: list[tuple[str, str]] = []
    if scope.role is not Role.OFFICER:
        prefix = scope.division_prefix or ""
        choices = [
            (row.code, row.name)
            for row in divisions_with_grids(session)
            if row.code.startswith(prefix) or division_prefix(row.code).startswith(prefix)
        ]
    data = dashboard_data(
        session, scope=scope, division=division or None, on=today_in_china(), after=after
    )
    view = DashboardView(viewer=viewer, data=data, divisions=choices)
    return html_page(request, build_dashboard(view))


def basemap_of(settings: Settings) -> BaseMap:
    return BaseMap(
        kind=settings.basemap, osm_url=settings.basemap_osm_url, tianditu_key=settings.tianditu_key
    )


def redirect_to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if len(target) > MAX_NEXT:  # a huge query is not kept: the page itself is
        target = request.url.path
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def is_page_request(request: Request) -> bool:
    return request.method in ("GET", "HEAD") and request.url.path in PAGE_PATHS


def error_page(request: Request, *, status_code: int, problems: list[tuple[str, str]]) -> Response:
    """What a person opening a page with a bad address sees (``/dashboard?division=440305``):
    a page naming each field and the reason, with a link to the page without its query, not
    the API's JSON."""
    lang = i18n.parse_lang(
        request.query_params.get("lang") or request.cookies.get(i18n.LANG_COOKIE)
    )
    items = "".join(
        f"<li><code>{html.escape(field)}</code>: {html.escape(reason)}</li>"
        for field, reason in problems
    )
    path = html.escape(request.url.path)
    body = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        f"<p>{i18n.text('page_refused', lang)}</p><ul>{items}</ul>"
        f'<p><a href="{path}">{path}</a></p></body></html>'
    )
    return html_page(request, body, status_code=status_code)


def install_login_redirect(app: FastAPI) -> None:
    """A page requested without a valid session redirects to ``/login?next=…`` (every other
    route keeps its 401); a page's refused request (a bad or unknown division) is an HTML page
    saying why (every other route keeps its JSON)."""

    async def handle(request: Request, exc: Exception) -> JSONResponse | Response:
        assert isinstance(exc, AuthenticationFailed)
        if request.url.path == LOGOUT_PATH:  # already ended: nothing to revoke
            return RedirectResponse("/login", status_code=303)
        if is_page_request(request):
            return redirect_to_login(request)
        return error_response(exc)

    async def handle_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GisError)
        if is_page_request(request):
            return error_page(
                request, status_code=status_for(exc), problems=[(exc.field or "", exc.message)]
            )
        return error_response(exc)

    async def handle_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = validation_body(exc)["detail"]
        assert isinstance(detail, list)
        if is_page_request(request):
            problems = [(".".join(str(p) for p in item["loc"][1:]), item["msg"]) for item in detail]
            return error_page(request, status_code=422, problems=problems)
        return JSONResponse(status_code=422, content={"detail": detail})

    app.add_exception_handler(AuthenticationFailed, handle)
    app.add_exception_handler(GisError, handle_domain)
    app.add_exception_handler(RequestValidationError, handle_validation)
