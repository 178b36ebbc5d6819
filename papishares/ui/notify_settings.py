"""The Settings page's notification block: each alert kind on / silent / off, and the /mute state.

The same settings as Telegram's /notify and /mute (papishares.notify.prefs, kept in the database).
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from papishares.config import Settings
from papishares.notify import prefs
from papishares.ui import banners, data

LABELS = {"on": "On", "silent": "Silent", "off": "Off"}


def _save(settings: Settings, wanted: dict[str, str]) -> str:
    store = data.service(settings).store
    current = prefs.modes(store)
    changed = [kind for kind, mode in wanted.items() if current.get(kind) != mode]
    for kind in changed:
        prefs.set_mode(store, kind, wanted[kind])
    return f"Saved ({len(changed)} changed)." if changed else "Nothing changed."


def _unmute(settings: Settings) -> str:
    prefs.mute(data.service(settings).store, 0)
    return "Alerts ring again."


def render(settings: Settings) -> None:
    st.caption("On rings the phone, Silent arrives without a sound, Off keeps the alert on the Activity "
               "page only. The same settings as Telegram's /notify.")
    modes, err = data.guarded("Reading the notification settings", lambda: prefs.modes(data.service(settings).store),
                              default=None)
    banners.problem(err)
    if modes is None:
        return
    with st.form("notify_modes"):
        wanted = {kind: st.segmented_control(label, list(LABELS), format_func=lambda mode: LABELS.get(mode, str(mode)), default=modes[kind],
                                             key=f"notify_{kind}") or modes[kind]
                  for kind, label in prefs.KINDS.items()}
        if st.form_submit_button("Save notification settings", icon=":material/notifications:"):
            banners.outcome(*data.guarded("Saving the notification settings", _save, settings, wanted))
    until, _ = data.guarded("Reading the mute", lambda: prefs.muted_until(data.service(settings).store))
    if until:
        st.info(f"Muted (alerts silent) until {datetime.fromtimestamp(until, UTC):%d %b %H:%M} UTC.")
        if st.button("Unmute", icon=":material/notifications_active:"):
            banners.outcome(*data.guarded("Unmuting", _unmute, settings))
