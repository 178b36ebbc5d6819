"""The demo account's past year, in Trading 212's history shapes, so every History view shows offline.

Deterministic from the demo's seed and the moment it was seeded: deposits and a withdrawal, closed
round trips in instruments not held now (prices from the simulation at those moments), the opening
buys of the positions held, the demo's own filled orders (auto-sells included), quarterly
dividends of the holdings; plus what Papishares itself would have recorded over that year: each
past trade's initial risk, the journal of the auto-sells among them, and a daily account point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from papishares.broker.t212_history import PAGE_LIMIT, HistoryPage, split_request
from papishares.demo import simulation as sim
from papishares.store import demo as demo_store
from papishares.store import history as history_store
from papishares.store.db import Store
from papishares.store.keys import Key

DAY = 86400.0
SEEDED_KEY = Key.DEMO_HISTORY_SEEDED
SYNTHETIC_IDS = 9_000_000
# (ticker, days before the seeding when bought, days held, GBP to invest, sold by auto-sell)
TRADES = (
    ("BPl_EQ", 350, 21, 1800, False), ("GOOGL_US_EQ", 330, 40, 2200, True), ("TSLA_US_EQ", 300, 9, 1500, True),
    ("HSBAl_EQ", 280, 55, 2000, False), ("ASMLa_EQ", 250, 30, 2400, True), ("AMZN_US_EQ", 220, 62, 2100, False),
    ("VODl_EQ", 200, 14, 1200, True), ("SIEd_EQ", 170, 35, 1900, False), ("SHELl_EQ", 150, 27, 1700, True),
    ("TSLA_US_EQ", 120, 18, 1600, False), ("MCp_EQ", 95, 24, 2000, True), ("GOOGL_US_EQ", 60, 33, 2300, False),
    ("BRK_B_US_EQ", 45, 20, 1000, True), ("ULVRl_EQ", 22, 8, 1200, False),
)
DEPOSITS = ((365, 10_000.0), (270, 3_000.0), (160, 2_500.0))  # (days before the seeding, GBP)
LAST_FLOW_AGO = 10  # days: the last flow, a withdrawal sized so the year ends at the live account's value
DIVIDEND_YIELD = {"AAPL_US_EQ": 0.005, "MSFT_US_EQ": 0.008, "RRl_EQ": 0.01, "LLOYl_EQ": 0.05, "VUSAl_EQ": 0.012,
                  "SAPd_EQ": 0.012}
RISK_SHARE = 0.007  # the default RISK_PERCENTAGE: each past trade risked about this of the account


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _trading_moment(ticker: str, ts: float) -> float:
    """The first moment at or after `ts` when the ticker's market is open (mid-session)."""
    market = sim.market_of(ticker)
    opens = sim.next_open(market, ts) if not sim.is_session_open(market, ts) else ts
    return (opens or ts) + 2 * 3600.0


def _order(order_id: int, ticker: str, side: str, qty: float, price: float, at: float,
           realised: float | None = None) -> dict[str, Any]:
    inst = sim.UNIVERSE[ticker]
    signed = qty if side == "BUY" else -qty
    return {
        "order": {"id": order_id, "ticker": ticker, "side": side, "type": "MARKET", "status": "FILLED",
                  "quantity": signed, "filledQuantity": qty, "currency": inst.currency, "createdAt": _iso(at - 2),
                  "initiatedFrom": "API", "strategy": "QUANTITY",
                  "instrument": {"ticker": ticker, "name": inst.name, "isin": inst.isin, "currency": inst.currency}},
        "fill": {"id": order_id, "filledAt": _iso(at), "price": price, "quantity": signed, "type": "TRADE",
                 "walletImpact": {"currency": sim.ACCOUNT_CURRENCY, "fxRate": inst.fx,
                                  "netValue": round(qty * price * inst.fx, 2),
                                  "realisedProfitLoss": None if realised is None else round(realised, 2),
                                  "taxes": []}},
    }


def _openings(seed: int, anchor: float, book: int | None = None) -> list[dict[str, Any]]:
    """The held positions' opening buys, as the demo broker seeded them (papishares.demo.broker):
    from the universe, not from demo_positions, so a position the demo sells later keeps its buy."""
    out = []
    for inst in sim.held(book):
        opened = anchor - inst.held_weeks * 7 * DAY
        out.append({"ticker": inst.ticker, "qty": float(inst.held_quantity), "opened": opened,
                    "avg": round(sim.price(inst.ticker, opened, seed) * inst.avg_factor, 2)})
    return out


