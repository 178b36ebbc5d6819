"""Dashboard test helpers: a clean environment per test, cleared Streamlit caches, AppTest page runs.

Settings are read from the environment at every page run, so each test sets its env with
monkeypatch; Streamlit's caches are process-wide, so they are cleared before and after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.fakes.t212_server import FakeTrading212

ROOT = Path(__file__).resolve().parents[2]
HOME = str(ROOT / "Home.py")
PAGES = ["Home.py", "pages/1_Positions.py", "pages/2_Risk.py", "pages/3_Charts.py", "pages/4_Orders.py",
         "pages/5_Activity.py", "pages/6_Settings.py", "pages/8_History.py"]
OWN_VARIABLES = ("T212_", "PAPISHARES_", "TELEGRAM_", "ENTRIES_")
OTHER_VARIABLES = ("DB_PATH", "RISK_PERCENTAGE", "TOTAL_RISK_PERCENTAGE")


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def ui_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No inherited configuration, a fresh database, the demo broker, a working dir without .env."""
    for name in list(os.environ):
        if name.startswith(OWN_VARIABLES) or name in OTHER_VARIABLES:
            monkeypatch.delenv(name)
    db = tmp_path / "papishares.db"
    monkeypatch.setenv("DB_PATH", str(db))
    monkeypatch.chdir(tmp_path)
    clear_caches()
    yield db
    clear_caches()


@pytest.fixture
def t212_env(t212_server: FakeTrading212, ui_env: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTrading212:
    """The dashboard pointed at the local fake Trading 212 (paper environment, no market data)."""
    for name, value in t212_server.env(str(ui_env)).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAPISHARES_MARKET_DATA", "none")
    return t212_server


def open_page(page: str = "Home.py", timeout: float = 60) -> AppTest:
    """Run Home.py (the multipage root), then switch to `page` and run it."""
    at = AppTest.from_file(HOME, default_timeout=timeout)
    at.run()
    if page != "Home.py":
        at.switch_page(page).run()
    return at


def page_text(at: AppTest) -> str:
    """Everything the page sent to the browser, as text (to prove what is and is not shown)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def messages(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]
