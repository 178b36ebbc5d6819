"""End to end: the real `streamlit run Home.py` server in headless Chromium, driven by Playwright.

Every page opens without an exception element, the Positions page lists the demo account's
tickers, and the sidebar toggle flips the flag that `python -m papishares autosell status` reports.
Screenshots of every page go to $PAPISHARES_SCREENSHOTS (default /tmp) for a person to look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.cgt import needs_cgt
from tests.support import streamlit_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PAGES = {"": "Papishares", "Positions": "Positions", "Risk": "Risk", "Charts": "Charts", "Orders": "Orders",
         "Activity": "Activity", "Settings": "Settings", "History": "History"}
DEMO_TICKERS = ["AAPL", "MSFT", "NVDA", "META", "RR", "LLOY", "VUSA", "SAP"]
SHOTS = Path(os.environ.get("PAPISHARES_SCREENSHOTS", "/tmp"))

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests (make browser installs it)")
    pytest.skip(f"{CHROMIUM} is missing (make browser installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("T212_", "PAPISHARES_", "TELEGRAM_"))}
    env.update({"DB_PATH": str(db), "PAPISHARES_BROKER": "demo", "PYTHONPATH": str(ROOT),
                "PAPISHARES_REFRESH_SECONDS": "300"})  # auto-refresh must not rerun a page mid-check
    return env


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    _require_chromium()
    db = tmp_path_factory.mktemp("e2e") / "papishares.db"
    with streamlit_app(db.parent, _env(db), _free_port()) as url:
        yield {"url": url, "db": db, "env": _env(db), "log": db.parent / "streamlit.log"}


SETTLED_JS = """() => !document.querySelector(
    '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"],'
    + '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stSkeletonElement"]')
  && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(e => e.querySelector('.main-svg'))"""


def _settled(page: Any, title: str) -> None:
    """Wait until the page's title is drawn, the script run is over and every chart is drawn."""
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=30_000)
    page.wait_for_timeout(200)
    page.wait_for_function(SETTLED_JS, timeout=30_000)


def autosell_status(app: dict[str, Any]) -> str:
    out = subprocess.run([sys.executable, "-m", "papishares", "autosell", "status"], cwd=app["db"].parent,
                         env=app["env"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_without_exception(app: dict[str, Any], browser: Any, path: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{app['url']}/{path}")
        _settled(page, PAGES[path])
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("text=Traceback").count() == 0
        assert page.locator('[data-testid="stSidebar"] >> text=DEMO').count() >= 1
        page.screenshot(path=str(SHOTS / f"papishares_{path or 'Home'}.png"), full_page=True)
    finally:
        page.close()


def test_positions_page_lists_the_demo_tickers(app: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto(f"{app['url']}/Positions")
        _settled(page, "Positions")
        # The grid draws on a canvas; its (visually hidden) accessible table holds the cell text.
        cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]')
        cells.first.wait_for(state="attached", timeout=30_000)
        shown = {c.strip() for c in cells.all_text_contents()}
        assert set(DEMO_TICKERS) <= shown, sorted(shown)[:40]
    finally:
        page.close()


def test_sidebar_toggle_flips_the_cli_flag(app: dict[str, Any], browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(app["url"])
        _settled(page, "Papishares")
        assert autosell_status(app) == "off"
        toggle = page.locator('[data-testid="stSidebar"] label:has-text("Auto-sell")')
        toggle.click()
        deadline = time.monotonic() + 20
        while autosell_status(app) != "on" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert autosell_status(app) == "on"
        _settled(page, "Papishares")
        toggle.click()
        deadline = time.monotonic() + 20
        while autosell_status(app) != "off" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert autosell_status(app) == "off"
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.close()


@needs_cgt
def test_history_page_computes_the_demo_uk_capital_gains(app: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    try:
        page.goto(f"{app['url']}/History")
        _settled(page, "History")
        page.locator("button:has-text(\"Compute from the demo's history\")").first.click()
        page.wait_for_selector("text=not tax advice", timeout=60_000)
        _settled(page, "History")
        cells = page.locator('[data-testid="stDataFrame"] [role="gridcell"]')
        cells.first.wait_for(state="attached", timeout=30_000)
        years = [c.strip() for c in cells.all_text_contents() if re.fullmatch(r"20\d\d/\d\d", c.strip())]
        assert years, "no tax year row in the History page's tables"
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator("text=Traceback").count() == 0
        page.screenshot(path=str(SHOTS / "papishares_History_tax.png"), full_page=True)
    finally:
        page.close()