def flows(seed: int, anchor: float, book: int | None = None) -> list[tuple[float, str, float]]:
    """(days before the seeding, DEPOSIT | WITHDRAW, GBP). The last flow closes the gap between the
    year's history and the live account: net deposits + realised + unrealised = its START_VALUE,
    which leaves the history's cash equal to the live cash too (one seam, no jump)."""
    realised = sum(t["pnl"] for t in _past_trades(seed, anchor, book))
    unrealised = sum(o["qty"] * (sim.price(o["ticker"], anchor, seed) - o["avg"]) * sim.UNIVERSE[o["ticker"]].fx
                     for o in _openings(seed, anchor, book))
    gap = round(sum(a for _, a in DEPOSITS) + realised + unrealised - sim.start_value(book), 2)
    last = (LAST_FLOW_AGO, "WITHDRAW", gap) if gap >= 0 else (LAST_FLOW_AGO, "DEPOSIT", -gap)
    return [(ago, "DEPOSIT", amount) for ago, amount in DEPOSITS] + ([last] if abs(gap) >= 0.01 else [])


def _past_trades(seed: int, anchor: float, book: int | None = None) -> list[dict[str, Any]]:
    """The closed round trips; with several demo accounts each book has every other one."""
    out = []
    for n, (ticker, ago, held, budget, auto) in enumerate(TRADES):
        if book is not None and n % 2 != book % 2:
            continue
        inst = sim.UNIVERSE[ticker]
        opened = _trading_moment(ticker, anchor - ago * DAY)
        closed = _trading_moment(ticker, opened + held * DAY)
        entry, exit_ = sim.price(ticker, opened, seed), sim.price(ticker, closed, seed)
        qty = max(1.0, float(int(budget / (entry * inst.fx))))
        out.append({"n": n, "ticker": ticker, "opened": opened, "closed": closed, "entry": entry, "exit": exit_,
                    "qty": qty, "auto": auto, "pnl": qty * (exit_ - entry) * inst.fx,
                    "risk": round(RISK_SHARE * 14_000.0, 2)})
    return out


