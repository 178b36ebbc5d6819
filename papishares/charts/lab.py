"""The Lab's figures (plotly only, no streamlit): the stop modes side by side, a trade under every
mode, the entries backtest's equity and drawdown."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def r_distributions(trades: list[dict[str, Any]], modes: list[str]) -> go.Figure:
    fig = go.Figure()
    for mode in modes:
        fig.add_trace(go.Box(y=[t["exits"][mode]["r_multiple"] for t in trades], name=mode, boxpoints="all"))
    fig.update_layout(title="R per trade, by stop mode", yaxis_title="R", showlegend=False, height=380)
    return fig


def mode_equity(trades: list[dict[str, Any]], modes: list[str]) -> go.Figure:
    """Cumulative R in exit order: the equity each mode would have had, in units of risk."""
    fig = go.Figure()
    for mode in modes:
        rows = sorted((t["exits"][mode]["exit_date"], t["exits"][mode]["r_multiple"]) for t in trades)
        if rows:
            dates, rs = zip(*rows, strict=True)
            fig.add_trace(go.Scatter(x=list(dates), y=pd.Series(rs).cumsum().tolist(), name=mode, mode="lines"))
    fig.update_layout(title="Cumulative R by stop mode", yaxis_title="R", height=380)
    return fig


def trade_chart(bars: pd.DataFrame, lines: dict[str, pd.Series], exits: dict[str, dict[str, Any]],
                entry_date: str, entry_price: float) -> go.Figure:
    fig = go.Figure(go.Candlestick(x=bars.index, open=bars["Open"], high=bars["High"], low=bars["Low"],
                                   close=bars["Close"], name="price"))
    for mode, line in lines.items():
        fig.add_trace(go.Scatter(x=line.index, y=line.values, name=f"{mode} stop", mode="lines", line_shape="hv"))
    fig.add_trace(go.Scatter(x=[mode_exit["exit_date"] for mode_exit in exits.values()],
                             y=[mode_exit["exit_price"] for mode_exit in exits.values()], mode="markers+text",
                             text=list(exits), textposition="top center", name="exits", marker={"size": 9}))
    fig.add_trace(go.Scatter(x=[entry_date], y=[entry_price], mode="markers", name="entry",
                             marker={"size": 11, "symbol": "triangle-up"}))
    fig.update_layout(xaxis_rangeslider_visible=False, height=480, title="The trade under every stop mode")
    return fig


def equity_drawdown(equity: list[dict[str, Any]]) -> go.Figure:
    frame = pd.DataFrame(equity)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    if not frame.empty:
        fig.add_trace(go.Scatter(x=frame["date"], y=frame["equity"], name="equity"), row=1, col=1)
        fig.add_trace(go.Scatter(x=frame["date"], y=frame["drawdown_pct"], name="drawdown %", fill="tozeroy"),
                      row=2, col=1)
    fig.update_layout(title="Entries backtest: equity and drawdown", height=480)
    return fig
