"""The SQLite store: migrations, WAL, atomic high-water marks and stop ratchet across processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from papishares.store.db import Store
from papishares.store.schema import SCHEMA_VERSION, STEPS


def test_new_file_gets_current_schema_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.execute("PRAGMA journal_mode")[0][0] == "wal"
    assert store.execute("PRAGMA busy_timeout")[0][0] >= 5000


def test_older_schema_upgrades_in_place_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(str(STEPS[1]))  # a file written by schema version 1
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO position_state (ticker, quantity, max_price, stop_price, stop_quantity) "
                 "VALUES ('AAPL_US_EQ', 10, 200, 180, 10)")
    conn.execute("INSERT INTO kv (key, value) VALUES ('autosell', 'on')")
    conn.commit()
    conn.close()

    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION == 8  # 8: rows keyed by account
    row = store.position_states()["AAPL_US_EQ"]
    assert row["max_price"] == 200 and row["stop_price"] == 180
    assert row["breach_count"] == 0  # column added by migration 2
    assert store.autosell_enabled
    store.execute("INSERT INTO watchlist (symbol, added_at) VALUES ('RR.L', 0)")  # table from migration 2
    Store(path)  # opening again is a no-op
    assert Store(path).schema_version() == SCHEMA_VERSION
    assert Store(path).position_states()["AAPL_US_EQ"]["missing_since"] is None  # column from migration 3


def test_high_water_mark_only_rises(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    assert store.record_price("X", 10, 100.0, 95.0).max_price == 100.0  # never below the average price
    assert store.record_price("X", 10, 100.0, 120.0).max_price == 120.0
    rec = store.record_price("X", 10, 100.0, 110.0)
    assert rec.max_price == 120.0 and rec.prev_price == 120.0


# Contract change (issue 9): a 100x price now never enters the high-water mark, even seen twice;
# the confirmation rule is kept for >50% moves that are not units problems (610 -> 1000 here).
def test_a_big_jump_does_not_lift_the_high_water_mark_until_seen_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("RRl_EQ", 100, 600.0, 610.0)
    assert store.record_price("RRl_EQ", 100, 600.0, 1000.0).max_price == 610.0  # +64%: wait
    assert store.record_price("RRl_EQ", 100, 600.0, 1000.0).max_price == 1000.0  # seen twice: real


def test_a_100x_price_never_enters_the_high_water_mark(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("RRl_EQ", 100, 600.0, 610.0)
    for _ in range(3):  # pounds read as pence, seen again and again
        assert store.record_price("RRl_EQ", 100, 600.0, 61000.0).max_price == 610.0
    # not even on first sight of a new position
    assert store.record_price("NEWl_EQ", 10, 6.0, 600.0).max_price == 6.0
    assert store.record_price("NEWl_EQ", 10, 6.0, 6.2).max_price == 6.0  # 600 was never its mark
    assert store.record_price("NEWl_EQ", 10, 6.0, 6.3).max_price == 6.3


def test_the_same_broker_answer_read_twice_confirms_no_jump(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("RRl_EQ", 100, 600.0, 610.0, now=10.0, fetched_at=10.0)
    # the dashboard and the worker read one cached answer holding a big tick
    for now in (11.0, 12.0, 13.0):
        rec = store.record_price("RRl_EQ", 100, 600.0, 1000.0, now=now, fetched_at=11.0)
        assert rec.max_price == 610.0 and rec.prev_price == 610.0
    # a later answer that still says so confirms it
    assert store.record_price("RRl_EQ", 100, 600.0, 1000.0, now=14.0, fetched_at=14.0).max_price == 1000.0


def test_stop_ratchets_up_only_while_quantity_unchanged(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("X", 10, 100.0, 100.0)
    assert store.ratchet_stop("X", 10, 90.0) == 90.0
    assert store.ratchet_stop("X", 10, 85.0) == 90.0  # never down
    assert store.ratchet_stop("X", 10, None) == 90.0  # a null new stop keeps the stored one
    assert store.ratchet_stop("X", 10, 95.0) == 95.0
    assert store.ratchet_stop("X", 12, 80.0) == 80.0  # quantity changed: start again
    assert store.ratchet_stop("Y", 5, 50.0) == 50.0  # unknown ticker: passes through


def test_closed_positions_are_forgotten(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("A", 1, 10.0, 12.0)
    store.record_price("B", 1, 10.0, 12.0)
    assert store.forget_closed_positions({"A"}, now=1000.0) == []  # missing once: kept
    assert store.forget_closed_positions(set(), now=1030.0) == []  # an empty answer wipes nothing
    store.record_price("A", 1, 10.0, 12.0)  # A is back
    assert store.forget_closed_positions({"A"}, now=1061.0) == ["B"]  # B missing for over a minute
    assert set(store.position_states()) == {"A"}
    assert store.position_states()["A"]["max_price"] == 12.0


def _raise_high_water(path: str, start: float, count: int) -> None:
    store = Store(path)
    for i in range(count):
        price = start + i
        store.record_price("RACE", 10, 100.0, price)
        store.ratchet_stop("RACE", 10, price - 10)


def test_two_processes_raising_the_same_high_water_mark_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "race.db")
    Store(path)
    ctx = multiprocessing.get_context("spawn")
    # Interleaved ladders: each process raises the mark with its own prices; the max must win.
    procs = [ctx.Process(target=_raise_high_water, args=(path, 100.0 + k * 0.5, 300)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    row = Store(path).position_states()["RACE"]
    assert row["max_price"] == 100.5 + 299
    assert row["stop_price"] == 100.5 + 299 - 10


def test_flags_and_journal(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    assert not store.autosell_enabled
    store.set_autosell(True)
    assert Store(tmp_path / "p.db").autosell_enabled
    entries = store.journal_entries()
    assert entries[0]["kind"] == "autosell" and entries[0]["action"] == "on"
    store.set_symbol_override("FB_US_EQ", "META")
    assert store.symbol_overrides() == {"FB_US_EQ": "META"}
    store.set_symbol_override("FB_US_EQ", None)
    assert store.symbol_overrides() == {}


def test_a_position_bought_back_after_a_sale_starts_afresh(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")
    store.record_price("X", 10, 100.0, 150.0, now=1000.0, opened_at=500.0)
    store.ratchet_stop("X", 10, 140.0)
    # same position seen again: state kept
    assert store.record_price("X", 10, 100.0, 120.0, now=1100.0, opened_at=500.0).max_price == 150.0
    # sold and bought back between two looks: the broker's creation time is after the state began
    rec = store.record_price("X", 10, 90.0, 95.0, now=1200.0, opened_at=1150.0)
    assert rec.max_price == 95.0 and rec.prev_price is None
    assert store.position_states()["X"]["stop_price"] is None
    assert store.position_states()["X"]["opened_at"] == 1150.0


def _open_many(path: str, count: int) -> None:
    for _ in range(count):
        Store(path).close()


def test_processes_creating_the_file_together_all_get_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_open_many, args=(path, 20)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert Store(path).execute("PRAGMA journal_mode")[0][0] == "wal"
