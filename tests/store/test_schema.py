"""A database written before accounts (schema 7, recorded in schema_v7.sql) opens and upgrades in
place: every row of every table survives, each per-account row becomes the opening account's."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from papishares.store.db import Store
from papishares.store.keys import SHARED, Key, KeyFamily
from papishares.store.schema import SCHEMA_VERSION

V7 = Path(__file__).with_name("schema_v7.sql")
UNKEYED = {"instruments", "exchanges", "bars", "bars_meta", "symbol_overrides", "watchlist", "lease"}
KV_ROWS = [(Key.AUTOSELL.value, "on"), (Key.TELEGRAM_OFFSET.value, "41"), (KeyFamily.FX_RATE.of("USDGBP"), "{}"),
           (Key.BROKER_STOPS_OVERRIDE.value, "off"), (Key.PRECISION.value, '{"X": 2}')]


def _value(column: str, kind: str, i: int) -> Any:
    if "INT" in kind:
        return i
    if "REAL" in kind:
        return i + 0.5
    return f"{column}-{i}"


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(r[1], r[2]) for r in conn.execute(f"PRAGMA table_info({table})")]


def _rows(conn: sqlite3.Connection, table: str, columns: list[str]) -> set[tuple[Any, ...]]:
    return set(conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall())  # noqa: S608


@pytest.fixture
def v7_file(tmp_path: Path) -> tuple[Path, dict[str, tuple[list[str], set[tuple[Any, ...]]]]]:
    """A schema-7 file with two rows in every table (kv: shared and per-account keys)."""
    path = tmp_path / "v7.db"
    conn = sqlite3.connect(path)
    conn.executescript(V7.read_text())
    before = {}
    for table in _tables(conn):
        columns = _columns(conn, table)
        names = [c for c, _ in columns]
        if table == "kv":
            rows = [(k, v, 1.0) for k, v in KV_ROWS]
        else:
            rows = [tuple(_value(c, kind, i) for c, kind in columns) for i in (1, 2)]
        conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",  # noqa: S608
                         rows)
        before[table] = (names, _rows(conn, table, names))
    conn.commit()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
    conn.close()
    return path, before


def test_every_row_survives_and_becomes_the_accounts(v7_file: Any) -> None:
    path, before = v7_file
    store = Store(path, account="isa")
    assert store.schema_version() == SCHEMA_VERSION == 8
    conn = store.conn
    assert set(_tables(conn)) - {"sqlite_sequence"} == set(before)
    for table, (names, rows) in before.items():
        assert _rows(conn, table, names) == rows, table  # nothing lost, nothing changed
        has_account = "account" in [c for c, _ in _columns(conn, table)]
        assert has_account == (table not in UNKEYED), table
        if has_account and table != "kv":
            assert {r[0] for r in conn.execute(f"SELECT account FROM {table}")} == {"isa"}, table  # noqa: S608
    accounts = dict(conn.execute("SELECT key, account FROM kv").fetchall())
    assert accounts == {Key.AUTOSELL: "isa", Key.TELEGRAM_OFFSET: SHARED, KeyFamily.FX_RATE.of("USDGBP"): SHARED,
                        Key.BROKER_STOPS_OVERRIDE: "isa", Key.PRECISION: SHARED}


def test_the_upgraded_file_reads_as_before_for_its_account_only(v7_file: Any) -> None:
    path, _ = v7_file
    store = Store(path, account="invest")
    assert store.autosell_enabled and store.get(Key.TELEGRAM_OFFSET) == "41"
    assert set(store.position_states()) == {"ticker-1", "ticker-2"}
    assert [e["kind"] for e in store.journal_entries()] == ["kind-2", "kind-1"]
    store.close()
    other = Store(path, account="isa")  # a second account sees none of the first one's rows
    assert other.schema_version() == SCHEMA_VERSION
    assert not other.autosell_enabled and other.position_states() == {} and other.journal_entries() == []
    assert other.get(Key.TELEGRAM_OFFSET) == "41"  # shared state is everyone's


def test_a_new_file_and_an_upgraded_one_have_the_same_schema(v7_file: Any, tmp_path: Path) -> None:
    path, _ = v7_file
    upgraded, fresh = Store(path), Store(tmp_path / "new.db")

    def shape(store: Store) -> dict[str, list[tuple[str, str]]]:
        return {t: _columns(store.conn, t) for t in _tables(store.conn)}

    assert shape(upgraded) == shape(fresh)


def test_an_account_name_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lowercase"):
        Store(tmp_path / "x.db", account="Invest; DROP")


def test_the_sole_account_keeps_its_rows_when_its_name_changes(v7_file: Any) -> None:
    """PAPISHARES_ACCOUNT_TYPE changed on an existing file: the one account's stops, high-water marks,
    flag and journal follow it instead of vanishing (a second named account never takes them)."""
    path, _ = v7_file
    Store(path, account="invest", sole=True).close()
    moved = Store(path, account="isa", sole=True)
    assert moved.autosell_enabled and set(moved.position_states()) == {"ticker-1", "ticker-2"}
    assert [e["kind"] for e in moved.journal_entries()] == ["kind-2", "kind-1"]
    assert moved.get(Key.TELEGRAM_OFFSET) == "41"
    moved.close()
    assert Store(path, account="invest").position_states() == {}  # nothing left under the old name
    back = Store(path, account="invest", sole=True)  # and back again, losing nothing
    assert set(back.position_states()) == {"ticker-1", "ticker-2"} and back.autosell_enabled
    assert Store(path, account="isa").position_states() == {}
