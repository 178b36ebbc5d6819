"""Activity: the journal of alerts and auto-sell decisions, and positions held back from auto-sell."""

import streamlit as st

from papishares.ui import all_accounts, data, page, tables

ctx = page.start("Activity", ":material/history:", need_snapshot=False, combines=True)
settings = ctx.settings
shown = ctx.accounts if ctx.every else (settings,)

st.subheader("Held back from auto-sell")
for account in shown:
    named = f"{account.account_name}: " if ctx.every else ""
    held, err = data.guarded("Reading held positions", data.held_positions, account, default=[])
    if err:
        st.warning(named + err)
    elif not held:
        st.caption(named + "None: every position is in auto-sell's hands (when the flag is on).")
    for row in held:
        left, right = st.columns([4, 1])
        left.warning(f"{named}**{row['ticker']}**: {row['reason'] or 'sale outcome unknown'}")
        key = f"rearm_{account.account_name}_{row['ticker']}" if ctx.every else f"rearm_{row['ticker']}"
        if right.button("Re-arm", key=key, help="Check the broker first: hand this position back to auto-sell"):
            done, err = data.guarded("Re-arming", data.rearm, account, row["ticker"])
            if err:
                st.error(err)
            else:
                st.toast(f"{row['ticker']} re-armed" if done else f"{row['ticker']} was not held")
                st.rerun()

st.subheader("Journal")
kinds = list(dict.fromkeys(k for a in shown
                           for k in data.guarded("Reading the journal", data.journal_kinds, a, default=[])[0]))
kind = st.selectbox("Show", ["all", *kinds], key="journal_kind")
wanted = None if kind == "all" else kind
events = (all_accounts.journal(ctx.accounts, 500, wanted) if ctx.every
          else data.guarded("Reading the journal", data.journal, settings, 500, wanted))
tables.show_journal(*events, empty="Nothing recorded yet.")
