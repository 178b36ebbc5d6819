"""PAPISHARES_DASHBOARD_PASSWORD: every page asks for it; the data appears only after the right one."""

from __future__ import annotations

import pytest

from papishares.config import Secret, Settings
from papishares.ui.auth import password_matches
from tests.ui.conftest import PAGES, messages, open_page, page_text

PASSWORD = "correct-horse"


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPISHARES_DASHBOARD_PASSWORD", PASSWORD)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_asks_for_the_password(page: str) -> None:
    at = open_page(page)
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Dashboard password"]
    assert not at.metric and not at.dataframe and not at.sidebar.toggle
    assert PASSWORD not in page_text(at)


def test_wrong_then_right_password() -> None:
    at = open_page()
    at.text_input[0].input("guess")
    at.button[0].click().run()
    assert messages(at, "error") == ["Wrong password."]
    assert not at.metric
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert "Account value" in [m.label for m in at.metric]
    at.switch_page("pages/1_Positions.py").run()  # the session stays signed in across pages
    assert at.dataframe


def test_password_compare() -> None:
    settings = Settings(dashboard_password=Secret("s3cret"))
    assert password_matches("s3cret", settings)
    assert not password_matches("s3cre", settings)
    assert not password_matches("", settings)
    assert password_matches("anything", Settings())
