"""The login page (``/login``): a form that posts to ``/api/auth/login``, which sets the cookie."""

from __future__ import annotations

import html
import unicodedata

from maps import i18n
from maps.i18n import Lang
from maps.page import PageFiles, Viewer, new_page

MAX_NEXT = 500
"""The longest ``next`` kept; a longer one (a page with a huge query) goes to ``/``."""


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only (never ``//host`` or a URL).
    Browsers drop tabs and line breaks from a URL and trim spaces and control characters, so
    ``/\\t/evil.example`` would be ``//evil.example``: a target holding any of them, or longer
    than :data:`MAX_NEXT`, goes to ``/`` too.

    >>> safe_next("/map?x=1"), safe_next("//evil.example/"), safe_next("https://a.b/")
    ('/map?x=1', '/', '/')
    >>> safe_next("/\\t/evil.example"), safe_next("/\\n/evil.example"), safe_next("/" + "a" * 600)
    ('/', '/', '/')
    """
    if (
        not target
        or len(target) > MAX_NEXT
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in target)
    ):
        return "/"
    return target


def build_login_page(*, lang: Lang, next_path: str | None) -> str:
    """The login form; after a successful login the browser goes to ``next_path``."""
    viewer = Viewer(name="", role="", lang=lang)
    page = new_page(viewer, current="login_title")

    def label(key: str) -> str:
        return f'<span data-i18n="{key}">{html.escape(i18n.text(key, lang))}</span>'

    page.add_html(f"""
    <main class="gh-page">
      <form class="gh-login" id="gh-login" autocomplete="on">
        <h1 class="h4 mb-3">{label("app")} · {label("login_title")}</h1>
        <label class="form-label w-100">{label("user_name")}
          <input class="form-control" name="name" id="gh-name" required maxlength="64"
            autocomplete="username" autofocus></label>
        <label class="form-label w-100">{label("password")}
          <input class="form-control" name="password" id="gh-password" type="password" required
            maxlength="1024" autocomplete="current-password"></label>
        <label class="form-label w-100">{label("totp")}
          <input class="form-control" name="totp" id="gh-totp" inputmode="numeric" maxlength="10"
            autocomplete="one-time-code"></label>
        <div class="text-danger small mb-2" id="gh-login-error" role="alert"></div>
        <button class="btn btn-primary w-100" type="submit" id="gh-login-submit">
          {label("login_button")}</button>
      </form>
      <div class="gh-toast" id="gh-toast" role="status" hidden></div>
    </main>""")
    return page.finish(
        app="login", config={"next": safe_next(next_path)}, files=PageFiles(own_js=("login.js",))
    )
