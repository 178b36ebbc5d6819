"""Several accounts on a file of the single-account set-up: its rows become the first account's, once,
whichever account's store opens the file first; nothing lost, nothing moved twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from papishares.app.build import open_store
from papishares.config import load_accounts
from papishares.store.db import Store
from papishares.store.keys import Key
from tests.store.test_schema import v7_file  # noqa: F401 - the fixture


def _accounts(path: Path, names: str = "main,isa") -> Any:
    return load_accounts({"PAPISHARES_ACCOUNTS": names, "DB_PATH": str(path)}, dotenv_path=None)


@pytest.mark.parametrize("opened_first", [0, 1])
def test_a_file_older_than_accounts_becomes_the_first_accounts(v7_file: Any, opened_first: int) -> None:  # noqa: F811
    path, _ = v7_file
    accounts = _accounts(path)
    open_store(accounts[opened_first]).close()  # the ISA's store may be the one that opens it first
    main, isa = (open_store(s) for s in accounts)
    assert main.autosell_enabled and set(main.position_states()) == {"ticker-1", "ticker-2"}
    assert [e["kind"] for e in main.journal_entries()] == ["kind-2", "kind-1"]
    assert not isa.autosell_enabled and isa.position_states() == {} and isa.journal_entries() == []
    assert main.get(Key.TELEGRAM_OFFSET) == isa.get(Key.TELEGRAM_OFFSET) == "41"


@pytest.mark.parametrize("sole_name", ["invest", "isa"])
def test_the_sole_accounts_rows_move_to_the_first_even_under_a_later_name(tmp_path: Path, sole_name: str) -> None:
    path = tmp_path / "p.db"
    single = Store(path, sole_name, sole=True)
    single.set_autosell(True)
    single.record_price("AAPL_US_EQ", 10, 100.0, 120.0)
    single.close()
    isa = open_store(_accounts(path)[1])  # the second account opens first: it must not keep them
    assert isa.position_states() == {} and not isa.autosell_enabled
    main = open_store(_accounts(path)[0])
    assert set(main.position_states()) == {"AAPL_US_EQ"} and main.autosell_enabled
    assert main.get(Key.SOLE_ACCOUNT) is None
    with sqlite3.connect(path) as conn:
        owners = {r[0] for r in conn.execute("SELECT account FROM position_state")}
    assert owners == {"main"}


def test_rows_the_first_account_already_has_are_kept_and_nothing_is_lost(tmp_path: Path) -> None:
    """Back to one account for a while, then several again: the first account's own rows win, the
    older ones stay under their name (never overwritten, never deleted)."""
    path = tmp_path / "p.db"
    main = open_store(_accounts(path)[0])
    main.set_autosell(False)
    main.close()
    single = Store(path, "invest", sole=True)  # one account named invest again
    single.set_autosell(True)
    single.record_price("MSFT_US_EQ", 5, 300.0, 310.0)
    single.close()
    main = open_store(_accounts(path)[0])
    assert not main.autosell_enabled  # its own flag stands
    assert set(main.position_states()) == {"MSFT_US_EQ"}  # what it did not have moved to it
    assert Store(path, "invest").autosell_enabled  # the older flag is still there, under its name
