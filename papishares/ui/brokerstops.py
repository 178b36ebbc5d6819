"""Stops kept at the broker on the pages: the Settings switch, the per-position switch, protection words.

Only reads and flags in the database, through the command layer (papishares.commands.brokerstops):
the worker acts on them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from papishares.commands import brokerstops, render_cli
from papishares.commands.brokerstops import BrokerStopsStatus
from papishares.config import Settings
from papishares.core.models import Snapshot
from papishares.ui import banners, data
from papishares.ui.tables import PROTECTION_WORDS

WITHOUT_WORKER = ("manual", "broker")  # protected while no worker runs


def _store(settings: Settings) -> Any:
    return data.service(settings).store


def state(settings: Settings) -> BrokerStopsStatus:
    return brokerstops.status(_store(settings), settings.broker_stops)


def switch(settings: Settings, on: bool | None) -> str:
    brokerstops.switch(_store(settings), on)
    return "Back to the environment's value." if on is None else "Saved: the worker acts on it in its next cycle."


def settings_section(settings: Settings) -> None:
    """The Settings page's switch for PAPISHARES_BROKER_STOPS, kept in the database for every process."""
    st.subheader("Stops kept at the broker")
    got, err = data.guarded("Reading the broker-stop setting", state, settings)
    banners.problem(err)
    if got is None:
        return
    st.caption(f"The environment says PAPISHARES_BROKER_STOPS={'on' if settings.broker_stops else 'off'}. On: the "
               "worker keeps each position's calculated stop at Trading 212 as a SELL STOP order and moves it up "
               f"(at least {settings.broker_stop_min_move:g}% and {settings.broker_stop_interval:g} s apart), so "
               "positions stay protected while no worker runs.")
    on = st.toggle("Keep stops at the broker", value=got.on, key="broker_stops_toggle")
    if on != got.on:
        banners.outcome(*data.guarded("Saving the broker-stop setting", switch, settings, on))
    if got.set_on_dashboard and st.button("Use the environment's value", icon=":material/undo:"):
        banners.outcome(*data.guarded("Resetting the broker-stop setting", switch, settings, None))
    st.code("\n".join(render_cli.brokerstops_lines(got)), language=None)


def position_switch(settings: Settings, snap: Snapshot) -> None:
    """The Positions page's per-position switch (the same as `papishares brokerstops on|off TICKER`)."""
    got, err = data.guarded("Reading the broker-stop setting", state, settings)
    banners.problem(err)
    if got is None:
        return
    with st.expander("Stops kept at the broker, per position" + ("" if got.on else " (switched off)")):
        left_out = {x.ticker: x.reason for x in got.left_out}
        for p in snap.positions:
            keep = st.toggle(f"{p.short_name} ({p.ticker})", value=p.ticker not in left_out, key=f"bs_{p.ticker}",
                             help=left_out.get(p.ticker))
            if keep != (p.ticker not in left_out):
                store = _store(settings)
                if keep:
                    brokerstops.keep(store, p.ticker)
                else:
                    brokerstops.leave_out(store, p.ticker, "switched off on the Positions page")
                st.rerun()


def protection_frame(snap: Snapshot) -> pd.DataFrame:
    rows = [{"Ticker": p.short_name, "Protection": PROTECTION_WORDS.get(p.protection, p.protection),
             "Without a worker": p.protection in WITHOUT_WORKER,
             "Broker stop": p.broker_stop_price, "Broker stop qty": p.broker_stop_quantity or None}
            for p in snap.positions]
    return pd.DataFrame(rows, columns=["Ticker", "Protection", "Without a worker", "Broker stop", "Broker stop qty"])


def protected_without_worker(snap: Snapshot) -> int:
    return sum(p.protection in WITHOUT_WORKER for p in snap.positions)


def protection_note(snap: Snapshot, settings: Settings | None = None) -> None:
    """Which positions stay protected while no worker runs; the broker's refusal of stop orders, if any."""
    if settings is not None:
        got, _ = data.guarded("Reading the broker-stop setting", state, settings)
        for line in render_cli.brokerstops_lines(got) if got is not None else []:
            if line.startswith("refused"):
                st.warning("Trading 212 " + line + ": the worker's auto-sell remains the protection.")
    kept = [p.short_name for p in snap.positions if p.protection in WITHOUT_WORKER]
    rest = [p.short_name for p in snap.positions if p.protection not in WITHOUT_WORKER]
    if kept:
        st.success("Protected while no worker runs (stop orders at the broker cover every share): " + ", ".join(kept))
    if rest:
        st.warning("Protected only while the worker runs, or only alerted: " + ", ".join(rest))
