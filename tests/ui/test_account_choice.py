"""Which account the dashboard shows, and when the All-accounts toggle reads as on (pure rules)."""

from __future__ import annotations

from dataclasses import replace

from papishares.config import load_settings
from papishares.ui.accounts import ALL, account_of, chosen_name
from papishares.ui.sidebar import all_enabled, scoped


def test_chosen_name_falls_back_to_the_whole_book() -> None:
    names = ("invest", "isa")
    assert chosen_name(names, "isa") == "isa"
    assert chosen_name(names, ALL) == ALL
    assert chosen_name(names, None) == ALL  # a new session starts on the whole book
    assert chosen_name(names, "pension") == ALL  # an account removed from PAPISHARES_ACCOUNTS since


def test_account_of() -> None:
    base = load_settings({}, dotenv_path=None)
    accounts = tuple(replace(base, account=n, accounts=("invest", "isa")) for n in ("invest", "isa"))
    assert account_of(accounts, "isa") is accounts[1]
    assert account_of(accounts, ALL) is None


def test_all_toggle_is_on_only_when_every_account_is() -> None:
    assert all_enabled({"invest": True, "isa": True})
    assert not all_enabled({"invest": True, "isa": False})
    assert not all_enabled({})
    assert scoped("autosell_toggle", "") == "autosell_toggle" and scoped("autosell_toggle", "isa") == "autosell_toggle_isa"
