"""The Entries page's chart: candles with the Donchian highs, the breakout level and the 2N stop.

It draws what the scanner computed (`breakout_level`, `initial_stop`); the only maths here is the
Donchian lines over the chart's history, from papishares.core.indicators.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from papishares.core import indicators
from papishares.core.numbers import finite

RED, GREEN, AMBER, GREY, BLUE = "#d62728", "#2ca02c", "#ff7f0e", "#7f7f7f", "#1f77b4"
SHOWN_BARS = 160  # about eight months: both channels and the breakout are visible




def breakout_chart(bars: pd.DataFrame, candidate: pd.Series, symbol: str) -> go.Figure:
    """Daily candles (last SHOWN_BARS) for one candidate, with its levels as labelled lines."""
    high = bars["High"].astype(float)
    hi20, hi55 = indicators.donchian_high(high, 20), indicators.donchian_high(high, 55)
    shown = bars.iloc[-SHOWN_BARS:]
    fig = go.Figure(go.Candlestick(x=shown.index, open=shown["Open"], high=shown["High"], low=shown["Low"],
                                   close=shown["Close"], name=symbol, showlegend=False))
    fig.add_trace(go.Scatter(x=shown.index, y=hi20.loc[shown.index], name="20-day high",
                             line={"color": AMBER, "width": 1, "shape": "hv"}))
    fig.add_trace(go.Scatter(x=shown.index, y=hi55.loc[shown.index], name="55-day high",
                             line={"color": BLUE, "width": 1, "shape": "hv"}))
    pence = str(candidate.get("currency") or "").upper() == "GBX"
    unit = "p" if pence else f" {candidate.get('currency') or ''}"
    system = candidate.get("system")
    level, stop = finite(candidate.get("breakout_level")), finite(candidate.get("initial_stop"))
    if level is not None:
        label = f"breakout {level:,.2f}{unit}" if system else f"next breakout {level:,.2f}{unit}"
        fig.add_hline(y=level, line={"color": GREEN, "dash": "dash", "width": 1.5}, annotation_text=label,
                      annotation_position="top left")
    if stop is not None and stop > 0:
        fig.add_hline(y=stop, line={"color": RED, "dash": "dash", "width": 1.5},
                      annotation_text=f"2N stop {stop:,.2f}{unit}", annotation_position="bottom left")
    title = f"{symbol} · system {system}" if system else f"{symbol} · not breaking out"
    fig.update_layout(title=title, height=480, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_rangeslider_visible=False, legend={"orientation": "h", "y": -0.08},
                      yaxis_title=f"Price ({'pence' if pence else candidate.get('currency') or ''})")
    return fig
