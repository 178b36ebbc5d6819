"""The sidebar every page shows: environment badge, auto-sell toggle, data time, refresh controls.

Pages get it through `papishares.ui.page.start(...)`; a page that builds its own frame can call
`render(settings, loaded)` directly (`loaded` may be None when the page needs no snapshot).
"""

from __future__ import annotations

import streamlit as st
from streamlit_autorefresh import st_autorefresh

from papishares.config import Settings
from papishares.ui import data
from papishares.ui.data import Loaded

BADGES = {  # environment -> (label, colour, explanation)
    "demo-sim": ("DEMO", "blue", "Built-in simulated account: nothing reaches Trading 212."),
    "t212-demo": ("PAPER", "orange", "Trading 212 paper-trading account (demo.trading212.com)."),
    "t212-live": ("LIVE", "red", "Trading 212 live account: real money."),
}
TOGGLE_KEY = "autosell_toggle"
SYNCED_KEY = "_autosell_synced"  # the flag value the toggle last showed, to follow outside changes
CONFIRM_KEY = "_autosell_confirm_live"


def environment_badge(settings: Settings) -> None:
    label, colour, explanation = BADGES.get(settings.environment, (settings.environment, "gray", ""))
    st.badge(label, color=colour, help=explanation)  # type: ignore[arg-type]


def _on_toggle(settings: Settings) -> None:
    wanted = bool(st.session_state[TOGGLE_KEY])
    if wanted and settings.is_live:
        # Real money: the flag is written only after an explicit confirmation below.
        st.session_state[TOGGLE_KEY] = False
        st.session_state[CONFIRM_KEY] = True
        return
    _, err = data.guarded("Switching auto-sell", data.set_autosell, settings, wanted)
    if err:
        st.session_state["_autosell_error"] = err
    st.session_state.pop(SYNCED_KEY, None)


def _confirm_live(settings: Settings) -> None:
    allowed = settings.allow_live_orders
    st.warning(
        "Switch auto-sell ON for the LIVE account? The worker will sell a whole position at market "
        "when its price falls to the calculated stop while the exchange is open. "
        + ("PAPISHARES_ALLOW_LIVE_ORDERS=true: orders WILL be sent."
           if allowed else
           "PAPISHARES_ALLOW_LIVE_ORDERS is not true, so the worker only journals and alerts "
           "'would sell' until you set it to true and restart the worker."),
        icon=":material/warning:",
    )
    yes, no = st.columns(2)
    if yes.button("Yes, switch on", type="primary", key="autosell_confirm_yes"):
        _, err = data.guarded("Switching auto-sell", data.set_autosell, settings, True)
        st.session_state.pop(CONFIRM_KEY, None)
        st.session_state.pop(SYNCED_KEY, None)
        if err:
            st.error(err)
        else:
            st.rerun()
    if no.button("Cancel", key="autosell_confirm_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


def autosell_toggle(settings: Settings) -> None:
    enabled, err = data.guarded("Reading the auto-sell flag", data.autosell_enabled, settings, default=False)
    # Follow the database (the CLI or another tab may have changed it) unless the user just acted.
    if TOGGLE_KEY not in st.session_state or st.session_state.get(SYNCED_KEY) != enabled:
        st.session_state[TOGGLE_KEY] = enabled
        st.session_state[SYNCED_KEY] = enabled
    st.toggle("Auto-sell", key=TOGGLE_KEY, on_change=_on_toggle, args=(settings,), disabled=err is not None,
              help="Sell at market when a price reaches its calculated stop (the worker acts; "
                   "same flag as `papishares autosell on/off`).")
    if err or st.session_state.get("_autosell_error"):
        st.error(err or st.session_state.pop("_autosell_error"))
    if st.session_state.get(CONFIRM_KEY):
        _confirm_live(settings)


def data_time(loaded: Loaded | None) -> None:
    snap = loaded.snapshot if loaded else None
    if loaded is None or snap is None:
        st.caption("Data: none yet")
        return
    moment = snap.data_time or snap.generated_at
    stale = " · stale" if (snap.stale or (loaded and loaded.problem)) else ""
    st.caption(f"Data from {moment:%H:%M:%S} UTC ({data.age_words(loaded.age_seconds)} ago){stale}")


def refresh_controls(settings: Settings) -> None:
    st.button("Refresh now", on_click=data.refresh, icon=":material/refresh:", width="stretch",
              help="Ask again; the broker client still answers inside Trading 212's rate limits.")
    if st.toggle("Auto-refresh", value=True, key="autorefresh_on",
                 help=f"Every {settings.refresh_seconds} s (PAPISHARES_REFRESH_SECONDS)."):
        st_autorefresh(interval=settings.refresh_seconds * 1000, key="papishares_autorefresh")


def render(settings: Settings, loaded: Loaded | None) -> None:
    with st.sidebar:
        environment_badge(settings)
        autosell_toggle(settings)
        data_time(loaded)
        refresh_controls(settings)
