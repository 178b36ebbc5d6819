"""Optional password gate (PAPISHARES_DASHBOARD_PASSWORD), checked in constant time.

A shared password is the simple option for a dashboard on a home server; docs/dashboard.md explains
OIDC through `st.login` as the stronger one. The password itself never reaches the page.
"""

from __future__ import annotations

import hmac

import streamlit as st

from papishares.config import Settings

_OK = "papishares_auth_ok"


def password_matches(entered: str, settings: Settings) -> bool:
    expected = settings.dashboard_password
    if not expected:
        return True
    return hmac.compare_digest(entered.encode("utf-8"), expected.reveal().encode("utf-8"))


def require(settings: Settings) -> None:
    """Stop the page run until the session has given the dashboard password (when one is set)."""
    if not settings.dashboard_password or st.session_state.get(_OK):
        return
    st.title("Papishares")
    with st.form("login"):
        entered = st.text_input("Dashboard password", type="password")
        submitted = st.form_submit_button("Open the dashboard")
    if submitted:
        if password_matches(entered, settings):
            st.session_state[_OK] = True
            st.rerun()
        st.error("Wrong password.")
    st.stop()