def items(store: Store, seed: int, book: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every history item of the demo account, newest first per kind."""
    anchor = _anchor(store)
    orders: list[dict[str, Any]] = []
    for t in _past_trades(seed, anchor, book):
        base = SYNTHETIC_IDS + 2 * t["n"]
        orders.append(_order(base, t["ticker"], "BUY", t["qty"], t["entry"], t["opened"]))
        orders.append(_order(base + 1, t["ticker"], "SELL", t["qty"], t["exit"], t["closed"], t["pnl"]))
    for n, o in enumerate(_openings(seed, anchor, book)):
        orders.append(_order(SYNTHETIC_IDS + 1000 + n, o["ticker"], "BUY", o["qty"], o["avg"], o["opened"]))
    for row in demo_store.filled_orders(store):
        qty = float(row["quantity"])
        orders.append(_order(int(row["id"]), row["ticker"], "SELL" if qty < 0 else "BUY", abs(qty),
                             float(row["fill_price"]), float(row["filled_at"])))
    dividends = []
    holdings = {i.ticker: i for i in sim.held(book)}
    for ticker, yearly in DIVIDEND_YIELD.items():
        if ticker not in holdings:
            continue  # held by another of the demo accounts
        inst = holdings[ticker]
        for q in range(4):
            paid = anchor - (20 + 91 * q + len(ticker)) * DAY
            if paid < anchor - inst.held_weeks * 7 * DAY:
                continue  # paid only on shares held at the time
            per_share = round(sim.price(ticker, paid, seed) * yearly / 4, 4)
            amount = round(per_share * inst.held_quantity * inst.fx * 0.85, 2)  # after 15% withholding
            dividends.append({"reference": f"DEMO-DIV-{ticker}-{q}", "ticker": ticker, "amount": amount,
                              "currency": sim.ACCOUNT_CURRENCY, "tickerCurrency": inst.currency,
                              "grossAmountPerShare": per_share, "quantity": inst.held_quantity,
                              "paidOn": _iso(paid), "type": "ORDINARY",
                              "instrument": {"ticker": ticker, "name": inst.name, "currency": inst.currency}})
    transactions = [{"reference": f"DEMO-TX-{n}", "type": kind, "amount": amount, "currency": sim.ACCOUNT_CURRENCY,
                     "dateTime": _iso(anchor - ago * DAY)} for n, (ago, kind, amount) in enumerate(flows(seed, anchor, book))]
    out = {"orders": orders, "dividends": dividends, "transactions": transactions}
    return {k: sorted(v, key=partial(_when, k), reverse=True) for k, v in out.items()}


def _when(kind: str, item: dict[str, Any]) -> str:
    return {"orders": lambda x: x["fill"]["filledAt"], "dividends": lambda x: x["paidOn"],
            "transactions": lambda x: x["dateTime"]}[kind](item)


def _anchor(store: Store) -> float:
    seeded = demo_store.get(store, demo_store.SEEDED_AT)
    return float(seeded) if seeded is not None else datetime.now(UTC).timestamp()


def page(store: Store, seed: int, kind: str, path: str, book: int | None = None) -> HistoryPage:
    """One page of 50 by offset cursor (the demo has no rate limit and no paging bugs)."""
    seed_records(store, seed, book)
    _, params = split_request(path)
    start = int(params.get("cursor") or 0)
    all_items = items(store, seed, book)[kind]
    chunk = all_items[start:start + PAGE_LIMIT]
    nxt = start + PAGE_LIMIT
    return HistoryPage(chunk, f"/equity/history/{kind}?limit={PAGE_LIMIT}&cursor={nxt}" if nxt < len(all_items)
                       else None)


def seed_records(store: Store, seed: int, book: int | None = None) -> None:
    """Once per demo account: past initial risks, the journal of past auto-sells, daily points."""
    anchor = _anchor(store)
    if store.get(SEEDED_KEY) == repr(anchor):
        return
    trades = _past_trades(seed, anchor, book)
    with store.transaction():
        for t in trades:
            history_store.add_initial_risks(store, [(
                t["ticker"], t["opened"], t["opened"], t["entry"],
                t["entry"] - t["risk"] / t["qty"] / sim.UNIVERSE[t["ticker"]].fx, t["qty"],
                sim.UNIVERSE[t["ticker"]].fx, t["risk"], sim.ACCOUNT_CURRENCY)])
            if t["auto"]:
                store.journal("autosell", t["ticker"], "sold", f"Sold {t['qty']:g} at market (demo history).",
                              {"order_id": SYNTHETIC_IDS + 2 * t["n"] + 1}, at=t["closed"] - 1)
        _daily_points(store, trades, anchor, seed, book)
        store.set(SEEDED_KEY, repr(anchor), at=anchor)


def _daily_points(store: Store, trades: list[dict[str, Any]], anchor: float, seed: int,
                  book: int | None = None) -> None:
    """A year of end-of-day values before the demo began: deposits + realised + the value change of
    open trades and of the positions held since their opening; risk is RISK_SHARE per open line. Days the snapshots recorded are never overwritten."""
    start = datetime.fromtimestamp(anchor - 365 * DAY, UTC).date()
    end = datetime.fromtimestamp(anchor, UTC).date()
    money, held = flows(seed, anchor, book), _openings(seed, anchor, book)
    day = start
    rows = []
    while day < end:
        ts = datetime(day.year, day.month, day.day, 21, tzinfo=UTC).timestamp()
        deposits = sum(a if k == "DEPOSIT" else -a for ago, k, a in money
                       if datetime.fromtimestamp(anchor - ago * DAY, UTC).date() <= day)
        realised = sum(t["pnl"] for t in trades if t["closed"] <= ts)
        open_ = [(t["ticker"], t["qty"], t["entry"]) for t in trades if t["opened"] <= ts < t["closed"]]
        open_ += [(o["ticker"], o["qty"], o["avg"]) for o in held if o["opened"] <= ts]
        invested = sum(q * sim.price(t, ts, seed) * sim.UNIVERSE[t].fx for t, q, _ in open_)
        cost = sum(q * entry * sim.UNIVERSE[t].fx for t, q, entry in open_)
        value = deposits + realised + invested - cost
        if deposits > 0:
            rows.append((day.isoformat(), round(value, 2), round(value - invested, 2), round(invested, 2),
                         round(100 * RISK_SHARE * 14_000.0 * len(open_) / value, 3), 7.0, sim.ACCOUNT_CURRENCY, ts))
        day += timedelta(days=1)
    history_store.add_days(store, rows, "demo")
