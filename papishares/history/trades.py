"""Closed round trips from fills (pure): FIFO per ticker, R-multiples, exit reasons, the summary.

A trade opens when a ticker's position goes from flat to long and closes when it is flat again;
a position bought back after that starts a new trade. Realised P&L is in the account currency:
the broker's `realisedProfitLoss` of the sells when every sell carries one, else FIFO cost basis
(each fill's account-currency value: its `netValue`, or quantity x price x fx).

>>> fills = [Fill("1", "X", 0.0, "BUY", 10, 100.0, "GBP", 1000.0), Fill("2", "X", 86400.0, "SELL", 10, 110.0, "GBP", 1100.0)]
>>> t = round_trips(fills)[0]
>>> (t.entry_price, t.exit_price, t.realised_pnl, t.holding_seconds)
(100.0, 110.0, 100.0, 86400.0)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

EPS = 1e-9
AUTOSELL, BROKER_STOP, MANUAL = "auto-sell", "broker stop", "manual"
MATCH_BEFORE_S = 2 * 86400.0  # a journalled sale up to this long before the fill (queued while closed)
MATCH_AFTER_S = 3600.0  # ... or this long after it (the journal is written when the answer came)


@dataclass(frozen=True)
class Fill:
    order_id: str
    ticker: str
    at: float  # unix seconds
    side: str  # BUY / SELL
    quantity: float  # positive
    price: float  # instrument currency
    currency: str | None
    value: float | None = None  # account currency, positive (None: unknown)
    realised_pnl: float | None = None  # the broker's, on sells


@dataclass(frozen=True)
class Trade:
    ticker: str
    opened_at: float
    closed_at: float
    quantity: float
    entry_price: float
    exit_price: float
    realised_pnl: float | None
    currency: str | None
    initial_risk: float | None = None
    r_multiple: float | None = None
    exit_reason: str = MANUAL
    exit_order_id: str | None = None
    fills: int = 0

    @property
    def holding_seconds(self) -> float:
        return self.closed_at - self.opened_at

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["opened_at"] = _iso(self.opened_at)
        out["closed_at"] = _iso(self.closed_at)
        out["holding_days"] = round(self.holding_seconds / 86400, 2)
        return out


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fills_from_rows(rows: Iterable[dict[str, Any]]) -> list[Fill]:
    """hist_orders rows -> fills (filled ones only, with a ticker, quantity, price and time)."""
    out = []
    for r in rows:
        qty = r.get("filled_quantity") or 0.0
        if not r.get("ticker") or not r.get("filled_at") or qty <= EPS or not r.get("price"):
            continue
        status = (r.get("status") or "FILLED").upper()
        if status in ("CANCELLED", "REJECTED") and qty <= EPS:
            continue
        value = r.get("net_value")
        if value is None and r.get("fx_rate"):
            value = qty * r["price"] * r["fx_rate"]
        out.append(Fill(str(r["id"]), r["ticker"], float(r["filled_at"]), (r.get("side") or "BUY").upper(),
                        float(qty), float(r["price"]), r.get("currency"),
                        None if value is None else abs(float(value)), r.get("realised_pnl")))
    return out


def split_adjusted(fills: Sequence[Fill], splits: Iterable[tuple[str, float, float]]) -> list[Fill]:
    """Fills before a stock split put in the split's scale: quantity / factor, price x factor, the
    account-currency value unchanged. `splits`: (ticker, when Papishares saw it, factor = new average
    / old average, as journalled by the store). The order history holds no split, so without this a
    4:1 split would leave a sale of 1,600 shares against a buy of 400.

    >>> buy = Fill("1", "X", 0.0, "BUY", 400, 420.0, "GBP", 1680.0)
    >>> f = split_adjusted([buy], [("X", 10.0, 0.25)])[0]
    >>> (f.quantity, f.price, f.value)
    (1600.0, 105.0, 1680.0)
    """
    out = []
    for f in fills:
        for ticker, at, factor in splits:
            if f.ticker == ticker and f.at < at and factor > 0:
                f = replace(f, quantity=f.quantity / factor, price=f.price * factor)
        out.append(f)
    return out


def round_trips(fills: Sequence[Fill]) -> list[Trade]:
    """Closed trades, oldest close first. Sells beyond what is held (history before the first buy
    synced) are ignored; an open remainder is not a trade."""
    by_ticker: dict[str, list[Fill]] = {}
    for f in sorted(fills, key=lambda f: (f.at, f.order_id)):
        by_ticker.setdefault(f.ticker, []).append(f)
    trades = []
    for ticker, seq in by_ticker.items():
        trades.extend(_ticker_trades(ticker, seq))
    return sorted(trades, key=lambda t: (t.closed_at, t.ticker))


def _ticker_trades(ticker: str, seq: list[Fill]) -> list[Trade]:
    out: list[Trade] = []
    lots: deque[list[float]] = deque()  # [quantity left, account value per share]
    held = 0.0
    buys: list[Fill] = []
    sells: list[Fill] = []
    fifo_pnl = 0.0
    fifo_known = True
    for f in seq:
        if f.side == "BUY":
            if held <= EPS:
                buys, sells, fifo_pnl, fifo_known = [], [], 0.0, True
            buys.append(f)
            per_share = None if f.value is None else f.value / f.quantity
            if per_share is None:
                fifo_known = False
            lots.append([f.quantity, per_share or 0.0])
            held += f.quantity
            continue
        if held <= EPS:
            continue  # a sell of shares bought before the synced history began
        qty = min(f.quantity, held)
        sells.append(replace(f, quantity=qty) if qty < f.quantity else f)
        proceeds = None if f.value is None else f.value / f.quantity * qty
        if proceeds is None:
            fifo_known = False
        cost, left = 0.0, qty
        while left > EPS and lots:
            lot = lots[0]
            take = min(lot[0], left)
            cost += take * lot[1]
            lot[0] -= take
            left -= take
            if lot[0] <= EPS:
                lots.popleft()
        fifo_pnl += (proceeds or 0.0) - cost
        held -= qty
        if held <= EPS:
            held = 0.0
            lots.clear()
            out.append(_trade(ticker, buys, sells, fifo_pnl if fifo_known else None))
    return out


def _avg(fills: Sequence[Fill]) -> float:
    qty = sum(f.quantity for f in fills)
    return sum(f.price * f.quantity for f in fills) / qty if qty > EPS else 0.0


def _trade(ticker: str, buys: list[Fill], sells: list[Fill], fifo_pnl: float | None) -> Trade:
    broker = [s.realised_pnl for s in sells]
    pnl = sum(broker) if all(p is not None for p in broker) else fifo_pnl  # type: ignore[arg-type]
    return Trade(
        ticker=ticker, opened_at=buys[0].at, closed_at=sells[-1].at,
        quantity=round(sum(b.quantity for b in buys), 8), entry_price=round(_avg(buys), 6),
        exit_price=round(_avg(sells), 6), realised_pnl=None if pnl is None else round(pnl, 2),
        currency=buys[0].currency, exit_order_id=sells[-1].order_id, fills=len(buys) + len(sells))


# -- joins with what Papishares recorded --------------------------------------------------------
def with_risk(trades: Sequence[Trade], risks: Sequence[dict[str, Any]]) -> list[Trade]:
    """Each trade's initial risk: the record of its ticker first seen while the trade was open
    (opened_at within [trade open - 2 days, trade close]); R = realised P&L / that risk."""
    by_ticker: dict[str, list[dict[str, Any]]] = {}
    for r in risks:
        by_ticker.setdefault(r["ticker"], []).append(r)
    out = []
    for t in trades:
        candidates = [r for r in by_ticker.get(t.ticker, [])
                      if t.opened_at - MATCH_BEFORE_S <= float(r["opened_at"]) <= t.closed_at
                      and r.get("risk") is not None and float(r["risk"]) > EPS]
        if not candidates:
            out.append(t)
            continue
        best = min(candidates, key=lambda r: abs(float(r["opened_at"]) - t.opened_at))
        risk = round(float(best["risk"]), 2)
        r_mult = None if t.realised_pnl is None else round(t.realised_pnl / risk, 3)
        out.append(replace(t, initial_risk=risk, r_multiple=r_mult))
    return out


def with_exit_reasons(trades: Sequence[Trade], journal: Sequence[dict[str, Any]]) -> list[Trade]:
    """auto-sell (journal kind 'autosell', action 'sold' or a reconciled sale), broker stop (kind
    'brokerstop', action 'filled'), else manual. Matched by the exit order id when the journal
    names it, else loosely by ticker and time."""
    sales = []
    for j in journal:
        kind, action = j.get("kind"), j.get("action")
        data = j.get("data") or {}
        if kind == "autosell" and (action == "sold" or (action == "reconciled" and data.get("status") in
                                                        ("filled", "placed"))):
            sales.append((AUTOSELL, j, data))
        elif kind == "brokerstop" and action == "filled":
            sales.append((BROKER_STOP, j, data))
    out = []
    for t in trades:
        reason = MANUAL
        by_id = [s for s in sales if t.exit_order_id is not None and str(s[2].get("order_id")) == t.exit_order_id]
        near = [s for s in sales if s[1].get("ticker") == t.ticker
                and t.closed_at - MATCH_BEFORE_S <= float(s[1]["ts"]) <= t.closed_at + MATCH_AFTER_S]
        match = by_id or near
        if match:
            reason = min(match, key=lambda s: abs(float(s[1]["ts"]) - t.closed_at))[0]
        out.append(replace(t, exit_reason=reason))
    return out


# -- the summary --------------------------------------------------------------------------------
def summary(trades: Sequence[Trade]) -> dict[str, Any]:
    """count, win_rate (0..1), average win / loss (account currency), expectancy in R (mean R of
    the trades that have one), largest loss in R, total realised P&L."""
    pnls = [t.realised_pnl for t in trades if t.realised_pnl is not None]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    rs = [t.r_multiple for t in trades if t.r_multiple is not None]
    loss_rs = [r for r in rs if r < 0]
    return {
        "count": len(trades),
        "win_rate": round(len(wins) / len(pnls), 4) if pnls else None,
        "average_win": round(sum(wins) / len(wins), 2) if wins else None,
        "average_loss": round(sum(losses) / len(losses), 2) if losses else None,
        "expectancy_r": round(sum(rs) / len(rs), 3) if rs else None,
        "largest_loss_r": round(min(loss_rs), 3) if loss_rs else None,
        "trades_with_r": len(rs),
        "total_realised_pnl": round(sum(pnls), 2),
    }
