"""The frame every page shares: page config, password gate, settings, snapshot, sidebar, banners.

    ctx = page.start("Positions", ":material/table_view:")   # stops the run with a banner when nothing can be shown
    ctx.snapshot                          # the Snapshot to draw (maybe the last good one)

A page that needs no snapshot (Entries) calls `page.start("Entries", ":material/trending_up:", need_snapshot=False)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from papishares.config import ConfigError, Settings
from papishares.core.models import Snapshot
from papishares.ui import auth, banners, data, sidebar
from papishares.ui.data import Loaded


@dataclass(frozen=True)
class PageContext:
    settings: Settings
    loaded: Loaded

    @property
    def snapshot(self) -> Snapshot:
        assert self.loaded.snapshot is not None  # start() stops the run otherwise
        return self.loaded.snapshot


def start(title: str, icon: str, *, need_snapshot: bool = True) -> PageContext:
    st.set_page_config(page_title=f"{title} · Papishares", page_icon=icon, layout="wide")
    try:
        settings = data.current_settings()
    except ConfigError as err:
        banners.config_error(str(err))
        st.stop()
    auth.require(settings)
    loaded = data.load_snapshot(settings)
    sidebar.render(settings, loaded)
    st.title(f"{icon} {title}")
    banners.show(loaded)
    banners.problem(data.telegram_notice(settings))  # a Telegram group upgraded: update TELEGRAM_CHAT_ID
    if need_snapshot and loaded.snapshot is None:
        banners.no_data(loaded)
        st.stop()
    return PageContext(settings, loaded)
