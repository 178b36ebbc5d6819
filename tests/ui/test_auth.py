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


def test_repeated_wrong_passwords_slow_down_and_are_journalled() -> None:
    from papishares.config import load_settings
    from papishares.ui import auth, data

    at = open_page()
    for _ in range(auth.FREE_TRIES):
        at.text_input[0].input("guess")
        at.button[0].click().run()
        assert messages(at, "error") == ["Wrong password."]
    at.text_input[0].input(PASSWORD)  # even the right one waits now
    at.button[0].click().run()
    assert messages(at, "error")[0].startswith("Too many wrong passwords: try again in")
    assert not at.metric
    store = data.service(load_settings()).store
    wrong = [r for r in store.journal_entries(kind="auth") if r["action"] == "wrong_password"]
    assert [r["message"] for r in wrong][0] == f"Wrong dashboard password ({auth.FREE_TRIES} in a row)"
    assert len(wrong) == auth.FREE_TRIES
    store.set_json(auth.FAILURES_KEY, {"count": auth.FREE_TRIES, "last": 0})  # the wait is over
    at.text_input[0].input(PASSWORD)
    at.button[0].click().run()
    assert "Account value" in [m.label for m in at.metric]


def test_wait_grows_and_is_capped() -> None:
    from papishares.ui.auth import FREE_TRIES, MAX_WAIT, wait_after

    assert [wait_after(n) for n in range(FREE_TRIES)] == [0.0] * FREE_TRIES
    assert [wait_after(FREE_TRIES + i) for i in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert wait_after(100) == MAX_WAIT


OIDC_SECRETS = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
                "client_id": "papishares", "client_secret": "s",
                "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.mark.parametrize("page", PAGES)
def test_with_oidc_configured_signed_out_nothing_shows(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.ui.conftest import HOME

    monkeypatch.setenv("PAPISHARES_ALLOWED_EMAILS", "alice@example.com")
    at = AppTest.from_file(HOME, default_timeout=60)
    at.secrets["auth"] = OIDC_SECRETS
    at.run()
    if page != "Home.py":
        at.switch_page(page).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.sidebar.toggle and not at.text_input
    text = page_text(at)
    assert "AAPL" not in text and "Account value" not in text
