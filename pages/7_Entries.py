"""Entries: Turtle breakouts (20/55-day) over the index presets, the watchlist and held shares, sized
so that the 2N initial stop risks RISK_PERCENTAGE of the account; one click to the chart."""

import streamlit as st

from papishares.charts import entries as entries_figures
from papishares.ui import data, entries_data, page, tables

ctx = page.start("Entries", ":material/trending_up:", need_snapshot=False)
settings, _ = data.guarded("Reading the risk limits", data.risk_settings, ctx.settings, default=ctx.settings)
fractional = st.toggle("Fractional shares", key="entries_fractional", help="Whole shares unless switched on.")
result, problem = entries_data.load_entries(settings, ctx.loaded.snapshot, fractional)
if result is None:
    st.error(problem)
    st.stop()
for note in result.notes:
    st.caption(f":material/info: {note}")
if result.account is None:
    st.warning("No account value from the broker: candidates are listed without sizing.")

table = result.candidates
f1, f2, f3 = st.columns(3)
sources = f1.multiselect("Index / list", entries_data.index_options(table), key="entries_sources")
system = f2.selectbox("System", entries_data.SYSTEMS, key="entries_system")
held = f3.radio("Held", entries_data.HELD, horizontal=True, key="entries_held")
shown = entries_data.filter_table(table, sources, system, held)
st.caption(f"{len(shown)} of {len(table)} candidates · {len(result.table)} symbols scanned · risk per entry "
           f"{settings.risk_percentage:g}% · total risk now "
           f"{'unknown' if result.total_risk_pct is None else f'{result.total_risk_pct:.2f}%'} "
           f"(limit {settings.total_risk_percentage:g}%) · market data: {result.market_data}")
display = entries_data.display_frame(shown)
event = tables.dataframe(display, key="entries_table", on_select="rerun", selection_mode="single-row",
                         column_config=entries_data.column_config(
                         result.account.currency if result.account else None))

symbols = display["Symbol"].tolist()
rows = event.selection.rows if event else []
if rows and rows[0] < len(symbols):  # a click on a row charts it
    st.session_state["entries_symbol"] = symbols[rows[0]]
if symbols:
    if st.session_state.get("entries_symbol") not in symbols:
        st.session_state["entries_symbol"] = symbols[0]
    symbol = st.selectbox("Chart", symbols, key="entries_symbol")
    bars = entries_data.chart_bars(settings, symbol)
    if bars.empty:
        st.info(f"No price history cached for {symbol}.")
    else:
        st.plotly_chart(entries_figures.breakout_chart(bars, shown.loc[symbol], symbol), key="entries_chart")
else:
    st.info("No candidate passes these filters.")

feed = entries_data.feed(settings)
if feed.configured:
    st.subheader("External feed")
    st.caption(f"{feed.source} · generated {feed.generated_on or 'at an unknown time'}")
    if feed.note:
        st.warning(feed.note)
    if not feed.rows.empty:
        tables.dataframe(feed.rows, key="entries_feed")
