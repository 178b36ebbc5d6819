"""Activity: the journal of alerts and auto-sell decisions, and positions held back from auto-sell."""

import streamlit as st

from papishares.ui import data, page, tables

ctx = page.start("Activity", ":material/history:", need_snapshot=False)
settings = ctx.settings

st.subheader("Held back from auto-sell")
held, err = data.guarded("Reading held positions", data.held_positions, settings, default=[])
if err:
    st.warning(err)
elif not held:
    st.caption("None: every position is in auto-sell's hands (when the flag is on).")
for row in held:
    left, right = st.columns([4, 1])
    left.warning(f"**{row['ticker']}**: {row['reason'] or 'sale outcome unknown'}")
    if right.button("Re-arm", key=f"rearm_{row['ticker']}",
                    help="Check the broker first: hand this position back to auto-sell"):
        done, err = data.guarded("Re-arming", data.rearm, settings, row["ticker"])
        if err:
            st.error(err)
        else:
            st.toast(f"{row['ticker']} re-armed" if done else f"{row['ticker']} was not held")
            st.rerun()

st.subheader("Journal")
kinds, _ = data.guarded("Reading the journal", data.journal_kinds, settings, default=[])
kind = st.selectbox("Show", ["all", *kinds], key="journal_kind")
tables.show_journal(*data.guarded("Reading the journal", data.journal, settings, 500,
                                  None if kind == "all" else kind), empty="Nothing recorded yet.")
