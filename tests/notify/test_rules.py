"""The pure alert rules: each event once, re-armed when its condition ends; texts safe for HTML."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from papishares.core.models import Account, PositionView, Snapshot
from papishares.notify import rules as alerts
from tests.fakes.telegram_server import html_error


def position(ticker: str = "TSLA_US_EQ", **kw: Any) -> PositionView:
    values: dict[str, Any] = dict(
        ticker=ticker, short_name=ticker.split("_")[0], name=f"{ticker} Inc", currency="USD", quantity=3.0,
        quantity_available=3.0, average_price=250.0, current_price=230.0, profit_pct=-8.0, max_price=250.0,
        stop_loss_price=206.0, stop_loss_percentage=17.6, stop_loss_note=None, manual_stop_loss_price=None,
        manual_stop_loss_quantity=0.0, macd_signal="NEUTRAL", macd_crossover=None, sma_17=None,
        fx=0.79, unrealised_pnl=-47.4, effective_stop=206.0, market_open=True, last_bar_date="2026-11-23",
    )
    values.update(kw)
    if "stop_breached" not in kw:
        stop = values["stop_loss_price"]
        values["stop_breached"] = stop is not None and values["current_price"] <= stop
    return PositionView(**values)


def snapshot(*positions: PositionView, risk: float = 3.0, threshold: float = 7.0, stale: bool = False,
             orders: tuple = ()) -> Snapshot:
    now = datetime.now(UTC)
    return Snapshot(generated_at=now, environment="t212-demo", account=Account("GBP", 15000.0, 1000.0),
                    positions=tuple(positions), orders=orders, total_risk_pct=risk,
                    total_risk_threshold_pct=threshold, data_time=now, stale=stale)


class Keys:
    """The worker's dedup store, in memory: apply plans as the Notifier does."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.sent: list[alerts.AlertEvent] = []
        self.previous: Snapshot | None = None

    def run(self, snap: Snapshot, autosell_on: bool = False) -> list[alerts.AlertEvent]:
        plan = alerts.evaluate(self.previous, snap, set(self.keys), autosell_on)
        self.keys -= set(plan.clear)
        new = [e for e in plan.events if e.key is None or e.key not in self.keys]
        self.keys |= {e.key for e in new if e.key}
        self.sent += new
        self.previous = snap
        return new


def test_stop_breach_alerts_once_until_the_price_recovers() -> None:
    k = Keys()
    assert k.run(snapshot(position(current_price=230.0))) == []
    first = k.run(snapshot(position(current_price=205.0)))
    assert [e.kind for e in first] == ["stop_breached"]
    assert k.run(snapshot(position(current_price=204.0))) == []
    assert k.run(snapshot(position(current_price=200.0))) == []
    assert k.run(snapshot(position(current_price=207.0))) == []  # recovered: re-armed
    again = k.run(snapshot(position(current_price=206.0)))  # at the stop counts as breached
    assert [e.kind for e in again] == ["stop_breached"]


def test_breach_text_has_ticker_name_price_stop_and_pnl() -> None:
    event = Keys().run(snapshot(position(current_price=200.0)), autosell_on=True)[0]
    text = event.plain
    for part in ("Stop breached: TSLA", "TSLA_US_EQ Inc", "$200.00", "stop $206.00", "-8.00%", "Auto-sell is on"):
        assert part in text, part
    assert html_error(event.text) is None


def test_a_suspect_price_does_not_alert_until_confirmed() -> None:
    k = Keys()
    k.run(snapshot(position(current_price=230.0)))
    assert k.run(snapshot(position(current_price=2.3, price_suspect=True))) == []
    confirmed = k.run(snapshot(position(current_price=2.3, price_suspect=False)))
    assert [e.kind for e in confirmed] == ["stop_breached"]


def test_a_reopened_position_alerts_afresh() -> None:
    k = Keys()
    assert len(k.run(snapshot(position(current_price=200.0)))) == 1
    k.run(snapshot())  # sold
    assert len(k.run(snapshot(position(current_price=200.0)))) == 1


