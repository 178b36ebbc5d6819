"""Positions: every position with its stop, distance to it, SMA 17 and MACD markers; a row opens its chart."""

import streamlit as st

from papishares.ui import all_accounts, brokerstops, page, tables

ctx = page.start("Positions", ":material/table_view:", combines=True)
if ctx.every:
    all_accounts.positions(ctx.every)
    st.stop()
snap = ctx.snapshot

if not snap.positions:
    st.info("No open positions.")
    st.stop()

st.caption("Prices in each instrument's quote currency (GBX in pence, 'p'); value and risk in "
           f"{snap.account.currency}. Click a row to open its chart.")
frame = tables.positions_frame(snap)
for p in snap.positions:
    if p.data_note or p.units_note:
        st.warning(f"**{p.short_name}**: {p.stop_loss_note or tables.doubt(p)}")
event = tables.dataframe(
    tables.styled_positions(frame), column_config=tables.positions_config(snap.account.currency),
    on_select="rerun", selection_mode="single-row", key="positions_table",
)
rows = event.selection.rows if event is not None else []
if rows:
    st.session_state["chart_ticker"] = snap.positions[rows[0]].ticker
    st.switch_page("pages/3_Charts.py")

brokerstops.protection_note(snap, ctx.settings)
brokerstops.position_switch(ctx.settings, snap)
st.download_button("Download CSV", tables.positions_csv(snap), file_name="positions.csv", mime="text/csv",
                   icon=":material/download:")
