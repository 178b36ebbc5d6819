"""The frame every page shares: page config, password gate, settings, snapshot, sidebar, banners.

    ctx = page.start("Positions", ":material/table_view:")   # stops the run with a banner when nothing can be shown
    ctx.snapshot                          # the Snapshot to draw (maybe the last good one)

A page that needs no snapshot (Entries) calls `page.start("Entries", ":material/trending_up:", need_snapshot=False)`.

With several accounts the sidebar picks the account shown. A page that can show the whole book says
so with `combines=True` and then finds `ctx.every` set for "All accounts" (each account's snapshot and
the combined totals); any other page shows the first account then, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from papishares.config import ConfigError, Settings
from papishares.core.models import Snapshot
from papishares.ui import accounts, auth, banners, data, sidebar
from papishares.ui.data import AllLoaded, Loaded


@dataclass(frozen=True)
class PageContext:
    settings: Settings  # the account shown; for "All accounts", the first one
    loaded: Loaded
    accounts: tuple[Settings, ...] = ()
    every: AllLoaded | None = None  # "All accounts" on a page that combines them

    @property
    def snapshot(self) -> Snapshot:
        assert self.loaded.snapshot is not None  # start() stops the run otherwise
        return self.loaded.snapshot


def start(title: str, icon: str, *, need_snapshot: bool = True, combines: bool = False) -> PageContext:
    st.set_page_config(page_title=f"{title} · Papishares", page_icon=icon, layout="wide")
    try:
        every_account = data.current_accounts()
    except ConfigError as err:
        banners.config_error(str(err))
        st.stop()
    auth.require(every_account[0])
    shown = accounts.picker(every_account)
    if shown is None and combines:
        return _start_all(title, icon, every_account, need_snapshot)
    settings = shown or every_account[0]
    loaded = data.load_snapshot(settings)
    if shown is None:
        sidebar.render_all(every_account, loaded)
    else:
        sidebar.render(settings, loaded)
    st.title(f"{icon} {title}")
    if shown is None:
        st.info(f"{title} shows one account at a time: this is {settings.account_name}. "
                "Pick an account in the sidebar.", icon=":material/account_balance:")
    elif settings.several:
        st.caption(f"Account: {settings.account_name}")
    banners.show(loaded)
    banners.problem(data.telegram_notice(settings))  # a Telegram group upgraded: update TELEGRAM_CHAT_ID
    if need_snapshot and loaded.snapshot is None:
        banners.no_data(loaded)
        st.stop()
    return PageContext(settings, loaded, every_account)


def _start_all(title: str, icon: str, every_account: tuple[Settings, ...], need_snapshot: bool) -> PageContext:
    every = data.load_all(every_account)
    sidebar.render_all(every_account, every.oldest)  # the book is as old as its oldest part
    st.title(f"{icon} {title}")
    st.caption("All accounts: " + ", ".join(a.account_name for a in every_account)
               + (f" (amounts in {every.combined.currency})" if every.combined.currency else ""))
    for name, loaded in every.lines():
        if loaded.problem or (loaded.snapshot is not None and loaded.snapshot.stale):
            st.markdown(f"**{name}**")
            banners.show(loaded)
    if every.combined.missing:
        st.warning("Not in the totals: " + ", ".join(every.combined.missing)
                   + " (no data yet, or a currency without a known rate).", icon=":material/warning:")
    banners.problem(data.telegram_notice(every_account[0]))
    if need_snapshot and all(lo.snapshot is None for lo in every.loaded):
        banners.no_data(every.first)
        st.stop()
    return PageContext(every_account[0], every.first, every_account, every)
