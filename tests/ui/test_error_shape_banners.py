"""The dashboard meets each real error shape with a banner, never a traceback (pattern: test_banners.py)."""

from __future__ import annotations

import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import messages, open_page, page_text


@pytest.mark.parametrize(("fixture", "status", "words"), [
    ("errors/html_502.html", 502, "cannot be reached"),
    ("errors/unauthorized_message.json", 401, "T212_API_KEY"),
    ("errors/plain_400.txt", 400, "Bad Request: quantity must be a number"),
])
def test_positions_page_shows_a_banner_for_each_shape(t212_env: FakeTrading212, fixture: str, status: int,
                                                      words: str) -> None:
    t212_env.inject("GET", "/equity/positions", "fixture", fixture=fixture, status=status, times=10)
    at = open_page("pages/1_Positions.py")
    assert not at.exception
    errors = " ".join(messages(at, "error"))
    assert words in errors, errors
    shown = page_text(at)
    assert "Traceback" not in shown and "<html" not in shown.lower()
    assert t212_env.key not in shown and (t212_env.secret or "") not in shown
