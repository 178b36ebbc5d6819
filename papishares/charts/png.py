"""The /chart picture: the dashboard's candlestick + MACD figure rendered to PNG by plotly's own
image export (kaleido, which drives a headless Chromium; Debian's /usr/bin/chromium when present).

Rendering takes a second or two and runs in the Telegram thread, never in the positions cycle.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pandas as pd

from papishares.core.models import PositionView

log = logging.getLogger(__name__)

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1000, 720
_lock = threading.Lock()  # one browser render at a time (2 small cores)


def chart_png(bars: pd.DataFrame, p: PositionView) -> tuple[bytes | None, str | None]:
    """(PNG bytes, None), or (None, a sentence) when the picture cannot be made."""
    from papishares.charts.figures import price_chart

    if SYSTEM_CHROMIUM.exists():
        os.environ.setdefault("BROWSER_PATH", str(SYSTEM_CHROMIUM))  # kaleido's browser, no download
    figure = price_chart(bars, p)
    figure.update_layout(title={"text": f"{p.short_name} · {p.name}", "y": 0.985}, xaxis_rangeselector_visible=False,
                         margin={"l": 70, "r": 20, "t": 90, "b": 40}, legend={"y": 1.07})
    try:
        with _lock:
            png = figure.to_image(format="png", width=WIDTH, height=HEIGHT)
    except Exception as err:  # noqa: BLE001 - no browser, a render timeout: a sentence, not a traceback
        log.warning("chart of %s not rendered: %s", p.ticker, type(err).__name__, exc_info=True)
        return None, f"the picture could not be rendered ({type(err).__name__}; is Chromium installed?)"
    return png, None
