"""The one reconcile verdict (papishares.orders.reconcile): pure, so every input combination is checked."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from papishares.core.models import Order
from papishares.orders.journal import MARKET_SELL, STOP_CANCEL, STOP_PLACE
from papishares.orders.reconcile import (
    KEPT_STOP,
    KINDS,
    Recorded,
    Seen,
    Verdict,
    intent_since,
    pending_market_sell,
    pending_order,
    pending_sell_order,
    pending_stop_at,
    recorded_intent,
    seen_now,
    shrank,
    verdict,
)
from tests.notify.test_rules import position, snapshot

BEFORE = 3.0  # the position when the request was recorded
POSITIONS = {"gone": None, "smaller": 2.0, "a hair smaller": BEFORE - 1e-6, "same": BEFORE,
             "a rounding below": BEFORE - 1e-12, "larger": 4.0}
SOLD = {"gone", "smaller", "a hair smaller"}
BOOLS = (False, True)

# What each request's owner must conclude when the data is fresh and its order is not pending, by
# (the position's data in doubt, shares sold, recorded within the grace): the module's table.
UNPENDING: dict[str, dict[tuple[bool, bool, bool], Verdict]] = {
    MARKET_SELL: {
        (True, True, True): Verdict.WAIT_DATA_IN_DOUBT, (True, True, False): Verdict.WAIT_DATA_IN_DOUBT,
        (True, False, True): Verdict.WAIT_DATA_IN_DOUBT, (True, False, False): Verdict.WAIT_DATA_IN_DOUBT,
        (False, True, True): Verdict.FILLED, (False, True, False): Verdict.FILLED,
        (False, False, True): Verdict.WAIT_GRACE, (False, False, False): Verdict.NO_ORDER_NO_FILL,
    },
    STOP_PLACE: {  # only its order proves a placement: the position is never read
        (True, True, True): Verdict.WAIT_GRACE, (True, True, False): Verdict.NO_ORDER_NO_FILL,
        (True, False, True): Verdict.WAIT_GRACE, (True, False, False): Verdict.NO_ORDER_NO_FILL,
        (False, True, True): Verdict.WAIT_GRACE, (False, True, False): Verdict.NO_ORDER_NO_FILL,
        (False, False, True): Verdict.WAIT_GRACE, (False, False, False): Verdict.NO_ORDER_NO_FILL,
    },
    STOP_CANCEL: {  # the order was pending before: its absence is no news to wait for
        (True, True, True): Verdict.WAIT_DATA_IN_DOUBT, (True, True, False): Verdict.WAIT_DATA_IN_DOUBT,
        (True, False, True): Verdict.WAIT_DATA_IN_DOUBT, (True, False, False): Verdict.WAIT_DATA_IN_DOUBT,
        (False, True, True): Verdict.FILLED, (False, True, False): Verdict.FILLED,
        (False, False, True): Verdict.NO_ORDER_NO_FILL, (False, False, False): Verdict.NO_ORDER_NO_FILL,
    },
    KEPT_STOP: {  # proven placed: the same as a cancel
        (True, True, True): Verdict.WAIT_DATA_IN_DOUBT, (True, True, False): Verdict.WAIT_DATA_IN_DOUBT,
        (True, False, True): Verdict.WAIT_DATA_IN_DOUBT, (True, False, False): Verdict.WAIT_DATA_IN_DOUBT,
        (False, True, True): Verdict.FILLED, (False, True, False): Verdict.FILLED,
        (False, False, True): Verdict.NO_ORDER_NO_FILL, (False, False, False): Verdict.NO_ORDER_NO_FILL,
    },
}

CASES = list(itertools.product(KINDS, BOOLS, BOOLS, POSITIONS, BOOLS, BOOLS))


@pytest.mark.parametrize(("kind", "fresh", "pending", "where", "doubt", "grace"), CASES)
def test_every_input_combination(kind: str, fresh: bool, pending: bool, where: str, doubt: bool,
                                 grace: bool) -> None:
    got = verdict(Recorded(kind, BEFORE), Seen(fresh, pending, POSITIONS[where], doubt, grace))
    if not fresh:
        expected = Verdict.WAIT_FOR_FRESH_DATA  # data from before the request proves nothing, whatever it shows
    elif pending:
        expected = Verdict.STILL_PENDING
    else:
        expected = UNPENDING[kind][(doubt, where in SOLD, grace)]
    assert got is expected


def test_the_table_covers_every_kind() -> None:
    assert set(UNPENDING) == set(KINDS) and len(CASES) == 4 * 2 * 2 * 6 * 2 * 2


@pytest.mark.parametrize("kind", KINDS)
def test_money_safety_over_every_combination(kind: str) -> None:
    """Whatever the inputs: nothing is settled on old data or data in doubt, a fill is only read from a
    smaller or gone position, and an unproven send is never given up on within its grace."""
    for fresh, pending, where, doubt, grace in itertools.product(BOOLS, BOOLS, POSITIONS, BOOLS, BOOLS):
        got = verdict(Recorded(kind, BEFORE), Seen(fresh, pending, POSITIONS[where], doubt, grace))
        if not fresh:
            assert got.waits
        if got is Verdict.FILLED:
            assert where in SOLD and not doubt and not pending and kind != STOP_PLACE
        if doubt and not pending and kind != STOP_PLACE:
            assert got.waits
        if grace and kind in (MARKET_SELL, STOP_PLACE):
            assert got is not Verdict.NO_ORDER_NO_FILL


def test_waits_are_exactly_the_three_waits() -> None:
    assert {v for v in Verdict if v.waits} == {Verdict.WAIT_FOR_FRESH_DATA, Verdict.WAIT_DATA_IN_DOUBT,
                                               Verdict.WAIT_GRACE}


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="not a reconciled request kind"):
        verdict(Recorded("buy", BEFORE), Seen(True, False, BEFORE))


@pytest.mark.parametrize(("before", "now", "expected"), [
    (3.0, None, True), (3.0, 2.0, True), (3.0, 3.0, False), (3.0, 3.5, False), (3.0, 3.0 - 1e-12, False),
    (3.0, 3.0 - 1e-6, True), (0.0, 0.0, False), (0.0, None, True),
])
def test_shrank(before: float, now: float | None, expected: bool) -> None:
    assert shrank(before, now) is expected


# -- evidence: which pending order can only be the request -------------------------------------------------
def order(id_: int, type_: str = "MARKET", quantity: float = -1.0, status: str = "NEW", ticker: str = "TSLA_US_EQ",
          stop: float | None = None) -> Order:
    return Order(id_, ticker, type_, status, quantity, stop_price=stop)


def test_only_a_pending_market_sell_that_is_not_ours_can_be_the_market_sale() -> None:
    t = "TSLA_US_EQ"
    assert pending_market_sell([order(1)], t, frozenset()) == order(1)
    assert pending_market_sell([order(1)], t, frozenset({1})) is None  # a managed order is not this sale
    assert pending_market_sell([order(1, "STOP", stop=150.0)], t, frozenset()) is None  # the user's own stop
    assert pending_market_sell([order(1, "LIMIT")], t, frozenset()) is None
    assert pending_market_sell([order(1, quantity=2.0)], t, frozenset()) is None  # a buy
    assert pending_market_sell([order(1, status="FILLED")], t, frozenset()) is None
    assert pending_market_sell([order(1, status="CANCELLED")], t, frozenset()) is None
    assert pending_market_sell([order(1, ticker="AAPL_US_EQ")], t, frozenset()) is None
    assert pending_market_sell([order(1, "market")], t, frozenset()) == order(1, "market")


def test_a_stop_placement_is_the_newest_unmanaged_pending_sell_stop_at_its_price() -> None:
    t = "TSLA_US_EQ"
    stops = [order(5, "STOP", stop=150.0), order(9, "STOP", stop=150.0), order(7, "STOP", stop=150.0)]
    assert pending_stop_at(stops, t, 150.0, frozenset()) == stops[1]
    assert pending_stop_at(stops, t, 150.0, frozenset({9})) == stops[2]  # an adopted one is not found again
    assert pending_stop_at(stops, t, 150.0 + 1e-7, frozenset()) == stops[1]
    assert pending_stop_at(stops, t, 150.01, frozenset()) is None
    assert pending_stop_at([order(1, "STOP")], t, 150.0, frozenset()) is None  # no stop price
    assert pending_stop_at([order(1, "STOP_LIMIT", stop=150.0)], t, 150.0, frozenset()) is None
    assert pending_stop_at([order(1, "STOP", quantity=1.0, stop=150.0)], t, 150.0, frozenset()) is None
    assert pending_stop_at([order(1, "STOP", status="CANCELLED", stop=150.0)], t, 150.0, frozenset()) is None
    assert pending_stop_at([order(1, "STOP", stop=150.0, ticker="X")], t, 150.0, frozenset()) is None


def test_a_cancelled_order_is_looked_for_by_id() -> None:
    orders = [order(3, "STOP", stop=150.0), order(4, "LIMIT", quantity=2.0), order(5, "STOP", status="EXPIRED")]
    assert pending_sell_order(orders, 3) == orders[0]
    assert pending_sell_order(orders, 4) is None  # a buy is not a stop to cancel
    assert pending_sell_order(orders, 5) is None
    assert pending_order(orders, 4) == orders[1]  # any side: a managed stop still listed
    assert pending_order(orders, 5) is None and pending_order(orders, 6) is None


# -- the shell's side ------------------------------------------------------------------------------------------
def intent(**kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": MARKET_SELL, "detail": '{"position_quantity": 3.0}', "created_at": 100.0,
                           "updated_at": None}
    return row | kw


def test_a_journal_row_as_the_verdict_reads_it() -> None:
    assert recorded_intent(intent()) == Recorded(MARKET_SELL, 3.0)
    assert recorded_intent(intent(kind=STOP_CANCEL, detail=None)) == Recorded(STOP_CANCEL, 0.0)
    assert recorded_intent(intent(detail='{"position_quantity": null}')) == Recorded(MARKET_SELL, 0.0)
    assert intent_since(intent()) == 100.0 and intent_since(intent(updated_at=150.0)) == 150.0


def test_what_a_snapshot_shows() -> None:
    snap = snapshot(position(quantity=2.0))
    since_ok = lambda t: t <= 100.0  # noqa: E731 - data fetched at 100
    seen = seen_now(snap, "TSLA_US_EQ", 100.0, since_ok, order=None)
    assert seen == Seen(True, False, 2.0, False, False)
    assert seen_now(snap, "TSLA_US_EQ", 101.0, since_ok, order=None).fresh_since_request is False
    assert seen_now(snap, "AAPL_US_EQ", 100.0, since_ok, order=order(1), within_grace=True) == Seen(
        True, True, None, False, True)
    stale = snapshot(position(), stale=True)
    assert seen_now(stale, "TSLA_US_EQ", 0.0, lambda _t: True, order=None).fresh_since_request is False
    doubt = snapshot(position(data_note="quantity: null"))
    assert seen_now(doubt, "TSLA_US_EQ", 0.0, lambda _t: True, order=None).position_in_doubt is True
    units = snapshot(position(units_note="the average is ~100x the price"))
    assert seen_now(units, "TSLA_US_EQ", 0.0, lambda _t: True, order=None).position_in_doubt is True
