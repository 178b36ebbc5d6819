"""Position state per account: high-water marks, the ratcheted stop, breaches, closed positions.

The ratchet ("a stored stop never moves down while the quantity is unchanged") is defined once, as
the pure `core.risk.ratchet`; `ratchet_stop` applies it to the stored row under the write lock, so
the stop the store keeps and the stop the dashboard computes follow one rule. The high-water mark
stays one SQL statement: two processes raising it at once must both count without a lock held
across Python.
"""

from __future__ import annotations

import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from papishares.core import units
from papishares.core.risk import ratchet

if TYPE_CHECKING:
    from papishares.store.db import Store

CLOSED_GRACE_S = 60.0  # how long a position may be missing from the broker's answers before its state goes


@dataclass(frozen=True)
class PriceRecord:
    """What the store holds for an open position after recording a new price."""

    max_price: float
    prev_price: float | None  # the price recorded before this one (for the >50% move rule)


def record_price(store: Store, ticker: str, quantity: float, average_price: float, price: float,
                 now: float | None = None, opened_at: float | None = None,
                 fetched_at: float | None = None) -> PriceRecord:
    """Record a price seen for an open position; raise its high-water mark atomically.

    A price about 100x away from the average price (`units.units_mismatch`: pence against
    pounds) never enters the high-water mark, not even on first sight or when seen again.
    A price more than 50% away from the last recorded one does not raise the high-water mark
    until it is seen again in a LATER broker answer (`fetched_at`; the same cached answer read
    twice confirms nothing): a pence/pounds mix-up must never lift a stop 100x. Nor does a price
    (or an average price) about 100x away from the stored high-water mark, even when the price and
    the average agree with each other: the stored stop stands in the high's units. `opened_at` is
    the broker's creation time of the position: one created after the stored state began is a
    new position (sold and bought back between two looks), so its state starts afresh.
    """
    now = time.time() if now is None else now
    if opened_at is not None:
        store.execute("DELETE FROM position_state WHERE account = ? AND ticker = ? AND opened_at IS NOT NULL "
                      "AND opened_at < ?", (store.account, ticker, opened_at - 1.0))
    _follow_split(store, ticker, quantity, average_price, now)
    row = store.execute(
        """
        INSERT INTO position_state (account, ticker, quantity, average_price, max_price, last_price,
                                    prev_price, last_price_at, opened_at, updated_at)
        VALUES (:a, :t, :q, :avg, CASE WHEN :lift THEN max(:price, :avg) ELSE :avg END, :price, NULL, :fetched,
                :opened, :now)
        ON CONFLICT(account, ticker) DO UPDATE SET
            max_price = CASE
                WHEN position_state.max_price > 0 AND excluded.last_price > 0
                  AND max(excluded.last_price / position_state.max_price,
                          position_state.max_price / excluded.last_price) >= :units
                THEN position_state.max_price  -- a price in other units than the stored high: kept
                WHEN NOT :lift
                  OR (excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                      AND position_state.last_price > 0
                      AND abs(excluded.last_price / position_state.last_price - 1) > :move)
                  OR (excluded.last_price_at <= coalesce(position_state.last_price_at, 0)
                      AND position_state.prev_price > 0
                      AND abs(excluded.last_price / position_state.prev_price - 1) > :move)
                THEN max(position_state.max_price, CASE WHEN position_state.max_price > 0
                    AND excluded.average_price > 0
                    AND max(excluded.average_price / position_state.max_price,
                            position_state.max_price / excluded.average_price) >= :units
                    THEN 0 ELSE excluded.average_price END)  -- nor an average in other units
                ELSE max(position_state.max_price, excluded.max_price) END,
            prev_price = CASE WHEN excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                THEN position_state.last_price ELSE position_state.prev_price END,
            last_price = CASE WHEN excluded.last_price_at > coalesce(position_state.last_price_at, 0)
                THEN excluded.last_price ELSE position_state.last_price END,
            last_price_at = max(coalesce(position_state.last_price_at, 0), excluded.last_price_at),
            quantity = excluded.quantity,
            average_price = excluded.average_price,
            missing_since = NULL,
            updated_at = excluded.updated_at
        RETURNING max_price, prev_price
        """,
        {"a": store.account, "t": ticker, "q": quantity, "avg": average_price, "price": price, "now": now,
         "move": units.SUSPECT_MOVE, "units": units.UNITS_RATIO,
         "lift": int(not units.units_mismatch(price, average_price)),
         "opened": now if opened_at is None else opened_at,
         "fetched": now if fetched_at is None else fetched_at},
    )
    max_price, prev = row[0]
    return PriceRecord(float(max_price), None if prev is None else float(prev))


