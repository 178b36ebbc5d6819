"""Settings: risk limits and stop mode (from env), Yahoo symbol overrides, test alert, effective configuration."""

import streamlit as st

from papishares.config import STOP_MODES
from papishares.ui import banners, brokerstops, data, entries_data, notify_settings, page, tables

ctx = page.start("Settings", ":material/settings:", need_snapshot=False)
settings, snap = ctx.settings, ctx.loaded.snapshot
limits, err = data.guarded("Reading the risk limits", data.risk_settings, settings, default=settings)
banners.problem(err)

st.subheader("Risk")
st.caption(f"The environment says RISK_PERCENTAGE={settings.risk_percentage:g}, TOTAL_RISK_PERCENTAGE="
           f"{settings.total_risk_percentage:g} and PAPISHARES_STOP_MODE={settings.stop_mode}. Values saved here "
           "are kept in the database and used by every process on it (this dashboard, the worker, the CLI) until "
           "you go back to the environment's. Stops never move down: a mode with a lower stop leaves the one in force.")
with st.form("risk_limits"):
    a, b = st.columns(2)
    risk = a.number_input("Risk per position, % of account", 0.01, 100.0, float(limits.risk_percentage), 0.1)
    total = b.number_input("Total risk limit, %", 0.01, 100.0, float(limits.total_risk_percentage), 0.5)
    mode = st.selectbox("Stop mode (the live calculated stop)", STOP_MODES, STOP_MODES.index(limits.stop_mode),
                        format_func=tables.STOP_MODE_WORDS.__getitem__)
    save, back = st.columns(2)
    if save.form_submit_button("Save for every process", icon=":material/save:"):
        result, err = data.guarded("Saving the risk limits", data.set_risk_limits, settings, risk, total, mode)
        banners.outcome(result, err)
    if back.form_submit_button("Use the environment's values", icon=":material/undo:"):
        result, err = data.guarded("Resetting the risk limits", data.set_risk_limits, settings, None, None, None)
        banners.outcome(result, err)
if snap is not None:
    what_if = st.slider("What if the risk per position were (this session only)", 0.1, 5.0,
                        float(limits.risk_percentage), 0.1, format="%.1f%%")
    value, ccy = snap.account.total_value, snap.account.currency
    st.write(f"Risk budget per position: **{tables.price_text(what_if / 100 * value, ccy)}** "
             f"(now {tables.price_text(limits.risk_percentage / 100 * value, ccy)}).")

brokerstops.settings_section(settings)

st.subheader("Yahoo symbol overrides")
st.caption("Market data is fetched by a Yahoo symbol built from the instrument's short name and its exchange "
           "(never guessed from the ticker); set one here when it is missing or wrong. Leave empty to remove one.")
with st.form("override"):
    held = [p.ticker for p in snap.positions] if snap else []
    ticker = st.selectbox("Position", held) if held else st.text_input("T212 ticker")
    symbol = st.text_input("Yahoo symbol", placeholder="e.g. RR.L, BRK-B, SAP.DE")
    if st.form_submit_button("Save override") and ticker:
        _, err = data.guarded("Saving the override", data.set_symbol_override, settings, ticker, symbol)
        banners.outcome(f"{ticker} → {symbol or '(default)'}", err)
overrides, err = data.guarded("Reading overrides", data.symbol_overrides, settings, default={})
banners.problem(err)
if overrides:
    st.table({"T212 ticker": list(overrides), "Yahoo symbol": list(overrides.values())})
missing = tables.no_market_data_frame(snap)
if not missing.empty:
    st.caption("Positions without market data (no MACD, no SMA 17), and why:")
    tables.dataframe(missing, key="no_market_data")

st.subheader("Entries watchlist")
(saved, from_file), err = data.guarded("Reading the watchlist", entries_data.watchlist, settings, default=([], []))
banners.problem(err)
st.caption("Scanned for Turtle entries besides the index presets and the positions held."
           + (f" From PAPISHARES_WATCHLIST: {', '.join(from_file)}." if from_file else ""))
with st.form("watchlist", clear_on_submit=True):
    new, drop = st.text_input("Add a Yahoo-style symbol", placeholder="e.g. RR.L, BRK-B"), st.multiselect(
        "Remove", saved)
    if st.form_submit_button("Update watchlist"):
        if new:
            banners.outcome(*data.guarded("Adding to the watchlist", entries_data.add_watch, settings, new))
        if drop:
            banners.outcome(*data.guarded("Removing", entries_data.remove_watch, settings, drop))

st.subheader("Alerts")
st.caption("Telegram " + ("configured." if settings.telegram_enabled else
                          "not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID."))
if st.button("Send test alert", icon=":material/send:"):
    result, err = data.guarded("Sending the test alert", data.send_test_alert, settings)
    banners.outcome(result, err)
notify_settings.render(settings)

if settings.environment == "demo-sim":
    st.subheader("Demo account")
    if st.button("Reset demo account", icon=":material/restart_alt:", help="Start the simulated account afresh"):
        result, err = data.guarded("Resetting the demo account", data.reset_demo, settings)
        banners.outcome(result, err)

st.subheader("Effective configuration")
st.caption("Secrets are shown only as (set) or (unset).")
st.table({"setting": list(settings.effective()), "value": list(settings.effective().values())})
