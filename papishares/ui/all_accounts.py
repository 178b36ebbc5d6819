"""The pages' "All accounts" views: Home and Risk over the whole book (History's is in history_data).

Amounts are added in the first account's currency (`combined.py` says which accounts could not be);
every table names the account of each row, since one ticker may be held in two accounts.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from papishares.charts import figures
from papishares.config import Settings
from papishares.ui import accounts, brokerstops, data, overview, tables
from papishares.ui.combined import accounts_frame
from papishares.ui.data import AllLoaded

RISK_COLUMNS = ["Account", "Ticker", "Risk", "Risk (quote)", "Loss if stop hit", "% of all accounts", "Stop",
                "No stop", "Note"]


def _counted(every: AllLoaded) -> list[tuple[str, data.Loaded]]:
    """The accounts in the totals (with a snapshot, in a currency that could be added)."""
    return [(n, lo) for n, lo in every.lines() if lo.snapshot is not None and n not in every.combined.missing]


def risk_gauge(every: AllLoaded) -> None:
    c = every.combined
    overview.risk_gauge(c.total_risk_pct, c.threshold_pct, " of all accounts")


def home(every: AllLoaded) -> None:
    c = every.combined
    overview.money(c.total_value, c.cash, c.unrealised_pnl, c.positions, c.currency, "Value of all accounts")
    risk_gauge(every)
    tables.dataframe(accounts_frame(c), column_config={
        "Value": st.column_config.NumberColumn(format="%.2f"), "Cash": st.column_config.NumberColumn(format="%.2f"),
        "Unrealised P&L": st.column_config.NumberColumn(format="%.2f"),
        "Total risk %": st.column_config.NumberColumn(format="%.2f%%")})

    below = near = no_stop = protected = 0
    for _, lo in _counted(every):
        assert lo.snapshot is not None
        b, n, s = tables.stop_counts(lo.snapshot)
        below, near, no_stop = below + b, near + n, no_stop + s
        protected += brokerstops.protected_without_worker(lo.snapshot)
    overview.stop_counts(below, near, no_stop, protected)


def autosell_metrics(every: tuple[Settings, ...]) -> None:
    cols = st.columns(len(every))
    for col, a in zip(cols, every, strict=True):
        on, err = data.guarded("Reading the auto-sell flag", data.autosell_enabled, a, default=False)
        col.metric(f"Auto-sell {a.account_name}", "?" if err else ("ON" if on else "off"), help=err)


def journal(every: tuple[Settings, ...], limit: int = 10,
            kind: str | None = None) -> tuple[pd.DataFrame | None, str | None]:
    """The newest journal entries of every account, each named by its account."""
    frames = []
    for a in every:
        frame, err = data.guarded("Reading the journal", data.journal, a, limit, kind)
        if err:
            return None, err
        frames.append(frame.assign(account=a.account_name))
    merged = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if merged.empty:
        return merged, None
    merged = merged.sort_values("ts", ascending=False, ignore_index=True).head(limit)
    merged["ticker"] = merged["account"] + " · " + merged["ticker"].fillna("")
    return merged, None


def risk_frame(every: AllLoaded) -> pd.DataFrame:
    """Each account's risk rows with its name (only accounts in the combined currency are counted), the
    share taken of all accounts' value."""
    frames = []
    total = every.combined.total_value
    for name, lo in _counted(every):
        assert lo.snapshot is not None
        if lo.snapshot.account.currency != every.combined.currency:
            continue  # its amounts are in another currency: added here they would be wrong
        frame = tables.risk_frame(lo.snapshot)
        frame = frame.drop(columns="% of account")
        frame["% of all accounts"] = frame["Risk"] / total * 100 if total else 0.0
        frames.append(frame.assign(Account=name))
    if not frames:
        return pd.DataFrame(columns=RISK_COLUMNS)
    out = pd.concat(frames, ignore_index=True).sort_values("Risk", ascending=False, ignore_index=True)
    return out[RISK_COLUMNS]


def risk(every: AllLoaded) -> None:
    c = every.combined
    frame = risk_frame(every)
    loss_all = frame["Loss if stop hit"].sum()
    a, b, d = st.columns(3)
    a.metric("Total risk (all accounts)", f"{c.total_risk_pct:.2f}%", tables.price_text(c.risk_amount, c.currency),
             delta_color="off", delta_arrow="off")
    b.metric("Limit (TOTAL_RISK_PERCENTAGE)", f"{c.threshold_pct:g}%")
    d.metric("Loss if every stop is hit", tables.price_text(loss_all, c.currency),
             f"{loss_all / c.total_value * 100 if c.total_value else 0.0:.2f}% of all accounts",
             delta_color="off", delta_arrow="off", help="From today's prices down to each effective stop")
    risk_gauge(every)
    if frame.empty:
        st.info("No open positions.")
        return
    no_stop = frame[frame["No stop"]]
    if not no_stop.empty:
        st.error("Without any stop (their whole value counts as risk): "
                 + ", ".join(f"{r.Ticker} ({r.Account})" for r in no_stop.itertuples()))
    st.plotly_chart(figures.risk_bars(frame.assign(Ticker=frame["Ticker"] + " · " + frame["Account"]), c.currency),
                    key="risk_bars")
    tables.dataframe(frame, column_config={**tables.risk_config(c.currency),
                                           "% of all accounts": st.column_config.NumberColumn(format="%.2f%%")})


def positions(every: AllLoaded) -> None:
    """Every account's positions, each row naming its account; a row opens its chart in that account."""
    parts = [(name, lo.snapshot) for name, lo in every.lines() if lo.snapshot is not None]
    held = [(name, p.ticker) for name, snap in parts for p in snap.positions]
    if not held:
        st.info("No open positions.")
        return
    st.caption("Prices in each instrument's quote currency (GBX in pence, 'p'); value and risk in each "
               "account's currency. Click a row to open its chart.")
    frame = pd.concat([tables.positions_frame(snap).assign(Account=name) for name, snap in parts], ignore_index=True)
    frame = frame[["Account", *[c for c in frame.columns if c != "Account"]]]
    event = tables.dataframe(tables.styled_positions(frame), column_config=tables.positions_config(
        every.combined.currency or parts[0][1].account.currency), on_select="rerun", selection_mode="single-row",
        key="positions_table")
    rows = event.selection.rows if event is not None else []
    if rows:
        name, ticker = held[rows[0]]
        accounts.show(name)  # the chart is one account's: its stops, its manual orders
        st.session_state["chart_ticker"] = ticker
        st.switch_page("pages/3_Charts.py")
    csv = pd.DataFrame([{"account_name": name, **p.to_json()} for name, snap in parts for p in snap.positions])
    st.download_button("Download CSV", csv.to_csv(index=False).encode(), file_name="positions.csv", mime="text/csv",
                       icon=":material/download:")


def orders_frame(every: AllLoaded) -> pd.DataFrame:
    """Every account's pending orders, each row naming its account (first column)."""
    frames = [tables.orders_frame(lo.snapshot.orders, data.quote_currencies(a, lo.snapshot), data.papishares_orders(a))
              .assign(Account=a.account_name)
              for a, lo in zip(every.accounts, every.loaded, strict=True) if lo.snapshot is not None]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out[["Account", *[c for c in out.columns if c != "Account"]]]
