"""The sidebar: auto-sell toggle (the database flag the CLI reads), live confirmation, badge, refresh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from papishares.store.db import Store
from tests.ui.conftest import ROOT, open_page


def cli_autosell_status() -> str:
    out = subprocess.run([sys.executable, "-m", "papishares", "autosell", "status"], cwd=os.getcwd(),
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_toggle_writes_the_flag_the_cli_reads(ui_env: Path) -> None:
    at = open_page("pages/1_Positions.py")
    assert at.sidebar.toggle[0].value is False
    assert cli_autosell_status() == "off"
    at.sidebar.toggle[0].set_value(True).run()
    assert not at.exception
    assert cli_autosell_status() == "on"
    assert Store(ui_env).journal_entries(kind="autosell")[0]["action"] == "on"
    at.sidebar.toggle[0].set_value(False).run()
    assert cli_autosell_status() == "off"


def test_toggle_follows_a_change_made_elsewhere(ui_env: Path) -> None:
    at = open_page()
    assert at.sidebar.toggle[0].value is False
    Store(ui_env).set_autosell(True)  # e.g. `papishares autosell on` in a terminal
    at.run()
    assert at.sidebar.toggle[0].value is True


@pytest.mark.parametrize("allow", ["true", "false"])
def test_live_environment_asks_before_switching_on(t212_env, monkeypatch: pytest.MonkeyPatch, ui_env: Path,
                                                   allow: str) -> None:
    monkeypatch.setenv("T212_ENV", "live")  # a custom base URL stands for the environment T212_ENV names
    monkeypatch.setenv("PAPISHARES_ALLOW_LIVE_ORDERS", allow)
    at = open_page()
    assert not at.exception
    assert [b.value for b in at.sidebar.markdown if "badge" in b.value] == [":red-badge[LIVE]"]
    at.sidebar.toggle[0].set_value(True).run()
    assert cli_autosell_status() == "off"  # not yet: a confirmation is asked first
    assert at.sidebar.toggle[0].value is False
    warning = at.sidebar.warning[0].value
    assert "PAPISHARES_ALLOW_LIVE_ORDERS" in warning
    assert ("WILL be sent" in warning) == (allow == "true")
    at.sidebar.button(key="autosell_confirm_no").click().run()
    assert cli_autosell_status() == "off" and not at.sidebar.warning
    at.sidebar.toggle[0].set_value(True).run()
    at.sidebar.button(key="autosell_confirm_yes").click().run()
    assert not at.exception
    assert cli_autosell_status() == "on"
    assert at.sidebar.toggle[0].value is True


def test_refresh_button_and_autorefresh_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPISHARES_REFRESH_SECONDS", "45")
    at = open_page()
    assert "Every 45 s" in at.sidebar.toggle[1].help
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert "Data from" in at.sidebar.caption[0].value
    at.sidebar.toggle[1].set_value(False).run()  # auto-refresh off: the page still works
    assert not at.exception


def test_one_account_has_no_account_picker(ui_env: Path) -> None:
    at = open_page()
    assert not at.exception and not at.sidebar.selectbox
    assert [t.label for t in at.sidebar.toggle][0] == "Auto-sell"
