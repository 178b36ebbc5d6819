"""Charts: candlesticks, volume, SMA 17, average/max/stop lines and the MACD panel for one position."""

import streamlit as st

from papishares.charts import figures
from papishares.ui import data, page, tables

ctx = page.start("Charts", ":material/candlestick_chart:")
snap = ctx.snapshot

if not snap.positions:
    st.info("No open positions to chart.")
    st.stop()

tickers = [p.ticker for p in snap.positions]
wanted = st.query_params.get("ticker") or st.session_state.get("chart_ticker")
index = tickers.index(wanted) if wanted in tickers else 0
labels = {p.ticker: f"{p.short_name} - {p.name}" for p in snap.positions}
ticker = st.selectbox("Position", tickers, index=index, format_func=labels.get)
st.session_state["chart_ticker"] = ticker
st.query_params["ticker"] = ticker
p = snap.position(ticker)
assert p is not None

cols = st.columns(5)
cols[0].metric("Price", tables.price_text(p.current_price, p.currency),
               None if p.profit_pct is None else f"{p.profit_pct:+.2f}%")
cols[1].metric("Calculated stop", tables.price_text(p.stop_loss_price, p.currency))
cols[2].metric("Manual stop", tables.price_text(p.manual_stop_loss_price, p.currency))
cols[3].metric("SMA 17", tables.price_text(p.sma_17, p.currency), tables.sma_marker(p), delta_color="off",
               delta_arrow="off")
cols[4].metric("MACD", tables.macd_marker(p))
if p.stop_loss_note:
    st.info(p.stop_loss_note)
if p.market_data_note:
    st.caption(f"No market data: {p.market_data_note}")

bars, note = data.bars_for(ctx.settings, ticker, snap)
if note:
    st.warning(note)
else:
    st.plotly_chart(figures.price_chart(bars, p), key="price_chart")
    st.caption(f"Daily bars from {snap.market_data} for {p.yahoo_symbol}; last completed bar {p.last_bar_date}.")
