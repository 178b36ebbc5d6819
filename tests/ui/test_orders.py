"""Orders page: pending orders with type, side, quantity, limit/stop and status; GBX in pence."""

from __future__ import annotations

from pathlib import Path

from papishares.store import managed_stops
from papishares.store.db import Store
from tests.fakes.t212_server import FakeTrading212
from tests.ui.conftest import messages, open_page


def test_pending_orders_from_trading212(t212_env: FakeTrading212) -> None:
    t212_env.add_order("RRl_EQ", "STOP", -100, stop_price=500.0)
    at = open_page("pages/4_Orders.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Ticker")
    aapl = table.loc["AAPL_US_EQ"]
    assert (aapl["Type"], aapl["Side"], aapl["Qty"], aapl["Stop"], aapl["Limit"]) == ("STOP", "SELL", 5, "$160.00", "–")
    rr = table.loc["RRl_EQ"]
    assert (rr["Side"], rr["Stop"], rr["Currency"]) == ("SELL", "500.00p", "GBX (pence)")
    # NVDA is not held: its currency comes from the instruments metadata
    nvda = table.loc["NVDA_US_EQ"]
    assert (nvda["Type"], nvda["Side"], nvda["Limit"]) == ("LIMIT", "BUY", "$100.00")
    assert set(table["Status"]) == {"NEW"}


def test_no_pending_orders(t212_env: FakeTrading212) -> None:
    with t212_env.lock:
        t212_env.orders.clear()
    at = open_page("pages/4_Orders.py")
    assert not at.exception
    assert messages(at, "info") == ["No pending orders."]


def test_demo_orders() -> None:
    at = open_page("pages/4_Orders.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Ticker")
    assert table.loc["MSFT_US_EQ", "Type"] == "STOP" and table.loc["BPl_EQ", "Limit"].endswith("p")


def test_orders_papishares_manages_are_marked(t212_env: FakeTrading212, ui_env: Path) -> None:
    ours = t212_env.add_order("TSLA_US_EQ", "STOP", -3, stop_price=205.0)  # as the stop keeper placed it
    store = Store(ui_env)
    try:  # the stop keeper's record of it (papishares.orders.stop_keeper)
        managed_stops.record(store, "TSLA_US_EQ", ours, 205.0, 3, 3, 0)
    finally:
        store.close()
    at = open_page("pages/4_Orders.py")
    assert not at.exception
    table = at.dataframe[0].value.set_index("Id")
    assert table.loc[str(ours), "Managed by Papishares"] == "yes"
    others = table.drop(index=str(ours))
    assert len(others) > 0 and set(others["Managed by Papishares"]) == {"no"}  # the user's own, e.g. AAPL's stop
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Stops kept by Papishares"], metrics["Your sell stops"]) == ("1", "1")
