"""Home: the morning overview - account, total risk, positions near their stops, worker, latest events."""

import streamlit as st

from papishares.charts import figures
from papishares.ui import brokerstops, data, page, setup_check, tables

ctx = page.start("Papishares", ":material/monitoring:")
snap, settings = ctx.snapshot, ctx.settings
acc = snap.account

value, cash, pnl, risk = st.columns(4)
value.metric("Account value", tables.price_text(acc.total_value, acc.currency))
cash.metric("Cash", tables.price_text(acc.cash, acc.currency))
pnl.metric("Unrealised P&L", tables.price_text(acc.unrealised_pnl, acc.currency))
risk.metric("Open positions", len(snap.positions))

st.plotly_chart(figures.risk_bullet(snap.total_risk_pct, snap.total_risk_threshold_pct), key="risk_bullet")
if snap.total_risk_pct > snap.total_risk_threshold_pct:
    st.error(f"Total risk {snap.total_risk_pct:.2f}% is above the {snap.total_risk_threshold_pct:g}% limit "
             "(TOTAL_RISK_PERCENTAGE).")

below, near, no_stop = tables.stop_counts(snap)
c1, c2, c3, c4 = st.columns(4)
c1.metric("At or below stop", below)
c2.metric(f"Within {tables.NEAR_STOP_PCT:g}% of stop", near)
c3.metric("Without any stop", no_stop)
c4.metric("Protected without a worker", brokerstops.protected_without_worker(snap),
          help="Stop orders at Trading 212 cover every share: they act while no worker runs")

st.subheader("Worker")
status, err = data.guarded("Reading the worker status", data.worker_status, settings)
autosell, _ = data.guarded("Reading the auto-sell flag", data.autosell_enabled, settings, default=False)
w1, w2 = st.columns(2)
if status is None:
    w1.warning(err)
elif status.healthy:
    w1.success(f"Running - heartbeat {data.age_words(status.heartbeat_age)} ago")
elif status.heartbeat_age is None:
    w1.warning("No worker has run on this database yet: alerts and auto-sell need `papishares worker`.")
else:
    w1.error(f"Not running - last heartbeat {data.age_words(status.heartbeat_age)} ago")
w2.metric("Auto-sell", "ON" if autosell else "off")
setup_check.panel(settings)

st.subheader("Latest alerts and auto-sell decisions")
tables.show_journal(*data.guarded("Reading the journal", data.journal, settings, 10), empty="Nothing yet.")
