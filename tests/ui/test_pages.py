"""Every page opens without an exception element, on the demo broker and on the local Trading 212."""

from __future__ import annotations

import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import PAGES, messages, open_page, page_text

TITLES = {"Home.py": "Papishares", "pages/1_Positions.py": "Positions", "pages/2_Risk.py": "Risk",
          "pages/3_Charts.py": "Charts", "pages/4_Orders.py": "Orders", "pages/5_Activity.py": "Activity",
          "pages/6_Settings.py": "Settings", "pages/8_History.py": "History"}


@pytest.mark.parametrize("page", PAGES)
def test_page_on_demo_broker(page: str) -> None:
    at = open_page(page)
    assert not at.exception
    assert TITLES[page] in at.title[0].value
    assert messages(at, "error") == [] or page == "pages/2_Risk.py"  # Risk may flag a position without stop
    assert [b.value for b in at.sidebar.markdown if "badge" in b.value] == [":blue-badge[DEMO]"]
    assert [t.label for t in at.sidebar.toggle] == ["Auto-sell", "Auto-refresh"]
    assert "Data from" in at.sidebar.caption[0].value


@pytest.mark.parametrize("page", PAGES)
def test_page_on_trading212_never_shows_secrets(page: str, t212_env: FakeTrading212) -> None:
    at = open_page(page)
    assert not at.exception
    assert TITLES[page] in at.title[0].value
    assert [b.value for b in at.sidebar.markdown if "badge" in b.value] == [":orange-badge[PAPER]"]
    text = page_text(at)
    assert t212_env.key not in text and t212_env.secret not in text
