"""Home's overview, drawn the same way for one account and for all accounts: the money, the total-risk
gauge against its limit, and how many positions stand at, near or without a stop."""

from __future__ import annotations

import streamlit as st

from papishares.charts import figures
from papishares.ui import tables


def money(value: float, cash: float, pnl: float, positions: int, currency: str,
          value_label: str = "Account value") -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(value_label, tables.price_text(value, currency))
    c2.metric("Cash", tables.price_text(cash, currency))
    c3.metric("Unrealised P&L", tables.price_text(pnl, currency))
    c4.metric("Open positions", positions)


def risk_gauge(total_pct: float, threshold_pct: float, whose: str = "") -> None:
    st.plotly_chart(figures.risk_bullet(total_pct, threshold_pct), key="risk_bullet")
    if total_pct > threshold_pct:
        st.error(f"Total risk{whose} {total_pct:.2f}% is above the {threshold_pct:g}% limit "
                 "(TOTAL_RISK_PERCENTAGE).")


def stop_counts(below: int, near: int, no_stop: int, protected: int) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("At or below stop", below)
    c2.metric(f"Within {tables.NEAR_STOP_PCT:g}% of stop", near)
    c3.metric("Without any stop", no_stop)
    c4.metric("Protected without a worker", protected,
              help="Stop orders at Trading 212 cover every share: they act while no worker runs")
