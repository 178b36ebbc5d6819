"""Settings page: risk settings, symbol overrides, test alert, demo reset, masked configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from papishares.config import STOP_MODES
from papishares.store.db import Store
from papishares.ui import tables
from tests.fakes.t212_server import FakeTrading212
from tests.fakes.telegram_server import TelegramServer
from tests.ui.conftest import messages, open_page, page_text


def test_symbol_override_is_saved(ui_env: Path) -> None:
    at = open_page("pages/6_Settings.py")
    assert not at.exception
    form_select = next(s for s in at.selectbox if s.label == "Position")
    form_select.select("RRl_EQ")
    at.text_input[0].input("RR.L")
    next(b for b in at.button if b.label == "Save override").click().run()  # the form's submit button
    assert not at.exception
    assert Store(ui_env).symbol_overrides() == {"RRl_EQ": "RR.L"}
    assert any("RRl_EQ → RR.L" in m for m in messages(at, "success"))
    assert at.table[0].value.iloc[0].tolist() == ["RRl_EQ", "RR.L"]


def test_risk_limits_saved_here_are_used_by_every_process(ui_env: Path) -> None:
    import json
    import subprocess
    import sys

    at = open_page("pages/6_Settings.py")
    at.number_input[0].set_value(1.5)
    at.number_input[1].set_value(9.0)
    next(b for b in at.button if b.label == "Save for every process").click().run()
    assert not at.exception
    assert any("Saved" in m for m in messages(at, "success"))
    store = Store(ui_env)
    assert store.get("override.risk_percentage") == "1.5"
    # another process (the CLI) computes with the saved limits
    proc = subprocess.run([sys.executable, "-m", "papishares", "snapshot", "--json"], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "DB_PATH": str(ui_env)})
    data = json.loads(proc.stdout)
    assert data["total_risk_threshold_pct"] == 9.0 and data["risk_percentage"] == 1.5
    next(b for b in at.button if b.label == "Use the environment's values").click().run()
    assert store.get("override.risk_percentage") is None
    assert any("environment" in m for m in messages(at, "success"))


def test_stop_mode_saved_here_is_used_by_every_process(ui_env: Path) -> None:
    import json
    import subprocess
    import sys

    def cli_snapshot() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "papishares", "snapshot", "--json"], capture_output=True,
                              text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "DB_PATH": str(ui_env)})
        assert proc.returncode == 0, proc.stderr
        return cast(dict[str, Any], json.loads(proc.stdout))

    def stops(snap: dict[str, Any]) -> dict[str, float | None]:
        return {p["ticker"]: p["stop_loss_price"] for p in snap["positions"]}

    before = cli_snapshot()
    assert before["stop_mode"] == "risk"
    at = open_page("pages/6_Settings.py")
    mode = next(s for s in at.selectbox if s.label == "Stop mode (the live calculated stop)")
    assert mode.value == "risk" and mode.options == [tables.STOP_MODE_WORDS[m] for m in STOP_MODES]
    mode.select("chandelier")
    next(b for b in at.button if b.label == "Save for every process").click().run()
    assert not at.exception
    assert any("Saved" in m for m in messages(at, "success"))
    store = Store(ui_env)
    assert store.get("override.stop_mode") == "chandelier"
    assert store.get("override.risk_percentage") is not None  # saved with the form's other values
    changes = [e["message"] for e in store.journal_entries(kind="settings") if "STOP_MODE" in e["message"]]
    assert changes == ["PAPISHARES_STOP_MODE set to chandelier from the dashboard"]
    at.run()
    assert next(s for s in at.selectbox if s.label.startswith("Stop mode")).value == "chandelier"
    # another process (the CLI) follows the saved mode: chandelier's stops stand above risk's here
    after = cli_snapshot()
    assert after["stop_mode"] == "chandelier"
    old, new = stops(before), stops(after)
    assert old.keys() == new.keys()
    raised = [t for t, stop in new.items() if stop is not None and stop > (old[t] or 0.0) + 1e-9]
    assert raised, (old, new)
    next(b for b in at.button if b.label == "Use the environment's values").click().run()
    assert not at.exception
    assert store.get("override.stop_mode") is None and store.get("override.risk_percentage") is None
    assert any("stop mode back to the environment" in m for m in messages(at, "success"))
    assert store.journal_entries(kind="settings")[0]["message"] == "PAPISHARES_STOP_MODE back to the environment's value"
    assert cli_snapshot()["stop_mode"] == "risk"


def test_effective_configuration_masks_secrets(t212_env: FakeTrading212) -> None:
    at = open_page("pages/6_Settings.py")
    config = dict(at.table[-1].value.values.tolist())
    assert config["t212_api_key"] == "(set)" and config["t212_secret_key"] == "(set)"
    assert config["environment"] == "t212-demo"
    text = page_text(at)
    assert t212_env.key not in text and t212_env.secret not in text
    assert not any(b.label == "Reset demo account" for b in at.button)  # only for the simulated account


def test_test_alert_without_telegram() -> None:
    at = open_page("pages/6_Settings.py")
    next(b for b in at.button if b.label == "Send test alert").click().run()
    assert not at.exception
    assert any("not configured" in m for m in messages(at, "success") + messages(at, "error"))


def test_test_alert_reaches_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    with TelegramServer() as tg:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", tg.token)
        monkeypatch.setenv("TELEGRAM_CHAT_ID", "12345")
        monkeypatch.setenv("TELEGRAM_API_BASE", tg.base)
        at = open_page("pages/6_Settings.py")
        next(b for b in at.button if b.label == "Send test alert").click().run()
        assert not at.exception
        assert len(tg.texts()) == 1
        assert tg.token not in page_text(at)


def test_reset_demo_account(ui_env: Path) -> None:
    at = open_page("pages/6_Settings.py")
    store = Store(ui_env)
    store.execute("DELETE FROM demo_orders")  # the user changed the account
    next(b for b in at.button if b.label == "Reset demo account").click().run()
    assert not at.exception
    assert "Demo account reset." in messages(at, "success")
    assert store.query("SELECT count(*) AS n FROM demo_orders WHERE status = 'NEW'")[0]["n"] == 2


def test_what_if_risk_budget() -> None:
    at = open_page("pages/6_Settings.py")
    at.slider[0].set_value(1.4).run()
    assert not at.exception
    assert "Risk budget per position" in at.markdown[0].value


def test_watchlist_is_edited_on_the_settings_page(ui_env: Path) -> None:
    from papishares.entries.universe import stored_watchlist

    at = open_page("pages/6_Settings.py")
    field = next(t for t in at.text_input if t.label == "Add a Yahoo-style symbol")
    field.input("rr.l")
    next(b for b in at.button if b.label == "Update watchlist").click().run()
    assert not at.exception
    assert stored_watchlist(Store(ui_env)) == ["RR.L"]
    assert any("RR.L added" in m for m in messages(at, "success"))
    next(t for t in at.text_input if t.label == "Add a Yahoo-style symbol").input("not a symbol!")
    next(b for b in at.button if b.label == "Update watchlist").click().run()
    assert any("not a Yahoo-style symbol" in m for m in messages(at, "error"))
    at.run()
    next(m for m in at.multiselect if m.label == "Remove").select("RR.L")
    next(b for b in at.button if b.label == "Update watchlist").click().run()
    assert stored_watchlist(Store(ui_env)) == []


def test_notification_settings_are_shared_with_telegram(ui_env: Path) -> None:
    from papishares.notify import prefs

    at = open_page("pages/6_Settings.py")
    assert not at.exception
    control = at.get("button_group")
    macd = next(c for c in control if c.label == prefs.KINDS["macd_crossover"])
    macd.set_value("silent")
    next(b for b in at.button if b.label == "Save notification settings").click().run()
    assert not at.exception
    assert any("Saved (1 changed)" in m for m in messages(at, "success"))
    store = Store(ui_env)
    assert prefs.modes(store)["macd_crossover"] == "silent" and prefs.delivery(store, "macd_crossover") == "silent"
    prefs.mute(store, 2)
    at.run()
    assert any("Muted (alerts silent) until" in m for m in messages(at, "info"))
