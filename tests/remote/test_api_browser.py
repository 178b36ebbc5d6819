"""The dashboard's pages still load in headless Chromium from `papishares dashboard`, beside the API routes,
and a page's auto-sell toggle and `POST /autosell` move the same flag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, _settled
from tests.fakes.t212_server import FakeTrading212
from tests.remote.dashboard_process import Dashboard, running_dashboard

pytestmark = pytest.mark.browser
TOKEN = "browser-token-1234567890"
PAGES = {"": "Papishares", "Positions": "Positions"}


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    _require_chromium()
    home = tmp_path_factory.mktemp("api-browser")
    with FakeTrading212.running() as t212:
        config = {**t212.env(str(home / "papishares.db")), "PAPISHARES_MARKET_DATA": "none",
                  "PAPISHARES_API_TOKEN": TOKEN}
        with running_dashboard(home, config) as server:
            yield server


@pytest.fixture(scope="module")
def browser(dash: Dashboard) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_pages_load_beside_the_api(dash: Dashboard, browser: Any, path: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{dash.url}/{path}")
        _settled(page, PAGES[path])
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("text=Traceback").count() == 0
        api = httpx.get(dash.url + "/positions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert api.status_code == 200 and api.json()["positions"]
    finally:
        page.close()


def test_the_page_shows_what_the_api_switched(dash: Dashboard, browser: Any) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    page = browser.new_page()
    try:
        for wanted in (True, False):
            assert httpx.post(dash.url + "/autosell", json={"auto_sell": wanted}, headers=bearer,
                              timeout=30).json() == {"auto_sell": wanted}
            page.goto(dash.url)
            _settled(page, "Papishares")
            toggle = page.locator('[data-testid="stSidebar"] input[type="checkbox"]').first
            assert toggle.is_checked() is wanted
    finally:
        page.close()
