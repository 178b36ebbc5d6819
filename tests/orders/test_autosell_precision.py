"""Fractional sells against an emulator that refuses quantity decimals as the real broker does.

Over real HTTP: Trading212Client -> the fake Trading 212 (at most 4 decimals for every instrument,
fewer for some; the rejection names the precision ALLOWED, or with `reading="sent"` the one sent;
its words in problem-JSON `detail`, legacy `clarification` or `code`, or `message`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from papishares.store.quantities import learn_precision, learned_precision
from tests.fakes.t212_server import FakeTrading212
from tests.orders.test_autosell import Rig

FRAC = "FRAC_US_EQ"
HELD = 12.09032128  # 8 decimals, as real positions hold them
STYLES = ("problem", "clarification", "code", "message")


@pytest.fixture
def frac(t212_server: FakeTrading212, tmp_path: Path) -> Iterator[tuple[FakeTrading212, Rig]]:
    """A fractional US position worth ~1k GBP; its calculated stop sits near 88.8 USD."""
    t212_server.add_instrument(FRAC, "Fractional Inc", "FRAC", "USD", 51)
    t212_server.add_position(FRAC, HELD, 100.0, 100.0)
    rig = Rig(t212_server, tmp_path / "p.db")
    rig.store.set_autosell(True)
    yield t212_server, rig
    rig.close()


def breach_and_cycle(server: FakeTrading212, rig: Rig) -> None:
    rig.cycle(wait=False)  # the normal price is seen first
    server.set_price(FRAC, 80.0)  # through the stop, by less than the 50% that asks for confirmation
    rig.cycle()


def sent(server: FakeTrading212) -> list[float]:
    return [-s["body"]["quantity"] for s in server.sells() if s["body"]["ticker"] == FRAC]


def accepted(server: FakeTrading212) -> list[float]:
    return [-s["body"]["quantity"] for s in server.sells() if s["body"]["ticker"] == FRAC and s["status"] == 200]


def test_an_8_decimal_position_is_sold_truncated_to_4(frac: tuple[FakeTrading212, Rig]) -> None:
    server, rig = frac
    breach_and_cycle(server, rig)
    assert sent(server) == [12.0903]  # truncated, not rounded (12.09032128 -> 12.0903), first time right
    assert rig.intents()[0]["status"] == "filled"
    assert server.positions[FRAC].quantity == pytest.approx(HELD - 12.0903)  # the sub-4-decimal rest stays
    rig.cycle()
    assert accepted(server) == [12.0903]


@pytest.mark.parametrize(("style", "reading"), [*((s, "allowed") for s in STYLES), ("problem", "sent"),
                                                ("clarification", "sent"), ("message", "sent")])
def test_three_decimals_allowed_gives_one_retry_with_three(frac: tuple[FakeTrading212, Rig], style: str,
                                                           reading: str) -> None:
    server, rig = frac
    server.set_precision(FRAC, 3, style=style, reading=reading)
    breach_and_cycle(server, rig)
    assert sent(server) == [12.0903, 12.090]  # one retry, truncated to what is allowed
    assert accepted(server) == [12.090]
    assert [s["status"] for s in server.sells()] == [400, 200]
    assert learned_precision(rig.store, FRAC) == 3
    assert len(rig.journal("retry", ticker=FRAC)) == 1 and len(rig.journal("sold", ticker=FRAC)) == 1
    rig.cycle()
    assert len(accepted(server)) == 1  # never a second accepted sell for this breach


@pytest.mark.parametrize("style", STYLES)
def test_no_decimals_allowed_sells_whole_shares(frac: tuple[FakeTrading212, Rig], style: str) -> None:
    server, rig = frac
    server.set_precision(FRAC, 0, style=style)
    breach_and_cycle(server, rig)
    assert sent(server) == [12.0903, 12.0] and accepted(server) == [12.0]
    assert learned_precision(rig.store, FRAC) == 0
    assert server.positions[FRAC].quantity == pytest.approx(HELD - 12)


def test_the_other_reading_with_no_decimals_never_sells_twice(frac: tuple[FakeTrading212, Rig]) -> None:
    """Read as "the precision sent", a rejection says only that fewer are needed: one retry with one
    fewer, then the breach is rejected; what was learned (the retry's number proven too many) is kept."""
    server, rig = frac
    server.set_precision(FRAC, 0, reading="sent")
    breach_and_cycle(server, rig)
    assert sent(server) == [12.0903, 12.090] and accepted(server) == []
    assert rig.intents()[0]["status"] == "rejected"
    # the retry 12.090 went out as 12.09: "precision 2" refused names 2 as too many, so the next starts at 1
    assert learned_precision(rig.store, FRAC) == 1
    rig.cycle()
    rig.cycle()
    assert len(sent(server)) == 2  # one retry per breach, never a loop


def test_a_learned_precision_is_used_for_the_next_sell(frac: tuple[FakeTrading212, Rig]) -> None:
    server, rig = frac
    server.set_precision(FRAC, 2)
    learn_precision(rig.store, FRAC, 2)  # as a sell of this instrument taught it earlier
    breach_and_cycle(server, rig)
    assert sent(server) == [12.09] and accepted(server) == [12.09]  # no rejection this time


def test_a_rejection_without_a_number_retries_in_whole_shares_and_learns_nothing(
        frac: tuple[FakeTrading212, Rig]) -> None:
    server, rig = frac
    server.inject("POST", "/equity/orders/market", "json", status=400,
                  body={"code": "QuantityPrecisionMismatch", "clarification": "Quantity precision mismatch"})
    breach_and_cycle(server, rig)
    assert sent(server) == [12.0]  # the faulted first POST is answered before the order code records it
    assert server.count("POST", "/equity/orders/market") == 2 and accepted(server) == [12.0]
    assert learned_precision(rig.store, FRAC) is None