def _follow_split(store: Store, ticker: str, quantity: float, average_price: float, now: float) -> None:
    """A stock split seen between two answers (quantity x r, average / r: `units.split_factor`)
    scales the stored high-water mark, prices and stop into the new scale, so the split is
    neither a fall through the stop (a sale) nor a stop left far below the price."""
    select = ("SELECT quantity, average_price, max_price, stop_price FROM position_state "
              "WHERE account = ? AND ticker = ?")

    def factor_of(old: Any) -> float | None:
        return None if old is None else units.split_factor(old[0], old[1], quantity, average_price)

    rows = store.execute(select, (store.account, ticker))  # the hot path: a read, no write lock, unless a split shows
    if factor_of(rows[0] if rows else None) is None:
        return
    with store.transaction():  # seen again under the lock: the dashboard and the worker scale once
        found = store.execute(select, (store.account, ticker))
        old = found[0] if found else None
        factor = factor_of(old)
        if factor is None or old is None:
            return
        store.execute("UPDATE position_state SET max_price = max_price * :f, last_price = last_price * :f, "
                      "prev_price = prev_price * :f, stop_price = stop_price * :f, stop_quantity = :q, "
                      "quantity = :q, average_price = :avg WHERE account = :a AND ticker = :t",
                      {"f": factor, "q": quantity, "avg": average_price, "a": store.account, "t": ticker})
        ratio = f"{1 / factor:g}:1" if factor < 1 else f"1:{factor:g}"
        store.journal("position", ticker, "split",
                      f"{ticker}: a {ratio} split (quantity {old[0]:g} -> {quantity:g}, average {old[1]:g} -> "
                      f"{average_price:g}): the high-water mark and the stop are scaled with it",
                      {"factor": factor, "max_price": old[2], "stop_price": old[3]}, at=now)


def ratchet_stop(store: Store, ticker: str, quantity: float, stop: float | None) -> float | None:
    """Store a newly computed stop by `core.risk.ratchet`; it never moves down while the quantity is unchanged.

    Returns the stop in force. `None` in, with no stored stop for this quantity, stays `None`; an
    unknown ticker passes the new stop through.
    """
    with store.transaction():  # read, rule, write under the write lock: two processes ratchet in turn
        rows = store.execute("SELECT stop_price, stop_quantity FROM position_state WHERE account = ? AND ticker = ?",
                             (store.account, ticker))
        if not rows:
            return stop
        kept = ratchet(rows[0][0], stop, rows[0][1], quantity)
        store.execute("UPDATE position_state SET stop_price = ?, stop_quantity = ? WHERE account = ? AND ticker = ?",
                      (kept, quantity, store.account, ticker))
    return None if kept is None else float(kept)


def states(store: Store) -> dict[str, dict[str, Any]]:
    """Every stored position of the account, by ticker."""
    rows = store.query("SELECT * FROM position_state WHERE account = ?", (store.account,))
    return {r["ticker"]: {k: v for k, v in r.items() if k != "account"} for r in rows}


def forget_closed(store: Store, open_tickers: AbstractSet[str], now: float | None = None,
                  grace: float = CLOSED_GRACE_S) -> list[str]:
    """Drop the state of positions missing from the broker's answers for longer than `grace`.

    A reopened position starts afresh (see `record_price`); one missing from a single answer
    keeps its high-water mark and stop. Returns the tickers dropped.
    """
    now = time.time() if now is None else now
    with store.transaction():
        stored = {r[0] for r in store.execute("SELECT ticker FROM position_state WHERE account = ?",
                                              (store.account,))}
        for ticker in stored - open_tickers:
            store.execute("UPDATE position_state SET missing_since = ? WHERE account = ? AND ticker = ? "
                          "AND missing_since IS NULL", (now, store.account, ticker))
        gone = [r[0] for r in store.execute(
            "DELETE FROM position_state WHERE account = ? AND missing_since IS NOT NULL AND missing_since <= ? "
            "RETURNING ticker", (store.account, now - grace))]
    return sorted(gone)


def note_breach(store: Store, ticker: str, breached: bool) -> tuple[int, float | None] | None:
    """Whether the price is at or below the stop now: a breach starting counts one more.

    Returns (breach_count, opened_at), or None for a position not stored.
    """
    rows = store.execute(
        "UPDATE position_state SET "
        "breach_count = breach_count + CASE WHEN breached = 0 AND :b = 1 THEN 1 ELSE 0 END, "
        "breached = :b WHERE account = :a AND ticker = :t RETURNING breach_count, opened_at",
        {"b": int(breached), "a": store.account, "t": ticker})
    return (int(rows[0][0]), rows[0][1]) if rows else None