def test_macd_crossover_once_per_symbol_bar_and_direction() -> None:
    k = Keys()
    bull = position(macd_crossover="BULLISH", last_bar_date="2026-11-23", yahoo_symbol="TSLA")
    assert [e.kind for e in k.run(snapshot(bull))] == ["macd_crossover"]
    assert k.run(snapshot(bull)) == []
    assert k.run(snapshot(bull)) == []
    bear_same_day = replace(bull, macd_crossover="BEARISH")
    assert [e.kind for e in k.run(snapshot(bear_same_day))] == ["macd_crossover"]
    next_bar = replace(bull, last_bar_date="2026-11-24")
    assert len(k.run(snapshot(next_bar))) == 1
    assert k.run(snapshot(replace(bull, macd_crossover=None, last_bar_date="2026-11-25"))) == []


def test_total_risk_alerts_when_rising_above_the_threshold_once() -> None:
    k = Keys()
    assert k.run(snapshot(risk=6.9)) == []
    up = k.run(snapshot(risk=7.2))
    assert [e.kind for e in up] == ["risk_above"] and "7.20%" in up[0].plain
    assert k.run(snapshot(risk=8.0)) == []
    assert k.run(snapshot(risk=6.0)) == []
    assert len(k.run(snapshot(risk=7.5))) == 1


def test_a_stale_snapshot_raises_and_clears_nothing() -> None:
    k = Keys()
    k.run(snapshot(position(current_price=200.0), risk=9.0))
    before = set(k.keys)
    assert alerts.evaluate(None, snapshot(position(current_price=230.0), risk=1.0, stale=True), before) == \
        alerts.AlertPlan()


def test_names_are_html_escaped() -> None:
    p = position("VUSAl_EQ", short_name="VUSA", name="Vanguard S&P 500 <UCITS> ETF", currency="GBP",
                 current_price=80.0, stop_loss_price=85.0)
    event = Keys().run(snapshot(p))[0]
    assert "S&amp;P 500 &lt;UCITS&gt;" in event.text
    assert html_error(event.text) is None
    assert "S&P 500 <UCITS>" in event.plain
    sold = alerts.autosell_event("autosell_placed", p, "Sold 3 & done <ok>", "GBP")
    assert html_error(sold.text) is None


def test_money_formats() -> None:
    assert alerts.money(1350.0, "GBX") == "1,350.00p"
    assert alerts.money(-13.8, "GBP") == "-£13.80"
    assert alerts.money(5.0, "CHF") == "5.00 CHF"
    assert alerts.money(None, "USD") == "n/a"


def test_auth_alert_clears_after_a_good_snapshot() -> None:
    k = Keys()
    event = alerts.auth_rejected("Trading 212 rejected the API key (401)")
    k.keys.add(event.key or "")
    plan = alerts.evaluate(None, snapshot(), set(k.keys))
    assert alerts.AUTH_KEY in plan.clear


def test_units_mismatch_alerts_once_until_the_units_agree_again() -> None:
    k = Keys()
    note = "price 2.3 USD is 109x away from its average price 250: a pence/pounds mix-up until proven otherwise"
    doubt = position(current_price=2.3, stop_loss_price=None, units_note=note)
    first = k.run(snapshot(doubt))
    assert [e.kind for e in first] == ["units_mismatch"] and "109x" in first[0].plain
    assert k.run(snapshot(doubt)) == [] and k.run(snapshot(doubt)) == []  # once, not every cycle
    assert k.run(snapshot(position())) == []  # the units agree: the key is cleared
    assert [e.kind for e in k.run(snapshot(doubt))] == ["units_mismatch"]  # a new mix-up alerts anew
    assert k.run(snapshot()) == []  # position gone: cleared too
    assert [e.kind for e in k.run(snapshot(doubt))] == ["units_mismatch"]
    assert "&lt;" in alerts.evaluate(None, snapshot(replace(doubt, units_note="a <b> note")), set()).events[0].text
