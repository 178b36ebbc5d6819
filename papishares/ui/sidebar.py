"""The sidebar every page shows: environment badge, auto-sell toggle, data time, refresh controls.

Pages get it through `papishares.ui.page.start(...)`; a page that builds its own frame can call
`render(settings, loaded)` directly (`loaded` may be None when the page needs no snapshot).
With several accounts the toggle acts on the account shown (its widget keys carry the account's
name, so two accounts' pending confirmations never mix); "All accounts" gets `render_all`: one
toggle for every account, switched only after a confirmation.
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
ALL_CONFIRM_KEY = "_autosell_confirm_all"  # the state asked for every account, until confirmed


def scoped(key: str, scope: str) -> str:
    """A widget or state key of one account's sidebar ("" with a single account: the keys as always)."""
    return f"{key}_{scope}" if scope else key


def environment_badge(settings: Settings) -> None:
    label, colour, explanation = BADGES.get(settings.environment, (settings.environment, "gray", ""))
    st.badge(label, color=colour, help=explanation)  # type: ignore[arg-type]


def _on_toggle(settings: Settings, scope: str = "") -> None:
    wanted = bool(st.session_state[scoped(TOGGLE_KEY, scope)])
    if wanted and settings.is_live:
        # Real money: the flag is written only after an explicit confirmation below.
        st.session_state[scoped(TOGGLE_KEY, scope)] = False
        st.session_state[scoped(CONFIRM_KEY, scope)] = True
        return
    _, err = data.guarded("Switching auto-sell", data.set_autosell, settings, wanted)
    if err:
        st.session_state["_autosell_error"] = err
    st.session_state.pop(scoped(SYNCED_KEY, scope), None)


def live_consequence(allowed: bool) -> str:
    return ("The worker will sell a whole position at market "
            "when its price falls to the calculated stop while the exchange is open. "
            + ("PAPISHARES_ALLOW_LIVE_ORDERS=true: orders WILL be sent."
               if allowed else
               "PAPISHARES_ALLOW_LIVE_ORDERS is not true, so the worker only journals and alerts "
               "'would sell' until you set it to true and restart the worker."))


def _confirm_live(settings: Settings, scope: str = "") -> None:
    st.warning("Switch auto-sell ON for the LIVE account? " + live_consequence(settings.allow_live_orders),
               icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button("Yes, switch on", type="primary", key=scoped("autosell_confirm_yes", scope)):
        _, err = data.guarded("Switching auto-sell", data.set_autosell, settings, True)
        st.session_state.pop(scoped(CONFIRM_KEY, scope), None)
        st.session_state.pop(scoped(SYNCED_KEY, scope), None)
        if err:
            st.error(err)
        else:
            st.rerun()
    if no.button("Cancel", key=scoped("autosell_confirm_no", scope)):
        st.session_state.pop(scoped(CONFIRM_KEY, scope), None)
        st.rerun()


def autosell_toggle(settings: Settings, scope: str = "") -> None:
    enabled, err = data.guarded("Reading the auto-sell flag", data.autosell_enabled, settings, default=False)
    key, synced = scoped(TOGGLE_KEY, scope), scoped(SYNCED_KEY, scope)
    # Follow the database (the CLI or another tab may have changed it) unless the user just acted.
    if key not in st.session_state or st.session_state.get(synced) != enabled:
        st.session_state[key] = enabled
        st.session_state[synced] = enabled
    label = f"Auto-sell ({settings.account_name})" if scope else "Auto-sell"
    st.toggle(label, key=key, on_change=_on_toggle, args=(settings, scope), disabled=err is not None,
              help="Sell at market when a price reaches its calculated stop (the worker acts; "
                   "same flag as `papishares autosell on/off`).")
    if err or st.session_state.get("_autosell_error"):
        st.error(err or st.session_state.pop("_autosell_error"))
    if st.session_state.get(scoped(CONFIRM_KEY, scope)):
        _confirm_live(settings, scope)


def all_enabled(flags: dict[str, bool]) -> bool:
    """The "All accounts" toggle is on only when auto-sell is on in every account."""
    return bool(flags) and all(flags.values())


def _on_toggle_all(accounts: tuple[Settings, ...]) -> None:
    # Nothing is written yet: every account is switched only after the confirmation below.
    wanted = bool(st.session_state[scoped(TOGGLE_KEY, "all")])
    st.session_state[ALL_CONFIRM_KEY] = wanted
    st.session_state[scoped(TOGGLE_KEY, "all")] = not wanted


def _confirm_all(accounts: tuple[Settings, ...], wanted: bool) -> None:
    names = ", ".join(a.account_name for a in accounts)
    text = f"Switch auto-sell {'ON' if wanted else 'OFF'} for every account ({names})?"
    live = [a for a in accounts if a.is_live]
    if wanted and live:
        text += (f" LIVE (real money): {', '.join(a.account_name for a in live)}. "
                 + live_consequence(all(a.allow_live_orders for a in live)))
    st.warning(text, icon=":material/warning:")
    yes, no = st.columns(2)
    if yes.button(f"Yes, switch {'on' if wanted else 'off'}", type="primary", key="autosell_all_yes"):
        errors = [err for a in accounts
                  for _, err in [data.guarded(f"Switching auto-sell for {a.account_name}", data.set_autosell, a, wanted)]
                  if err]
        st.session_state.pop(ALL_CONFIRM_KEY, None)
        st.session_state.pop(scoped(SYNCED_KEY, "all"), None)
        if errors:
            st.error(" ".join(errors))
        else:
            st.rerun()
    if no.button("Cancel", key="autosell_all_no"):
        st.session_state.pop(ALL_CONFIRM_KEY, None)
        st.rerun()


def autosell_toggle_all(accounts: tuple[Settings, ...]) -> None:
    flags: dict[str, bool] = {}
    problems: list[str] = []
    for a in accounts:
        on, err = data.guarded(f"Reading the auto-sell flag of {a.account_name}", data.autosell_enabled, a,
                               default=False)
        flags[a.account_name] = bool(on)
        if err:
            problems.append(err)
    enabled = all_enabled(flags)
    key, synced = scoped(TOGGLE_KEY, "all"), scoped(SYNCED_KEY, "all")
    if key not in st.session_state or st.session_state.get(synced) != enabled:
        st.session_state[key] = enabled
        st.session_state[synced] = enabled
    st.toggle("Auto-sell (every account)", key=key, on_change=_on_toggle_all, args=(accounts,),
              disabled=bool(problems), help="On only when it is on in every account; switching asks first, "
                                            "then sets every account (as `papishares autosell on/off`).")
    st.caption(" · ".join(f"{name}: {'on' if on else 'off'}" for name, on in flags.items()))
    for err in problems:
        st.error(err)
    if ALL_CONFIRM_KEY in st.session_state:
        _confirm_all(accounts, bool(st.session_state[ALL_CONFIRM_KEY]))


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
    scope = settings.account_name if settings.several else ""
    with st.sidebar:
        environment_badge(settings)
        autosell_toggle(settings, scope)
        data_time(loaded)
        refresh_controls(settings)


def render_all(accounts: tuple[Settings, ...], loaded: Loaded | None) -> None:
    """The sidebar for "All accounts": each environment's badge, one toggle for every account."""
    with st.sidebar:
        for env in dict.fromkeys(a.environment for a in accounts):
            environment_badge(next(a for a in accounts if a.environment == env))
        autosell_toggle_all(accounts)
        data_time(loaded)
        refresh_controls(accounts[0])
