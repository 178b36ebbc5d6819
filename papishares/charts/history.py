"""Plotly figures of the History page: they draw what papishares.history computed."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from papishares.charts.figures import AMBER, BLUE, GREEN, GREY, RED
from papishares.history.equity import rebased


def equity_curve(daily: pd.DataFrame, bench: pd.Series, bench_name: str) -> go.Figure:
    """Time-weighted growth of 1 (deposits and withdrawals removed) with the benchmark, and the
    drawdown below it."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    fig.add_trace(go.Scatter(x=daily.index, y=(daily["twr"] - 1) * 100, name="Account (TWR)",
                             line={"color": BLUE}), row=1, col=1)
    if len(bench):
        b = rebased(bench, daily.index)
        fig.add_trace(go.Scatter(x=b.index, y=(b - 1) * 100, name=bench_name, line={"color": GREY, "dash": "dot"}),
                      row=1, col=1)
    fig.add_trace(go.Scatter(x=daily.index, y=daily["drawdown"] * 100, name="Drawdown", fill="tozeroy",
                             line={"color": RED}), row=2, col=1)
    fig.update_yaxes(ticksuffix="%", row=1, col=1, title_text="Return")
    fig.update_yaxes(ticksuffix="%", row=2, col=1, title_text="Drawdown")
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h"})
    return fig


def risk_over_time(daily: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Scatter(x=daily.index, y=daily["total_risk_pct"], name="Total risk", line={"color": AMBER}))
    fig.add_trace(go.Scatter(x=daily.index, y=daily["threshold_pct"], name="Limit", line={"color": RED, "dash": "dash"}))
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis_ticksuffix="%",
                      legend={"orientation": "h"})
    return fig


def r_distribution(trades: pd.DataFrame) -> go.Figure:
    r = trades["r_multiple"].dropna().astype(float)
    fig = go.Figure(go.Histogram(x=r, xbins={"size": 0.5}, marker_color=[GREEN if v > 0 else RED for v in r]))
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="R-multiple",
                      yaxis_title="Trades", bargap=0.05)
    return fig


def monthly_dividends(monthly: pd.DataFrame, currency: str) -> go.Figure:
    fig = go.Figure(go.Bar(x=monthly["month"], y=monthly["amount"], marker_color=GREEN))
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis_title=f"Dividends ({currency})")
    return fig
