"""Trading 212's instrument metadata and exchange schedules, as last fetched (shared by every
account: an instrument and its exchange's hours are the same whoever holds it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from papishares.store.db import Store

_TABLES = {"instruments": "instruments", "exchanges": "exchanges"}


def oldest_fetch(store: Store, kind: Literal["instruments", "exchanges"]) -> float | None:
    """When the oldest stored row of `kind` was fetched (None when nothing is stored)."""
    rows = store.execute(f"SELECT min(fetched_at) FROM {_TABLES[kind]}")  # noqa: S608 - fixed names
    return None if not rows or rows[0][0] is None else float(rows[0][0])


def instruments(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM instruments")


def replace_instruments(store: Store, rows: Iterable[Sequence[Any]]) -> None:
    """Every instrument at once: (ticker, name, short_name, currency, type, isin, working_schedule_id,
    max_open_quantity, extended_hours, fetched_at) rows replace what was stored."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM instruments")
        conn.executemany(
            "INSERT INTO instruments (ticker, name, short_name, currency, type, isin, working_schedule_id,"
            " max_open_quantity, extended_hours, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(rows))


def exchanges(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM exchanges ORDER BY id")


def replace_exchanges(store: Store, rows: Iterable[Sequence[Any]]) -> None:
    """Every exchange at once: (id, name, schedules JSON, fetched_at) rows replace what was stored."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM exchanges")
        conn.executemany("INSERT INTO exchanges (id, name, schedules, fetched_at) VALUES (?, ?, ?, ?)", list(rows))
