"""The demo broker on real SQLite files, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from papishares.broker import Broker
from papishares.core.errors import OrderRejected
from papishares.demo import simulation as sim
from papishares.demo.broker import DemoBroker
from papishares.store.db import Store

TUE_OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC).timestamp()  # NASDAQ + LSE open
TUE_NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC).timestamp()  # everything closed
WED_US_OPEN = datetime(2026, 11, 25, 14, 30, tzinfo=UTC).timestamp()
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make(path: Path, t: float, **kw) -> tuple[DemoBroker, Clock]:
    clock = Clock(t)
    return DemoBroker(Store(path), clock=clock, **kw), clock


def by_ticker(broker: DemoBroker) -> dict:
    return {p.ticker: p for p in broker.positions()}


def test_implements_the_broker_protocol(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    assert isinstance(broker, Broker)
    assert broker.environment == "demo-sim"


def test_two_processes_on_one_file_see_the_same_account(tmp_path: Path) -> None:
    a, _ = make(tmp_path / "d.db", TUE_OPEN)
    b, _ = make(tmp_path / "d.db", TUE_OPEN)
    assert a.positions() == b.positions()
    assert a.account_summary() == b.account_summary()
    other, _ = make(tmp_path / "other.db", TUE_OPEN)  # same seed and clock, another file
    assert other.positions() == a.positions()


def test_initial_account(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    account = broker.account_summary()
    positions = by_ticker(broker)
    assert account.currency == "GBP" and account.total_value == pytest.approx(15_000, abs=1)
    assert account.total_value == pytest.approx(account.cash + sum(p.wallet_current_value for p in positions.values()),
                                                 abs=0.05)
    assert len(positions) == 8
    rr = positions["RRl_EQ"]
    assert rr.currency == "GBX" and 400 < rr.current_price < 800
    assert rr.wallet_current_value == pytest.approx(rr.quantity * rr.current_price * 0.01, abs=0.01)
    # pending sell stop reserves MSFT shares; pies reserve VUSA shares
    assert positions["MSFT_US_EQ"].quantity_available == positions["MSFT_US_EQ"].quantity - 2
    assert positions["VUSAl_EQ"].quantity_available == positions["VUSAl_EQ"].quantity - 2
    orders = broker.orders()
    assert {(o.ticker, o.type, o.is_sell) for o in orders} == {("MSFT_US_EQ", "STOP", True),
                                                               ("BPl_EQ", "LIMIT", False)}
    assert broker.order(orders[0].id) == orders[0]


def test_prices_move_while_the_market_is_open(tmp_path: Path) -> None:
    broker, clock = make(tmp_path / "d.db", TUE_OPEN)
    before = {t: p.current_price for t, p in by_ticker(broker).items()}
    clock.t += 600
    after = {t: p.current_price for t, p in by_ticker(broker).items()}
    assert before != after
    assert before["AAPL_US_EQ"] != after["AAPL_US_EQ"]


def test_market_sell_fills_at_once_when_open_and_removes_the_position(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    cash = broker.account_summary().cash
    order = broker.place_market_order("AAPL_US_EQ", -10)
    assert order.status == "FILLED" and order.is_sell and order.filled_quantity == -10
    assert "AAPL_US_EQ" not in by_ticker(broker)
    price = sim.price("AAPL_US_EQ", TUE_OPEN, 212)
    assert broker.account_summary().cash == pytest.approx(cash + 10 * price * 0.79, abs=0.01)
    assert broker.order(order.id) is None  # gone, like a 404


def test_partial_sell_keeps_the_rest(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    broker.place_market_order("RRl_EQ", -100)
    assert by_ticker(broker)["RRl_EQ"].quantity == 200


def test_market_sell_queues_while_closed_and_fills_at_the_next_open(tmp_path: Path) -> None:
    broker, clock = make(tmp_path / "d.db", TUE_NIGHT)
    cash = broker.account_summary().cash
    order = broker.place_market_order("AAPL_US_EQ", -3)
    assert order.status == "NEW"
    assert broker.order(order.id) is not None
    aapl = by_ticker(broker)["AAPL_US_EQ"]
    assert (aapl.quantity, aapl.quantity_available) == (10, 7)
    clock.t = WED_US_OPEN - 60  # LSE is open, NASDAQ not yet
    assert broker.order(order.id) is not None
    clock.t = WED_US_OPEN + 3600
    assert broker.order(order.id) is None
    assert by_ticker(broker)["AAPL_US_EQ"].quantity == 7
    fill = sim.price("AAPL_US_EQ", WED_US_OPEN, 212)
    assert broker.account_summary().cash == pytest.approx(cash + 3 * fill * 0.79, abs=0.01)
    filled = next(o for o in broker.order_history() if o.id == order.id)
    assert filled.status == "FILLED"


def test_selling_more_than_available_is_rejected(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    with pytest.raises(OrderRejected) as err:
        broker.place_market_order("MSFT_US_EQ", -4)  # 5 held, 2 reserved by the stop
    assert err.value.error_type == "selling-equity-not-owned"
    with pytest.raises(OrderRejected):
        broker.place_market_order("TSLA_US_EQ", -1)  # not held
    with pytest.raises(OrderRejected) as unknown:
        broker.place_market_order("NOPE_US_EQ", -1)
    assert unknown.value.error_type == "entity-not-found"
    assert by_ticker(broker)["MSFT_US_EQ"].quantity == 5
    broker.place_market_order("MSFT_US_EQ", -3)
    assert by_ticker(broker)["MSFT_US_EQ"].quantity == 2


def test_a_pending_sell_stop_fills_when_the_price_reaches_it(tmp_path: Path) -> None:
    broker, clock = make(tmp_path / "d.db", TUE_OPEN)
    now_price = by_ticker(broker)["NVDA_US_EQ"].current_price
    stop = round(now_price * 0.985, 2)
    order = broker.place_stop_order("NVDA_US_EQ", -10, stop)
    assert order.type == "STOP" and order.stop_price == stop
    assert by_ticker(broker)["NVDA_US_EQ"].quantity_available == 20
    times = np.append(np.arange(TUE_OPEN, TUE_OPEN + 3 * 3600, 5.0), TUE_OPEN + 3 * 3600)
    path = sim.prices("NVDA_US_EQ", times, 212)
    hit = int(np.flatnonzero(path <= stop)[0])
    clock.t = float(times[hit]) - 30
    assert broker.order(order.id) is not None
    clock.t = TUE_OPEN + 3 * 3600
    assert broker.order(order.id) is None
    assert by_ticker(broker)["NVDA_US_EQ"].quantity == 20
    filled = next(o for o in broker.order_history() if o.id == order.id)
    assert filled.status == "FILLED"
    row = broker.store.query("SELECT fill_price, filled_at FROM demo_orders WHERE id = ?", (order.id,))[0]
    assert row["fill_price"] == pytest.approx(float(path[hit])) and row["filled_at"] == pytest.approx(times[hit])


def test_cancel_releases_the_reserved_quantity(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    stop = next(o for o in broker.orders() if o.type == "STOP")
    broker.cancel_order(stop.id)
    assert by_ticker(broker)["MSFT_US_EQ"].quantity_available == 5
    with pytest.raises(OrderRejected):
        broker.cancel_order(stop.id)


def test_always_open_fills_on_a_saturday(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", SATURDAY, always_open=True)
    assert broker.place_market_order("SAPd_EQ", -6).status == "FILLED"
    events = [e for ex in broker.exchanges() for ev in ex.schedules.values() for e in ev]
    assert {e.type for e in events} == {"OPEN", "CLOSE"}


def test_buy_fills_and_is_limited_by_cash(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    broker.place_market_order("TSLA_US_EQ", 2)
    assert by_ticker(broker)["TSLA_US_EQ"].quantity == 2
    with pytest.raises(OrderRejected) as err:
        broker.place_market_order("AZNl_EQ", 10_000)
    assert err.value.error_type == "insufficient-funds"


def test_state_is_shared_between_stores_and_reset_starts_afresh(tmp_path: Path) -> None:
    a, _ = make(tmp_path / "d.db", TUE_OPEN)
    b, _ = make(tmp_path / "d.db", TUE_OPEN)
    sold = a.place_market_order("AAPL_US_EQ", -10)
    assert "AAPL_US_EQ" not in by_ticker(b)
    b.reset()
    assert by_ticker(a)["AAPL_US_EQ"].quantity == 10
    assert a.account_summary().total_value == pytest.approx(15_000, abs=1)
    assert min(o.id for o in a.orders()) > sold.id  # ids are never reused


def test_metadata_and_data_time(tmp_path: Path) -> None:
    broker, _ = make(tmp_path / "d.db", TUE_OPEN)
    assert broker.data_time("positions") is None
    broker.positions()
    assert broker.data_time("positions") == TUE_OPEN
    instruments = broker.instruments()
    assert instruments["FB_US_EQ"].short_name == "META"
    schedule_ids = {sid for e in broker.exchanges() for sid in e.schedules}
    assert {i.working_schedule_id for i in instruments.values()} <= schedule_ids


def test_concurrent_sells_from_two_processes_cannot_oversell(tmp_path: Path) -> None:
    import threading

    brokers = [make(tmp_path / "d.db", TUE_NIGHT)[0] for _ in range(2)]
    brokers[0].positions()  # seed once
    results: list[str] = []
    barrier = threading.Barrier(2)

    def sell(broker: DemoBroker) -> None:
        barrier.wait()
        try:
            broker.place_market_order("AAPL_US_EQ", -10)
            results.append("placed")
        except OrderRejected as err:
            results.append(err.error_type or "")

    threads = [threading.Thread(target=sell, args=(b,)) for b in brokers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == ["placed", "selling-equity-not-owned"]
    assert len([o for o in brokers[1].orders() if o.ticker == "AAPL_US_EQ"]) == 1
