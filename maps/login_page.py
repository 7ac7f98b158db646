"""The login page (``/login``): a form that posts to ``/api/auth/login``, which sets the cookie."""

from __future__ import annotations

import html

from maps import i18n
from maps.i18n import Lang
from maps.page import PageFiles, Viewer, new_page


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only (never ``//host`` or a URL).

    >>> safe_next("/map?x=1"), safe_next("//evil.example/"), safe_next("https://a.b/")
    ('/map?x=1', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
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
