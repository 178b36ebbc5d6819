"""Which account the dashboard shows: the sidebar's picker (each account, and "All accounts").

With one account there is no picker and every page is as it always was. The choice lives in the
session under a key of its own (a widget's state does not survive a switch of page), so it follows
the user from page to page.
"""

from __future__ import annotations

import streamlit as st

from papishares.config import Settings

ALL = "All accounts"
PICK_KEY = "account_picker"
CHOSEN_KEY = "_account_shown"  # the name picked, or ALL


def chosen_name(names: tuple[str, ...], wanted: str | None) -> str:
    """The name to show: the one wanted when it is configured (or ALL), else ALL (the whole book)."""
    if wanted == ALL or wanted in names:
        return str(wanted)
    return ALL


def account_of(accounts: tuple[Settings, ...], name: str) -> Settings | None:
    """The account called `name`; None for ALL."""
    return next((a for a in accounts if a.account_name == name), None)


def show(name: str) -> None:
    """Show account `name` from the next page run on (e.g. a row of "All accounts" opening its chart)."""
    st.session_state[CHOSEN_KEY] = name


def _remember() -> None:
    st.session_state[CHOSEN_KEY] = st.session_state[PICK_KEY]


def picker(accounts: tuple[Settings, ...]) -> Settings | None:
    """The sidebar's account picker; the account shown, or None for "All accounts". With one account
    it draws nothing and answers that account."""
    if len(accounts) < 2:
        return accounts[0]
    names = tuple(a.account_name for a in accounts)
    name = chosen_name(names, st.session_state.get(CHOSEN_KEY))
    st.session_state[CHOSEN_KEY] = name
    st.session_state[PICK_KEY] = name
    options = [ALL, *names]
    with st.sidebar:
        st.selectbox("Account", options, key=PICK_KEY, on_change=_remember,
                     help="One account, or the whole book: values added in the first account's currency.")
    return account_of(accounts, name)
