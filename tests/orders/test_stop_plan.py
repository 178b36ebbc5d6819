"""The pure plan for stops kept at the broker: every branch, and the ratchet as a sequence."""

from __future__ import annotations

from typing import Any

import pytest

from papishares.orders.stop_plan import (
    CANCEL,
    EMERGENCY,
    LEAVE,
    MOVE,
    PLACE,
    Managed,
    StopInputs,
    StopPlan,
    StopSettings,
    acting_stop,
    by_urgency,
    plan,
    protection,
    release,
    tick_down,
)

ON = StopSettings(enabled=True, min_move_pct=0.5, interval=60.0, autosell_enabled=True)
T = "TSLA_US_EQ"


def inputs(**kw: Any) -> StopInputs:
    values: dict[str, Any] = dict(ticker=T, quantity=3.0, available=3.0, current_price=230.0,
                                  calculated_stop=206.123)
    values.update(kw)
    if kw.get("managed") is not None and "available" not in kw:  # the managed order reserves its shares
        values["available"] = values["quantity"] - kw["managed"].quantity
    return StopInputs(**values)


def held(stop: float = 206.12, qty: float = 3.0) -> Managed:
    return Managed(order_id=77, stop_price=stop, quantity=qty)


def test_tick_down_never_rounds_up() -> None:
    assert tick_down(206.129) == 206.12
    assert tick_down(206.1) == 206.1  # no float artefact takes a cent off
    assert tick_down(0.56789) == 0.5678
    assert tick_down(1.0) == 1.0
    assert tick_down(0.0) == 0.0 and tick_down(-3.0) == 0.0 and tick_down(float("nan")) == 0.0


def test_places_one_stop_for_the_available_quantity_at_the_rounded_down_stop() -> None:
    p = plan(inputs(available=2.123456), ON, 0.0)
    assert (p.action, p.reason, p.stop_price, p.quantity) == (PLACE, "unprotected", 206.12, 2.1234)
    assert plan(inputs(available=2.129, learned_decimals=1), ON, 0.0).quantity == 2.1


def test_the_users_pending_sells_keep_their_shares() -> None:
    # 3 held, the user's stop reserves 1: available is 2, the managed stop covers those 2 only
    assert plan(inputs(available=2.0), ON, 0.0).quantity == 2.0
    # the user's sells reserve every share: nothing to place
    assert plan(inputs(available=0.0), ON, 0.0).reason == "nothing_available"


@pytest.mark.parametrize(("change", "reason"), [
    ({"excluded": True}, "excluded"),
    ({"refused": True}, "refused"),
    ({"price_ok": False}, "bad_price"),
    ({"calculated_stop": None}, "no_stop"),
    ({"calculated_stop": 0.0}, "no_stop"),
    ({"current_price": 206.0}, "at_or_below_stop"),
    ({"current_price": 206.121}, "at_or_below_stop"),  # above the cent-rounded stop, below the calculated: a breach
])
def test_leaves_without_a_managed_stop(change: dict[str, Any], reason: str) -> None:
    p = plan(inputs(**change), ON, 0.0)
    assert (p.action, p.reason) == (LEAVE, reason) and not p.sends


def test_off_or_excluded_cancels_a_managed_stop() -> None:
    off = StopSettings(enabled=False)
    assert plan(inputs(), off, 0.0).action == LEAVE
    p = plan(inputs(managed=held()), off, 0.0)
    assert (p.action, p.reason, p.cancel_id) == (CANCEL, "off", 77)
    assert plan(inputs(managed=held(), excluded=True), ON, 0.0).reason == "excluded"


def test_bad_data_never_moves_a_stop() -> None:
    for change in ({"price_ok": False, "calculated_stop": 220.0}, {"calculated_stop": None}):
        p = plan(inputs(managed=held(150.0), **change), ON, 0.0)
        assert p.action == LEAVE


def test_a_refusal_does_not_touch_a_stop_already_accepted() -> None:
    p = plan(inputs(managed=held(200.0), calculated_stop=210.0, refused=True), ON, 1000.0)
    assert p.action == MOVE


def test_moves_only_when_the_rise_matters_and_the_interval_passed() -> None:
    m = held(200.0)
    assert plan(inputs(managed=m, calculated_stop=200.99), ON, 1000.0).reason == "in_place"  # < 0.5 %
    p = plan(inputs(managed=m, calculated_stop=201.0), ON, 1000.0)  # exactly 0.5 %
    assert (p.action, p.reason, p.stop_price, p.quantity, p.cancel_id) == (MOVE, "ratchet", 201.0, 3.0, 77)
    assert plan(inputs(managed=m, calculated_stop=205.0, last_move_at=990.0), ON, 1000.0).reason == "interval"
    assert plan(inputs(managed=m, calculated_stop=205.0, last_move_at=940.0), ON, 1000.0).action == MOVE
    any_cycle = StopSettings(enabled=True, min_move_pct=0.0, interval=0.0)
    assert plan(inputs(managed=m, calculated_stop=200.01, last_move_at=1000.0), any_cycle, 1000.0).action == MOVE
    assert plan(inputs(managed=m, calculated_stop=200.0), any_cycle, 1000.0).action == LEAVE  # not higher


