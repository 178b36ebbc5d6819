"""Dashboard sign-in, checked by `page.start` on every page before anything else is drawn.

- OIDC through Streamlit's `st.login` when the Streamlit secrets (`.streamlit/secrets.toml`) hold an
  `[auth]` section: only e-mails in PAPISHARES_ALLOWED_EMAILS get in (none listed: nobody, with a
  sentence saying so); a sign-out button in the sidebar.
- Otherwise the shared password PAPISHARES_DASHBOARD_PASSWORD, compared in constant time; after
  FREE_TRIES wrong passwords in a row (counted in the database, so new sessions do not reset it)
  each further attempt waits longer, and every wrong password is journalled.
Before sign-in the page shows only its title and the sign-in form: no account data, ticker or control.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import streamlit as st

from papishares.config import Settings
from papishares.store.keys import Key

_OK = "papishares_auth_ok"
FAILURES_KEY = Key.PASSWORD_FAILURES  # kv: {"count": n, "last": t}
FREE_TRIES = 3  # wrong passwords before attempts slow down
MAX_WAIT = 300.0  # s


def password_matches(entered: str, settings: Settings) -> bool:
    expected = settings.dashboard_password
    if not expected:
        return True
    return hmac.compare_digest(entered.encode("utf-8"), expected.reveal().encode("utf-8"))


def wait_after(failures: int) -> float:
    """Seconds the next attempt must wait after `failures` wrong passwords in a row (1, 2, 4, ... 300)."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_WAIT, 2.0 ** (failures - FREE_TRIES))


def oidc_providers() -> list[str] | None:
    """None when the secrets hold no `[auth]`; else the named providers ([] for the default one)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets.toml at all, or an unreadable one: no OIDC
        return None
    if not section:
        return None
    return [name for name, value in section.items() if hasattr(value, "keys")]


def require(settings: Settings) -> None:
    """Stop the page run until the session is signed in (when any sign-in is configured)."""
    providers = oidc_providers()
    if providers is not None:
        _require_oidc(settings, providers)
    elif settings.dashboard_password and not st.session_state.get(_OK):
        _password_form(settings)


# -- OIDC --------------------------------------------------------------------------------------------
def _require_oidc(settings: Settings, providers: list[str]) -> None:
    user: Any = st.user
    if not user.get("is_logged_in"):  # a mapping; AppTest gives no is_logged_in at all
        st.title("Papishares")
        st.write("Sign in to see the dashboard.")
        for name in providers or [""]:
            label = f"Sign in with {name}" if name else "Sign in"
            if st.button(label, type="primary", key=f"login_{name or 'default'}", icon=":material/login:"):
                if name:
                    st.login(name)
                else:
                    st.login()
        st.stop()
    email = str(user.get("email") or "").strip().lower()
    refused = _refusal(settings, email, user.get("email_verified"))
    if refused:
        st.title("Papishares")
        st.error(refused)
        if st.session_state.get("_refusal_journalled") != email:  # once per session, not per rerun
            st.session_state["_refusal_journalled"] = email
            _journal(settings, "signin_refused", f"Sign-in refused for {email or 'an account without e-mail'}")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="logout_refused")
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {email}")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="logout")


def _refusal(settings: Settings, email: str, verified: Any) -> str | None:
    """Why this signed-in account may not see the dashboard, or None."""
    if not settings.allowed_emails:
        return ("No e-mail address is allowed on this dashboard yet: set PAPISHARES_ALLOWED_EMAILS "
                "(comma-separated) and restart it.")
    if verified is False:
        return f"The e-mail address {email} is not verified by the sign-in provider."
    if email not in settings.allowed_emails:
        return f"{email or 'This account'} is not allowed on this dashboard (PAPISHARES_ALLOWED_EMAILS)."
    return None


# -- the shared password -------------------------------------------------------------------------------
def _password_form(settings: Settings) -> None:
    st.title("Papishares")
    with st.form("login"):
        entered = st.text_input("Dashboard password", type="password")
        submitted = st.form_submit_button("Open the dashboard")
    if submitted:
        error = check_password(settings, entered)
        if error is None:
            st.session_state[_OK] = True
            st.rerun()
        st.error(error)
    st.stop()


def check_password(settings: Settings, entered: str, now: float | None = None) -> str | None:
    """None when `entered` opens the dashboard; else the sentence to show. Wrong ones are counted."""
    from papishares.ui import data

    now = time.time() if now is None else now
    store = data.service(settings).store
    state = store.get_json(FAILURES_KEY) or {}
    count, last = int(state.get("count") or 0), float(state.get("last") or 0.0)
    left = last + wait_after(count) - now
    if left > 0:
        return f"Too many wrong passwords: try again in {left:.0f} s."
    if password_matches(entered, settings):
        if count:
            store.set_json(FAILURES_KEY, {"count": 0, "last": now})
        return None
    store.set_json(FAILURES_KEY, {"count": count + 1, "last": now})
    store.journal("auth", None, "wrong_password", f"Wrong dashboard password ({count + 1} in a row)")
    return "Wrong password."


def _journal(settings: Settings, action: str, message: str) -> None:
    from papishares.ui import data

    data.guarded("Journalling the sign-in", lambda: data.service(settings).store.journal("auth", None, action,
                                                                                           message))
