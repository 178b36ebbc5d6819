"""Every broker the order path may be given declares every capability it uses (no probing for them)."""

from __future__ import annotations

from pathlib import Path

from papishares.broker import Broker
from papishares.broker.t212_history import first_request
from papishares.broker.trading212 import Trading212Client
from papishares.demo.broker import DemoBroker
from papishares.orders import vanished
from papishares.store.db import Store
from tests.conftest import t212_settings_for
from tests.fakes.t212_server import FakeTrading212

CAPABILITIES = ("environment", "rate_headers", "account_summary", "positions", "orders", "order", "instruments",
                "exchanges", "data_time", "history_page", "probe", "cancel_order", "place_market_order",
                "place_stop_order", "order_slot_in", "reset", "export_report")


def test_the_protocol_names_every_capability() -> None:
    declared = set(Broker.__annotations__) | {n for n in vars(Broker) if not n.startswith("_")}
    assert declared == set(CAPABILITIES)


def test_the_demo_broker_has_each_and_answers_with_its_neutral_values(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    try:
        demo = DemoBroker(store, always_open=True)
        assert isinstance(demo, Broker)
        assert all(hasattr(demo, name) for name in CAPABILITIES)
        assert demo.order_slot_in("POST", "/equity/orders/stop") == 0.0 and demo.rate_headers == {}
        assert demo.probe("/equity/history/orders") is True
        assert demo.history_page("orders", first_request("orders")).items  # a year of demo history
        assert vanished.first_page_reader(demo)() is not None
        assert demo.reset() is True
        report = demo.export_report(tmp_path / "reports")
        assert report is not None and report.exists()
    finally:
        store.close()


def test_trading212_has_each_and_is_never_reset(t212_server: FakeTrading212, tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    client = Trading212Client(t212_settings_for(t212_server, tmp_path / "t.db"), store)
    try:
        assert isinstance(client, Broker)
        assert all(hasattr(client, name) for name in CAPABILITIES)
        assert client.reset() is False and client.export_report(tmp_path / "reports") is None
        assert not (tmp_path / "reports").exists()
        assert client.order_slot_in("POST", "/equity/orders/stop") == 0.0  # nothing sent yet
        assert t212_server.order_posts == []
    finally:
        client.close()
        store.close()
