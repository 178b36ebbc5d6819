"""Money in words: one sign table, pence stay pence, the minus before the sign, fixed rates."""

from __future__ import annotations

import pytest

from papishares.core import money


@pytest.mark.parametrize(("value", "currency", "text"), [
    (155.8, "USD", "$155.80"), (13.5, "GBP", "£13.50"), (2.0, "EUR", "€2.00"), (1500.0, "JPY", "¥1,500.00"),
    (1350.0, "GBX", "1,350.00p"), (9.5, "gbx", "9.50p"), (12.3, "CHF", "12.30 CHF"), (12.3, "chf", "12.30 CHF"),
    (5.0, None, "5.00"), (5.0, "", "5.00"), (-13.8, "GBP", "-£13.80"), (-2.5, "GBX", "-2.50p"),
    (-1.0, "CHF", "-1.00 CHF"), (0.0, "USD", "$0.00"), (1234567.891, "USD", "$1,234,567.89"),
])
def test_amount(value: float, currency: str | None, text: str) -> None:
    assert money.amount(value, currency) == text


@pytest.mark.parametrize(("value", "currency", "text"), [
    (1050.4, "GBP", "£1,050"), (100.0, "USD", "$100"), (99.994, "USD", "$99.99"), (85.2, "EUR", "€85.20"),
    (1050.0, "CHF", "1,050 CHF"), (1050.0, None, "1,050"), (-250.0, "GBP", "-£250"), (-5.5, "GBP", "-£5.50"),
])
def test_rounded(value: float, currency: str | None, text: str) -> None:
    assert money.rounded(value, currency) == text


def test_signs_are_one_table_for_every_front_end() -> None:
    from papishares.core import risk
    from papishares.notify import rules
    from papishares.ui import tables

    for code, symbol in money.SIGNS.items():
        assert money.sign(code) == money.sign(code.lower()) == symbol
        assert tables.price_text(1.0, code) == f"{symbol}1.00" == rules.money(1.0, code)
        assert tables.money_format(code) == f"{symbol}%.2f"
        assert f"({symbol}1,000)" in risk.stop_note(1000.0, 2000.0, 1.0, code)
    assert money.sign("CHF") is None and money.sign(None) is None


def test_fixed_rates_cross_through_pounds() -> None:
    assert money.fixed_rate("USD") == 0.79 and money.fixed_rate("gbx", "gbp") == 0.01
    assert money.fixed_rate("EUR", "USD") == pytest.approx(0.85 / 0.79)
    assert money.fixed_rate("USD", "USD") == 1.0
    assert money.fixed_rate("CHF") is None and money.fixed_rate("USD", "CHF") is None
