"""Dashboard sign-in end to end: `streamlit run Home.py` with an `[auth]` section in its secrets,
a local OpenID provider (oidc-provider-mock) and headless Chromium.

Signed out, no page shows account data; an allowed e-mail signs in and sees the pages; another
e-mail signs in at the provider but is refused by the dashboard.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    _env,
    _free_port,
    _require_chromium,
    _settled,
)
from tests.support import wait_healthy

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
    log = open(home / "streamlit.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "Home.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield {"url": url, "log": home / "streamlit.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(app: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
