"""Dashboard sign-in end to end: `streamlit run Home.py` with an `[auth]` section in its secrets,
a local OpenID provider (oidc-provider-mock) and headless Chromium.

Signed out, no page shows account data; an allowed e-mail signs in and sees the pages; another
e-mail signs in at the provider but is refused by the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.test_browser import (
    _env,
    _free_port,
    _require_chromium,
    _settled,
)
from tests.support import streamlit_app

pytestmark = pytest.mark.browser

ALLOWED = "alice@example.com"
OTHER = "mallory@example.com"


@pytest.fixture(scope="module")
def oidc() -> Iterator[str]:
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        base = f"http://127.0.0.1:{server.server_port}"
        for email in (ALLOWED, OTHER):
            answer = httpx.put(f"{base}/users/{quote(email)}", json={"email": email, "name": email.split("@")[0]})
            assert answer.status_code == 204
        yield base


@pytest.fixture(scope="module")
def app(oidc: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require_chromium()
    home = tmp_path_factory.mktemp("signin")
    port = _free_port()
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-tests-only"\n'
        'client_id = "papishares"\n'
        'client_secret = "papishares-secret"\n'
        f'server_metadata_url = "{oidc}/.well-known/openid-configuration"\n')
    env = _env(home / "papishares.db")
    env["PAPISHARES_ALLOWED_EMAILS"] = f"{ALLOWED.upper()}, bob@example.com"  # case does not matter
    with streamlit_app(home, env, port) as url:
        yield {"url": url, "log": home / "streamlit.log"}


def sign_in(page: Any, app: dict[str, Any], email: str) -> None:
    page.goto(app["url"])
    _settled(page, "Papishares")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app['url']}/**", timeout=30_000)


@pytest.mark.parametrize("path", ["", "Positions", "Charts", "Settings"])
def test_signed_out_nothing_shows(app: dict[str, Any], browser: Any, path: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{app['url']}/{path}")
        _settled(page, "Papishares")
        body = page.locator("body").inner_text()
        assert "Sign in to see the dashboard" in body
        for secret in ("Account value", "AAPL", "Auto-sell", "Refresh now"):
            assert secret not in body
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_an_allowed_email_sees_the_pages_and_can_sign_out(app: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        sign_in(page, app, ALLOWED)
        page.wait_for_selector("text=Account value", timeout=30_000)
        assert page.locator(f'[data-testid="stSidebar"] >> text=Signed in as {ALLOWED}').count() == 1
        page.goto(f"{app['url']}/Positions")
        _settled(page, "Positions")
        assert page.locator('[data-testid="stDataFrame"]').count() >= 1
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/end_session**", timeout=30_000)  # Streamlit also ends the provider's session
        page.goto(app["url"])
        page.wait_for_selector("text=Sign in to see the dashboard", timeout=30_000)
        assert "Account value" not in page.locator("body").inner_text()
    finally:
        context.close()


def test_another_email_is_refused(app: dict[str, Any], browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, app, OTHER)
        page.wait_for_selector(f"text={OTHER} is not allowed on this dashboard", timeout=30_000)
        body = page.locator("body").inner_text()
        assert "Account value" not in body and "AAPL" not in body
    finally:
        context.close()
