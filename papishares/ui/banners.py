"""Banners that say what went wrong and how old the data shown is, in one or two sentences.

No exception element and no traceback ever reaches the page: callers hand a `Loaded` or a sentence.
"""

from __future__ import annotations

import streamlit as st

from papishares.ui.data import Loaded, age_words


def show(loaded: Loaded) -> None:
    """The banners for one page run: failure first, then staleness, then market-data notes."""
    snap = loaded.snapshot
    if loaded.problem:
        st.error(loaded.problem, icon=":material/key_off:" if loaded.kind == "auth" else ":material/error:")
        if snap is not None:
            st.warning(f"Showing the last good data, from {age_words(loaded.age_seconds)} ago.", icon=":material/history_toggle_off:")
    if snap is None:
        return
    if snap.stale and snap.broker_note:
        st.warning(snap.broker_note, icon=":material/history_toggle_off:")
    if snap.market_data_note:
        st.info(f"Market data: {snap.market_data_note}", icon=":material/query_stats:")
    if snap.data_notes:  # items of the broker's answers skipped or marked (issue 9)
        st.warning("Trading 212 sent data that could not be used, item by item; everything else is live:\n"
                   + "\n".join(f"- {note}" for note in snap.data_notes), icon=":material/report:")
    suspect = [p.short_name for p in snap.positions if p.price_suspect]
    if suspect:
        st.warning("Price moved more than 50% since the last reading for " + ", ".join(suspect)
                   + ": held for confirmation, it cannot trigger a sale until seen again.", icon=":material/help:")


def no_data(loaded: Loaded) -> None:
    """Nothing stored yet and the broker gave nothing: say so and how to fix it."""
    if not loaded.problem:
        st.info("No portfolio data yet. It appears as soon as the broker answers.")


def problem(text: str | None) -> None:
    if text:
        st.error(text, icon=":material/error:")


def outcome(result: str | None, err: str | None) -> None:
    """The result of a user action: green when it worked, red with the reason when not."""
    if err:
        st.error(err, icon=":material/error:")
    elif result:
        st.success(result)


def config_error(text: str) -> None:
    """A configuration error: one line naming the variable, never a secret's value."""
    st.error(f"{text}. Fix it in the environment or .env, then reload this page.", icon=":material/build:")
