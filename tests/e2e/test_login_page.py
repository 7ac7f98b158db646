"""The login page's refusals: worded again when the language changes (the error stayed in the
language it was shown in)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Browser

pytestmark = pytest.mark.e2e


def open_login(browser: Browser) -> None:
    browser.page.goto(f"{browser.base_url}/login")
    expect(browser.page.locator("body")).to_have_attribute("data-ready", "login")


def test_a_refused_login_follows_the_language(browser: Browser) -> None:
    page = browser.page
    open_login(browser)
    # a name no account has: nobody is locked out by the test
    page.fill("#gh-name", "e2e_nobody")
    page.fill("#gh-password", "not the password")
    page.click("#gh-login-submit")
    error = page.locator("#gh-login-error")
    expect(error).to_have_text("用户名、密码或动态码错误，或账户已锁定")
    page.click("#gh-lang")
    expect(error).to_have_text("Wrong name, password or code, or the account is locked")
    page.click("#gh-lang")
    expect(error).to_have_text("用户名、密码或动态码错误，或账户已锁定")


def test_a_blank_user_name_is_named_by_its_label(browser: Browser) -> None:
    """The login form's `name` is the user name (用户名), not a person's name (姓名), which
    the pages' shared labels give the API's `name`."""
    page = browser.page
    open_login(browser)
    page.fill("#gh-name", "   ")  # blank once trimmed: refused by the API, not the browser
    page.fill("#gh-password", "not the password")
    page.click("#gh-login-submit")
    error = page.locator("#gh-login-error")
    expect(error).to_have_text("用户名：至少1个字符")
    page.click("#gh-lang")
    expect(error).to_have_text(re.compile(r"^User name: "))