def test_never_down() -> None:
    p = plan(inputs(managed=held(210.0), calculated_stop=200.0), ON, 1000.0)
    assert p.action == LEAVE and p.stop_price == 210.0
    # more shares to cover re-places it, at the old (higher) price
    p = plan(inputs(managed=held(210.0, qty=3.0), available=2.0, quantity=5.0, calculated_stop=200.0), ON, 1000.0)
    assert (p.action, p.reason, p.stop_price, p.quantity) == (MOVE, "quantity", 210.0, 5.0)


def test_the_managed_order_counts_its_own_reserved_shares() -> None:
    # available is 0 because the managed order reserves all 3: not "nothing available", and no move
    assert plan(inputs(managed=held(), available=0.0), ON, 1000.0).reason == "in_place"


def test_emergency_exit_when_the_price_reaches_the_calculated_stop_above_the_managed_one() -> None:
    m = held(190.0)
    p = plan(inputs(managed=m, current_price=205.0, calculated_stop=206.0, last_move_at=999.0), ON, 1000.0)
    assert (p.action, p.reason, p.cancel_id) == (EMERGENCY, "price_at_stop", 77)
    # auto-sell off: the lower stop at the broker stays (it is still protection)
    off = StopSettings(enabled=True, autosell_enabled=False)
    assert plan(inputs(managed=m, current_price=205.0, calculated_stop=206.0), off, 1000.0).action == LEAVE
    # the market closed or its schedule unknown: auto-sell could not sell now, the lower stop stays
    for closed in (False, None):
        p = plan(inputs(managed=m, current_price=205.0, calculated_stop=206.0, market_open=closed), ON, 1000.0)
        assert (p.action, p.reason) == (LEAVE, "price_at_stop_market_closed")
    # the price at or below the managed stop: the broker's order acts, nothing is cancelled
    assert plan(inputs(managed=m, current_price=189.0, calculated_stop=206.0), ON, 1000.0).action == LEAVE


def test_a_move_never_places_at_or_above_the_price() -> None:
    # the broker's stop already at the price (it is about to fill): a quantity move would sell at once
    p = plan(inputs(managed=held(231.0, qty=2.0), available=1.0), ON, 1000.0)
    assert p.action == LEAVE and p.reason == "at_or_below_stop"


def test_ratchet_sequence_moves_up_step_by_step_and_never_down() -> None:
    managed: Managed | None = None
    moved_at: float | None = None
    placed: list[float] = []
    stops = [200.0, 200.5, 201.5, 201.0, 203.0, 203.5, 199.0, 210.0]
    for step, stop in enumerate(stops):
        now = step * 61.0
        p = plan(inputs(managed=managed, calculated_stop=stop, last_move_at=moved_at), ON, now)
        if p.action in (PLACE, MOVE):
            placed.append(p.stop_price)
            managed, moved_at = Managed(step, p.stop_price, p.quantity), now
    assert placed == [200.0, 201.5, 203.0, 210.0]
    assert placed == sorted(placed)


def test_urgency_order() -> None:
    plans = [StopPlan("A", MOVE, "ratchet", 99.0), StopPlan("B", PLACE, "unprotected", 90.0),
             StopPlan("C", PLACE, "unprotected", 95.0), StopPlan("D", EMERGENCY, "price_at_stop", 80.0),
             StopPlan("E", CANCEL, "off", 10.0)]
    order = [p.ticker for p in by_urgency(plans, {"A": 100.0, "B": 100.0, "C": 100.0, "D": 81.0, "E": 50.0})]
    assert order == ["D", "E", "C", "B", "A"]


@pytest.mark.parametrize(("args", "expected"), [
    ((10, 10, 0, 5.0, True), "manual"),
    ((10, 4, 6, 5.0, False), "broker"),
    ((10, 0, 10, 5.0, False), "broker"),
    ((10, 4, 0, 5.0, True), "partial"),
    ((10, 0, 6, 5.0, True), "partial"),
    ((10, 0, 0, 5.0, True), "worker"),
    ((10, 0, 0, 5.0, False), "alert"),
    ((10, 0, 0, None, True), "none"),
])
def test_protection(args: tuple[Any, ...], expected: str) -> None:
    assert protection(*args) == expected


def test_acting_stop_is_the_highest_that_acts() -> None:
    assert acting_stop(None, 190.0, 206.0, True) == 206.0
    assert acting_stop(None, 190.0, 206.0, False) == 190.0
    assert acting_stop(195.0, None, None, True) == 195.0
    assert acting_stop(None, None, 206.0, False) is None


def test_a_sell_under_way_neither_places_nor_moves_and_its_release_is_the_emergency_cancel() -> None:
    assert plan(inputs(selling=True), ON, 0.0).reason == "sell_requested"  # not placed: the /sell takes them
    moving = inputs(managed=held(150.0), selling=True)
    assert plan(moving, ON, 0.0) == StopPlan(T, LEAVE, "sell_requested", 150.0, 3.0)  # nor moved meanwhile
    assert release(T, held()) == StopPlan(T, EMERGENCY, "sell_requested", 206.12, 3.0, 77)
