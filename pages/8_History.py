"""History: equity curve (time-weighted) with drawdown and benchmark, risk over time, closed trades
with their R, dividends, the exports and the UK capital gains per tax year."""

import streamlit as st

from papishares.charts import history as history_figures
from papishares.ui import history_data, page, tax_panel

ctx = page.start("History", ":material/query_stats:", need_snapshot=False, combines=True)
settings = ctx.settings
ccy = ctx.loaded.snapshot.account.currency if ctx.loaded.snapshot else "GBP"

if st.button("Sync history now", key="history_sync", help="Orders, dividends and transactions from the broker"):
    st.toast(history_data.sync_all(ctx.accounts) if ctx.every else history_data.sync_now(settings))
history, err = history_data.load_all(ctx.accounts) if ctx.every else history_data.load(settings)
if err or history is None:
    st.error(err or "No history.")
    st.stop()
for s in history.status:
    if s["note"]:
        st.warning(f"{s['kind']}: {s['note']}")

s = history.summary
a, b, c, d, e = st.columns(5)
a.metric("Closed trades", s["count"])
b.metric("Win rate", "–" if s["win_rate"] is None else f"{s['win_rate'] * 100:.0f}%")
c.metric("Expectancy", "–" if s["expectancy_r"] is None else f"{s['expectancy_r']:+.2f} R")
d.metric("Largest loss", "–" if s["largest_loss_r"] is None else f"{s['largest_loss_r']:.2f} R")
e.metric("Realised P&L", f"{s['total_realised_pnl']:,.2f} {ccy}")

st.subheader("Equity curve")
if history.daily.empty:
    st.info("No daily values yet: every snapshot records the day's account value.")
else:
    symbol = st.text_input("Benchmark (market-data symbol)", settings.benchmark, key="benchmark").strip()
    bench, note = history_data.benchmark(settings, symbol)
    if note:
        st.caption(note)
    st.plotly_chart(history_figures.equity_curve(history.daily, bench, symbol), key="equity_curve")
    st.subheader("Total risk over time")
    st.plotly_chart(history_figures.risk_over_time(history.daily), key="risk_over_time")

st.subheader("Closed trades")
if history.trades.empty:
    st.info("No closed trades in the synced history.")
else:
    st.plotly_chart(history_figures.r_distribution(history.trades), key="r_distribution")
    st.dataframe(history.trades, hide_index=True, key="trades_table")

st.subheader("Dividends")
if history.dividends.empty:
    st.info("No dividends in the synced history.")
else:
    st.plotly_chart(history_figures.monthly_dividends(history.monthly_dividends, ccy), key="dividends_chart")
    st.dataframe(history.dividends, hide_index=True, key="dividends_table")

st.subheader("Exports")
cols = st.columns(5)
for col, (name, body) in zip(cols, history_data.csv_files(history).items(), strict=False):
    col.download_button(name, body, file_name=name, mime="text/csv", key=f"dl_{name}")
xlsx, xerr = ((None, "Pick an account for its Excel workbook.") if ctx.every
              else history_data.data.guarded("The Excel export", history_data.excel, settings))
if xerr:
    cols[4].caption(xerr)
else:
    cols[4].download_button("history.xlsx", xlsx, file_name="history.xlsx", key="dl_xlsx",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader("UK capital gains")
for account in ctx.accounts if ctx.every else (settings,):
    if ctx.every:
        st.markdown(f"**{account.account_name}**")
    tax_panel.show(account, account.account_name if ctx.every else "")
