"""Risk: per-position risk in account currency, total against the limit, loss if every stop is hit."""

import streamlit as st

from papishares.charts import figures
from papishares.ui import all_accounts, brokerstops, page, tables

ctx = page.start("Risk", ":material/shield:", combines=True)
if ctx.every:
    all_accounts.risk(ctx.every)
    st.stop()
snap = ctx.snapshot
ccy = snap.account.currency

frame = tables.risk_frame(snap)
total_risk, loss_all = frame["Risk"].sum(), frame["Loss if stop hit"].sum()
a, b, c = st.columns(3)
a.metric("Total risk", f"{snap.total_risk_pct:.2f}%", tables.price_text(total_risk, ccy), delta_color="off", delta_arrow="off")
b.metric("Limit (TOTAL_RISK_PERCENTAGE)", f"{snap.total_risk_threshold_pct:g}%")
c.metric("Loss if every stop is hit", tables.price_text(loss_all, ccy), f"{snap.open_risk_pct:.2f}% of account",
         delta_color="off", delta_arrow="off", help="From today's prices down to each effective stop")
st.plotly_chart(figures.risk_bullet(snap.total_risk_pct, snap.total_risk_threshold_pct), key="risk_bullet")

if frame.empty:
    st.info("No open positions.")
    st.stop()

no_stop = frame[frame["No stop"]]
if not no_stop.empty:
    st.error("Without any stop (their whole value counts as risk): " + ", ".join(no_stop["Ticker"]))
st.plotly_chart(figures.risk_bars(frame, ccy), key="risk_bars")
tables.dataframe(frame.style.apply(lambda r: ["background-color: rgba(214,39,40,0.18)" if r["No stop"] else ""]
                                   * len(r), axis=1), column_config=tables.risk_config(ccy))
brokerstops.protection_note(snap)
tables.dataframe(brokerstops.protection_frame(snap))

by_inst, by_ccy = tables.concentration(snap)
left, right = st.columns(2)
left.plotly_chart(figures.share_bars(by_inst, "Instrument", ccy), key="by_instrument")
right.plotly_chart(figures.share_bars(by_ccy, "Currency", ccy), key="by_currency")
