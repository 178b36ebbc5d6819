"""Orders: the pending orders at the broker (manual stops included), prices in quote currency."""

import streamlit as st

from papishares.ui import all_accounts, data, page, tables

ctx = page.start("Orders", ":material/receipt_long:", combines=True)
if ctx.every:
    frame = all_accounts.orders_frame(ctx.every)
else:
    snap = ctx.snapshot
    frame = tables.orders_frame(snap.orders, data.quote_currencies(ctx.settings, snap),
                                data.papishares_orders(ctx.settings))
if frame.empty:
    st.info("No pending orders.")
    st.stop()

stops = frame[(frame["Side"] == "SELL") & frame["Type"].isin(["STOP", "STOP_LIMIT"])]
a, b, c, d = st.columns(4)
a.metric("Pending orders", len(frame))
b.metric("Your sell stops", int((stops[tables.MANAGED] == "no").sum()),
         help="They set the manual stop shown on the Positions page")
c.metric("Stops kept by Papishares", int((stops[tables.MANAGED] == "yes").sum()),
         help="PAPISHARES_BROKER_STOPS: the worker places, moves and cancels these")
d.metric("Buy orders", int((frame["Side"] == "BUY").sum()))

st.caption("Limit and stop prices in the instrument's quote currency (GBX in pence, 'p'). \"Managed by "
           "Papishares\": yes for the orders the worker sent and keeps (its stops at the broker), no for your own. "
           "The dashboard only reads these orders; place, change or cancel yours at the broker.")
tables.dataframe(frame, column_config={"Qty": st.column_config.NumberColumn(format="%.4g"),
                                      "Filled": st.column_config.NumberColumn(format="%.4g")})
