""""All accounts": one book out of each account's snapshot and daily history, as pure functions.

Amounts are in the first account's currency (INTERFACE.md, "Several accounts"), added by
`papishares.snapshot.combined` as the CLI adds them. An account in another currency counts only when a
rate to the first currency is known; otherwise it is left out and named, never added as if the
currencies were the same. Total risk combines the risk amounts, not the percentages: Σ risk / Σ value,
so a small account at 9% does not outweigh a large one at 1%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from papishares.core.models import Snapshot
from papishares.history import equity
from papishares.snapshot.combined import combine as book_totals


@dataclass(frozen=True)
class AccountTotals:
    """One account's line in the combined view (its own currency)."""

    name: str
    currency: str
    total_value: float
    cash: float
    unrealised_pnl: float
    total_risk_pct: float
    positions: int
    stale: bool


@dataclass(frozen=True)
class Combined:
    currency: str
    total_value: float
    cash: float
    unrealised_pnl: float
    total_risk_pct: float
    threshold_pct: float
    positions: int
    accounts: tuple[AccountTotals, ...]
    missing: tuple[str, ...] = ()  # accounts without any snapshot yet, or in a currency with no rate
    stale: bool = False  # any account's numbers are from its last good snapshot

    @property
    def risk_amount(self) -> float:
        return self.total_risk_pct / 100 * self.total_value


def account_totals(name: str, snap: Snapshot, problem: str | None = None) -> AccountTotals:
    acc = snap.account
    return AccountTotals(name, acc.currency, acc.total_value, acc.cash, acc.unrealised_pnl or 0.0,
                         snap.total_risk_pct, len(snap.positions), bool(snap.stale or problem))


def rate(currency: str, base: str, rates: Mapping[str, float]) -> float | None:
    """How many `base` one unit of `currency` is worth: 1 for the same currency, else from `rates`."""
    if currency == base:
        return 1.0
    r = rates.get(currency)
    return r if r is not None and r > 0 else None


def combine(lines: Sequence[tuple[str, Snapshot | None, str | None]], threshold_pct: float,
            rates: Mapping[str, float] | None = None) -> Combined:
    """(account name, snapshot or None, problem) per account, in the configured order -> one book.
    Value, cash and total risk are `papishares.snapshot.combined`'s (the CLI's numbers)."""
    rates = rates or {}
    present = [(account_totals(n, s, p), s) for n, s, p in lines if s is not None]
    missing = [n for n, s, _ in lines if s is None]
    base = present[0][0].currency if present else ""
    counted = [(t, s) for t, s in present if rate(t.currency, base, rates) is not None]
    missing += [t.name for t, _ in present if rate(t.currency, base, rates) is None]
    if not counted:
        return Combined(base, 0.0, 0.0, 0.0, 0.0, threshold_pct, 0, tuple(t for t, _ in present), tuple(missing))
    book = book_totals([s for _, s in counted], {c: r for c, r in rates.items() if r > 0})
    pnl = sum(t.unrealised_pnl * (rate(t.currency, base, rates) or 0.0) for t, _ in counted)
    return Combined(base, book.total_value, book.cash, pnl, book.total_risk_pct, threshold_pct,
                    sum(t.positions for t, _ in counted), tuple(t for t, _ in present), tuple(missing),
                    any(t.stale for t, _ in counted))


def accounts_frame(combined: Combined) -> pd.DataFrame:
    """One row per account (its own currency), for the table under the combined totals."""
    rows = [{"Account": t.name, "Currency": t.currency, "Value": t.total_value, "Cash": t.cash,
             "Unrealised P&L": t.unrealised_pnl, "Total risk %": t.total_risk_pct, "Positions": t.positions,
             "Stale": t.stale} for t in combined.accounts]
    return pd.DataFrame(rows, columns=["Account", "Currency", "Value", "Cash", "Unrealised P&L", "Total risk %",
                                       "Positions", "Stale"])


DAILY_COLUMNS = ["date", "total_value", "cash", "invested", "total_risk_pct", "threshold_pct", "currency"]


def combined_daily(frames: Sequence[pd.DataFrame], flows: Sequence[pd.Series]) -> pd.DataFrame:
    """The equity curve of the whole book from each account's daily frame (`history.book.daily_frame`
    shape, same currency) and its daily external flows: values summed per day, an account's last known
    value carried over days it has no point for (it was not looked at, not emptied), the risk weighted
    by value, the time-weighted index over the summed flows (an account joining later is a flow)."""
    used = [f for f in frames if not f.empty]
    if not used:
        out = pd.DataFrame(columns=DAILY_COLUMNS)
        out.index = pd.DatetimeIndex([])
        out["flow"] = out["twr"] = out["drawdown"] = pd.Series(dtype=float)
        return out
    days = sorted(set().union(*(set(f.index) for f in used)))
    index = pd.DatetimeIndex(days)
    total = cash = invested = risk = pd.Series(0.0, index=index)
    joined = pd.Series(0.0, index=index)
    for f in used:
        first = f.index.min()
        started = index >= first  # an account adds nothing before its first point
        if first > index[0]:  # joining the book later: its value arrives like a deposit, not a gain
            joined[first] += float(f.loc[first, "total_value"] if f.index.is_unique else f["total_value"].iloc[0])
        fill = f.reindex(index).ffill()
        total = total + fill["total_value"].fillna(0.0).where(started, 0.0)
        cash = cash + fill["cash"].fillna(0.0).where(started, 0.0)
        invested = invested + pd.to_numeric(fill["invested"], errors="coerce").fillna(0.0).where(started, 0.0)
        risk = risk + (fill["total_risk_pct"].fillna(0.0) * fill["total_value"].fillna(0.0) / 100).where(started, 0.0)
    out = pd.DataFrame({
        "date": [d.strftime("%Y-%m-%d") for d in index],
        "total_value": total, "cash": cash, "invested": invested,
        "total_risk_pct": (risk / total.where(total > 0)) * 100,
        "threshold_pct": used[0]["threshold_pct"].reindex(index).ffill().bfill(),
        "currency": used[0]["currency"].iloc[0],
    }, index=index)
    flow = joined.copy()
    for fl in flows:
        if not fl.empty:
            flow = flow.add(fl.reindex(index, fill_value=0.0), fill_value=0.0)
    twr = equity.twr_index(out["total_value"], flow)
    out["flow"] = flow
    out["twr"] = twr
    out["drawdown"] = equity.drawdown(twr)
    return out
