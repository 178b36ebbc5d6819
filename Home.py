"""Home: the morning overview - account, total risk, positions near their stops, worker, latest events."""

import streamlit as st

from papishares.core.models import Snapshot
from papishares.ui import all_accounts, brokerstops, data, overview, page, setup_check, tables


def one_account(snap: Snapshot) -> None:
    acc = snap.account
    overview.money(acc.total_value, acc.cash, acc.unrealised_pnl, len(snap.positions), acc.currency)
    overview.risk_gauge(snap.total_risk_pct, snap.total_risk_threshold_pct)
    overview.stop_counts(*tables.stop_counts(snap), brokerstops.protected_without_worker(snap))


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
