"""Where the cancel of a managed stop for a /sell stands (papishares.orders.sell_release.follow), directly."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from papishares.orders.journal import STOP_CANCEL
from papishares.orders.sell_release import DONE, SELL, WAIT, follow
from tests.notify.test_rules import position, snapshot

TSLA = "TSLA_US_EQ"
WHERE = {"gone": None, "smaller": 2.0, "same": 3.0}  # the position now; 3 when the cancel was recorded
STATUSES = ("intent", "unknown", "not_cancelled", "cancelled", "filled", "rejected")


def release(status: str) -> dict[str, Any]:
    return {"key": "tgsell:c1:release", "kind": STOP_CANCEL, "ticker": TSLA, "status": status,
            "broker_order_id": 42, "created_at": 100.0, "updated_at": 110.0,
            "detail": json.dumps({"position_quantity": 3.0, "note": "Cancel of order 42 refused: 404."})}


def expected(status: str, fresh: bool, doubt: bool, where: str) -> tuple[str, str]:
    if status in ("intent", "unknown"):
        return WAIT, "releasing"  # the keeper reconciles it first
    if status == "not_cancelled":
        return DONE, "rejected"
    if status == "filled":
        return DONE, "filled"
    if not fresh:
        return WAIT, "releasing"
    if status == "cancelled":
        return SELL, "releasing"
    if doubt and where != "gone":
        return WAIT, "releasing"
    return (DONE, "filled") if where != "same" else (DONE, "rejected")


@pytest.mark.parametrize(("status", "fresh", "doubt", "where"),
                         list(itertools.product(STATUSES, (False, True), (False, True), WHERE)))
def test_every_state_of_the_release(status: str, fresh: bool, doubt: bool, where: str) -> None:
    quantity = WHERE[where]
    snap = snapshot() if quantity is None else snapshot(position(
        quantity=quantity, data_note="quantity: null" if doubt else None))
    step, request_status, note = follow(None, release(status), snap,  # type: ignore[arg-type]
                                        lambda t: fresh and t <= 110.0)
    assert (step, request_status) == expected(status, fresh, doubt, where)
    if step == DONE:
        assert "Nothing more was sent" in note and "order 42" in note
    if request_status == "rejected" and status == "rejected":
        assert "Cancel of order 42 refused: 404" in note  # the broker's answer, said to the user


def test_data_from_before_the_cancel_never_releases_the_sale() -> None:
    snap = snapshot(position(quantity=3.0))
    assert follow(None, release("cancelled"), snap, lambda t: t <= 105.0)[0] == WAIT  # type: ignore[arg-type]
    assert follow(None, release("cancelled"), snapshot(position(), stale=True),  # type: ignore[arg-type]
                  lambda _t: True)[0] == WAIT
