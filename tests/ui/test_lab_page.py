"""Lab page in AppTest: the stop modes on the demo's trades and the entries backtest, offline."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import open_page

PAGE = "pages/9_Lab.py"


def test_demo_lab_page(ui_env: Path) -> None:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "papishares", "history", "sync"], check=True, capture_output=True)
    at = open_page(PAGE, timeout=240)
    assert not at.exception
    modes = at.dataframe[0].value
    assert list(modes["mode"])[:6] == ["risk", "chandelier", "breakeven", "turtle", "sma", "macd"]
    assert len(at.get("plotly_chart")) == 4  # R distributions, equity per mode, the trade, entries equity
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Trades"]) > 0 and metrics["Return"].endswith("%")
