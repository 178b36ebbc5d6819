"""Home's "Check my setup": `papishares doctor`'s checks on the page, run on request, cached.

The checks spend broker requests (through the service's shared rate budget, mostly answered from
its cache), so they run only when the button is pressed, and one report serves every session for
REPORT_TTL seconds: pressing again within that time costs the broker nothing.
"""

from __future__ import annotations

import logging

import streamlit as st

from papishares.config import Settings
from papishares.doctor import checks as doctor
from papishares.ui import data

log = logging.getLogger(__name__)

REPORT_TTL = 60  # s


@st.cache_data(ttl=REPORT_TTL, show_spinner=False, max_entries=4)
def _report(key: str, _settings: Settings) -> doctor.Report:
    return doctor.run_checks(_settings, data.service(_settings))


def report(settings: Settings) -> tuple[doctor.Report | None, str | None]:
    try:
        return _report(data.settings_key(settings), settings), None
    except Exception as err:  # the checks guard themselves; this is the last net for the page
        log.exception("setup check failed")
        return None, f"The checks could not run ({type(err).__name__}); the dashboard log has the details."


def panel(settings: Settings) -> None:
    with st.expander("Check my setup", icon=":material/fact_check:"):
        st.caption("The same read-only checks as `papishares doctor`: it never sends an order.")
        if st.button("Run the checks", key="setup_check_run"):
            st.session_state["setup_check_shown"] = True
        if not st.session_state.get("setup_check_shown"):
            return
        with st.spinner("Checking..."):
            result, err = report(settings)
        if result is None:
            st.error(err)
            return
        for check in result.checks:
            text = f"**{check.name}**: {check.detail}" + (f" Fix: {check.fix}" if check.fix and not check.ok else "")
            {"pass": st.success, "fail": st.error}.get(check.status, st.info)(text)
        if result.ok:
            st.success("Everything the configuration asks for works.")
