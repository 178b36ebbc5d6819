"""Home: the morning overview - account, total risk, positions near their stops, worker, latest events."""

import streamlit as st

from papishares.charts import figures
from papishares.core.models import Snapshot
from papishares.ui import all_accounts, brokerstops, data, page, setup_check, tables


def one_account(snap: Snapshot) -> None:
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


ctx = page.start("Papishares", ":material/monitoring:", combines=True)
settings = ctx.settings
if ctx.every:
    all_accounts.home(ctx.every)
else:
    one_account(ctx.snapshot)

st.subheader("Worker")
status, err = data.guarded("Reading the worker status", data.worker_status, settings)
w1, w2 = st.columns(2)
if status is None:
    w1.warning(err)
elif status.healthy:
    w1.success(f"Running - heartbeat {data.age_words(status.heartbeat_age)} ago")
elif status.heartbeat_age is None:
    w1.warning("No worker has run on this database yet: alerts and auto-sell need `papishares worker`.")
else:
    w1.error(f"Not running - last heartbeat {data.age_words(status.heartbeat_age)} ago")
if ctx.every:
    with w2:
        all_accounts.autosell_metrics(ctx.accounts)
else:
    autosell, _ = data.guarded("Reading the auto-sell flag", data.autosell_enabled, settings, default=False)
    w2.metric("Auto-sell", "ON" if autosell else "off")
setup_check.panel(settings)

st.subheader("Latest alerts and auto-sell decisions")
events = all_accounts.journal(ctx.accounts) if ctx.every else data.guarded("Reading the journal", data.journal,
                                                                            settings, 10)
tables.show_journal(*events, empty="Nothing yet.")
