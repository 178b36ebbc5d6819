"""Lab: would another stop mode have done better on your trades? And the Turtle entries, backtested."""

import pandas as pd
import streamlit as st

from papishares.charts import lab as lab_figures
from papishares.core.stop_modes import MODES
from papishares.ui import data, lab_data, page

ctx = page.start("Lab", ":material/science:", need_snapshot=False)
settings = ctx.settings
key = data.settings_key(settings)  # one account's results never shown for another

st.subheader("Stop modes on your closed trades")
result = lab_data.exits(settings, key)
trades = result["trades"]
if not trades:
    st.info("No closed trade with a recorded initial stop yet: sync the history on the History page.")
else:
    table = pd.DataFrame(result["modes"] + ([result["actual"]] if result["actual"] else []))
    st.dataframe(table, hide_index=True, key="lab_modes")
    left, right = st.columns(2)
    left.plotly_chart(lab_figures.r_distributions(trades, list(MODES)), key="lab_r")
    right.plotly_chart(lab_figures.mode_equity(trades, list(MODES)), key="lab_equity_modes")
    labels = [f"{t['symbol']} {t['entry_date']}" for t in trades]
    pick = st.selectbox("A trade", range(len(trades)), format_func=lambda i: labels[i], key="lab_trade")
    trade = trades[pick]
    bars, lines = lab_data.trade_lines(settings, key, trade, list(MODES))
    if bars.empty:
        st.warning(f"No bars for {trade['symbol']}.")
    else:
        st.plotly_chart(lab_figures.trade_chart(bars, lines, trade["exits"], trade["entry_date"], trade["entry_price"]),
                        key="lab_trade_chart")
for s in result["skipped"]:
    st.caption(f"Not replayed: {s['symbol']} ({s['entry_date']}): {s['reason']}")

st.subheader("Entries backtest")
c1, c2 = st.columns([3, 1])
symbols = c1.text_input("Symbols (comma-separated; empty: the Entries universe)", "", key="lab_symbols")
mode = c2.selectbox("Exit by", MODES, key="lab_mode")
chosen = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
bt = lab_data.entries(settings, key, chosen, mode)
s = bt["summary"]
a, b, c, d, e, f = st.columns(6)
a.metric("Trades", s["trades"])
b.metric("Win rate", "–" if s["win_rate"] is None else f"{s['win_rate'] * 100:.0f}%")
c.metric("Expectancy", "–" if s["expectancy_r"] is None else f"{s['expectancy_r']:+.2f} R")
d.metric("Return", f"{s['return_pct']:+.1f}%")
e.metric("Max drawdown", f"{s['max_drawdown_pct']:.1f}%")
f.metric("Exposure", f"{s['exposure_pct']:.0f}%")
st.plotly_chart(lab_figures.equity_drawdown(bt["equity"]), key="lab_equity")
st.caption(f"{s['from']} to {s['to']}, starting with {s['capital']:,.0f} {s['currency']}; "
           f"{s['skipped_for_cash']} breakouts skipped for lack of cash.")
for item in bt["symbols_without_bars"]:
    st.caption(f"No bars: {item['symbol']} ({item['reason']})")
