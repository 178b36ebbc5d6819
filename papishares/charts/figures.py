"""Plotly figures for the dashboard. They draw values the service computed; the only maths here is
the indicator lines over the chart's history (papishares.core.indicators), never a stop."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from papishares.core import indicators, money
from papishares.core.models import PositionView

RED, GREEN, AMBER, GREY, BLUE = "#d62728", "#2ca02c", "#ff7f0e", "#7f7f7f", "#1f77b4"


def risk_bullet(total_pct: float, threshold_pct: float) -> go.Figure:
    """Total risk as a bullet gauge: the bar turns red above the TOTAL_RISK_PERCENTAGE line."""
    top = max(threshold_pct * 1.5, total_pct * 1.1, 1.0)
    fig = go.Figure(go.Indicator(
        mode="number+gauge+delta",
        value=total_pct,
        number={"suffix": "%", "valueformat": ".2f"},
        delta={"reference": threshold_pct, "increasing": {"color": RED}, "decreasing": {"color": GREEN},
               "valueformat": ".2f", "suffix": " pp"},
        gauge={
            "shape": "bullet",
            "axis": {"range": [0, top], "ticksuffix": "%"},
            "bar": {"color": RED if total_pct > threshold_pct else GREEN},
            "steps": [{"range": [0, threshold_pct], "color": "rgba(44,160,44,0.15)"},
                      {"range": [threshold_pct, top], "color": "rgba(214,39,40,0.15)"}],
            "threshold": {"line": {"color": RED, "width": 3}, "thickness": 0.9, "value": threshold_pct},
        },
        title={"text": f"Total risk<br><span style='font-size:0.8em'>limit {threshold_pct:g}%</span>"},
    ))
    fig.update_layout(height=140, margin={"l": 110, "r": 30, "t": 20, "b": 20})
    return fig


def risk_bars(frame: pd.DataFrame, currency: str) -> go.Figure:
    """Risk per position (account currency); positions without any stop in red."""
    colours = [RED if no_stop else BLUE for no_stop in frame["No stop"]]
    fig = go.Figure(go.Bar(
        x=frame["Ticker"], y=frame["Risk"], marker_color=colours,
        customdata=frame["Note"],
        hovertemplate="%{x}: %{y:,.2f} " + currency + "<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis_title=f"Risk ({money.sign(currency) or currency})",
                      title="Risk per position (red: no stop at all)")
    return fig


def share_bars(frame: pd.DataFrame, label: str, currency: str) -> go.Figure:
    fig = go.Figure(go.Bar(
        x=frame["% of account"], y=frame[label], orientation="h", marker_color=BLUE,
        customdata=frame["Value"],
        hovertemplate="%{y}: %{x:.1f}% of the account (%{customdata:,.2f} " + currency + ")<extra></extra>",
    ))
    fig.update_layout(height=max(200, 26 * len(frame) + 60), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="% of account value", yaxis={"autorange": "reversed"},
                      title=f"Concentration by {label.lower()}")
    return fig


def _crossings(line: pd.Series, signal: pd.Series) -> tuple[pd.Index, pd.Index]:
    """Dates where the MACD line crossed its signal line upwards and downwards."""
    marks = indicators.crossovers(line, signal)
    return line.index[(marks == indicators.BULLISH).to_numpy()], line.index[(marks == indicators.BEARISH).to_numpy()]


def _hline(fig: go.Figure, y: float | None, text: str, colour: str, dash: str, where: str) -> None:
    if y is None:
        return
    fig.add_hline(y=y, line={"color": colour, "dash": dash, "width": 1.3}, row=1, col=1,
                  annotation_text=text, annotation_position=where, annotation_font_color=colour)


def price_chart(bars: pd.DataFrame, p: PositionView) -> go.Figure:
    """Candlesticks + volume + MACD panel with the position's average, max and stop lines."""
    close = bars["Close"].astype(float)
    sma = indicators.sma(close, 17)
    line, signal, hist = indicators.macd(close)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.03, row_heights=[0.62, 0.13, 0.25])
    fig.add_trace(go.Candlestick(x=bars.index, open=bars["Open"], high=bars["High"], low=bars["Low"],
                                 close=close, name=p.short_name, showlegend=False), row=1, col=1)
    fig.add_trace(go.Scatter(x=bars.index, y=sma, name="SMA 17", line={"color": AMBER, "width": 1.5}),
                  row=1, col=1)
    ccy = "p" if p.currency.upper() == "GBX" else f" {p.currency}"
    # Labels at four different corners so close lines stay readable.
    _hline(fig, p.average_price, f"average {p.average_price:,.2f}{ccy}", GREY, "dot", "top left")
    _hline(fig, p.max_price, f"max {p.max_price:,.2f}{ccy}", GREEN, "dot", "top right")
    if p.stop_loss_price is not None:
        _hline(fig, p.stop_loss_price, f"calculated stop {p.stop_loss_price:,.2f}{ccy}", RED, "dash",
               "bottom right")
    if p.manual_stop_loss_price is not None:
        _hline(fig, p.manual_stop_loss_price, f"manual stop {p.manual_stop_loss_price:,.2f}{ccy}", "#9467bd",
               "dashdot", "bottom left")
    volume = bars["Volume"].fillna(0) if "Volume" in bars else pd.Series(0, index=bars.index)
    fig.add_trace(go.Bar(x=bars.index, y=volume, name="Volume", marker_color=GREY, showlegend=False),
                  row=2, col=1)
    fig.add_trace(go.Bar(x=bars.index, y=hist, name="Histogram",
                         marker_color=[GREEN if (h or 0) >= 0 else RED for h in hist.fillna(0)]), row=3, col=1)
    fig.add_trace(go.Scatter(x=bars.index, y=line, name="MACD", line={"color": BLUE, "width": 1.3}), row=3, col=1)
    fig.add_trace(go.Scatter(x=bars.index, y=signal, name="Signal", line={"color": AMBER, "width": 1.3}),
                  row=3, col=1)
    up, down = _crossings(line, signal)
    fig.add_trace(go.Scatter(x=up, y=line.loc[up], mode="markers", name="Crossed up",
                             marker={"symbol": "triangle-up", "size": 10, "color": GREEN}), row=3, col=1)
    fig.add_trace(go.Scatter(x=down, y=line.loc[down], mode="markers", name="Crossed down",
                             marker={"symbol": "triangle-down", "size": 10, "color": RED}), row=3, col=1)
    fig.update_yaxes(title_text=f"Price ({'pence' if ccy == 'p' else p.currency})", row=1, col=1)
    fig.update_yaxes(title_text="Vol", row=2, col=1)
    fig.update_yaxes(title_text="MACD", row=3, col=1)
    fig.update_xaxes(rangeslider_visible=False, rangebreaks=[{"bounds": ["sat", "mon"]}])  # no weekend gaps
    fig.update_xaxes(rangeselector={"buttons": [
        {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
        {"count": 3, "label": "3m", "step": "month", "stepmode": "backward"},
        {"count": 6, "label": "6m", "step": "month", "stepmode": "backward"},
        {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
        {"step": "all", "label": "all"},
    ]}, row=1, col=1)
    start = bars.index[max(0, len(bars) - 130)] if len(bars) else None
    if start is not None:
        fig.update_xaxes(range=[start, bars.index[-1]])
    fig.update_layout(height=720, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": 1.04, "x": 0.3})
    return fig
