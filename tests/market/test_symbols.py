"""T212 ticker -> Yahoo symbol, and currency scaling."""

from __future__ import annotations

import pytest

from papishares.market.symbols import scale_factor, yahoo_symbol
from papishares.models import Instrument


@pytest.mark.parametrize(
    ("ticker", "short_name", "expected"),
    [
        ("AAPL_US_EQ", "AAPL", "AAPL"),
        ("FB_US_EQ", "META", "META"),  # renamed: built from shortName, never from the ticker
        ("BRK_B_US_EQ", "BRK.B", "BRK-B"),
        ("RRl_EQ", "RR", "RR.L"),
        ("RRl_EQ", "RR.", "RR.L"),
        ("BTl_EQ", "BT.A", "BT-A.L"),
        ("VUSAl_EQ", "VUSA", "VUSA.L"),
        ("SAPd_EQ", "SAP", "SAP.DE"),
        ("ASMLa_EQ", "ASML", "ASML.AS"),
        ("MCp_EQ", "MC", "MC.PA"),
        ("WDO_CA_EQ", "WDO", "WDO.TO"),
        ("LLOYl_EQ", "", "LLOY.L"),  # no shortName: the ticker's stem
    ],
)
def test_yahoo_symbol(ticker: str, short_name: str, expected: str) -> None:
    assert yahoo_symbol(ticker, short_name) == expected


def test_override_wins_and_instruments_are_accepted() -> None:
    fb = Instrument("FB_US_EQ", "Meta Platforms", "META", "USD")
    assert yahoo_symbol(fb) == "META"
    assert yahoo_symbol(fb, override=" META2 ") == "META2"
    assert yahoo_symbol("XYZ_ZZ_EQ", "XYZ") is None  # unknown shape: not guessed


@pytest.mark.parametrize(
    ("source", "quote", "factor"),
    [
        ("GBp", "GBX", 1.0),
        ("GBP", "GBX", 100.0),  # a GBP-quoted .L ETF for a GBX instrument
        ("GBp", "GBP", 0.01),
        ("GBP", "GBP", 1.0),  # a GBP-quoted .L ETF for a GBP instrument
        ("GBX", "GBP", 0.01),
        ("USD", "USD", 1.0),
        ("EUR", "EUR", 1.0),
        ("ZAc", "ZAR", 0.01),
    ],
)
def test_scale_factor(source: str, quote: str, factor: float) -> None:
    assert scale_factor(source, quote) == factor


@pytest.mark.parametrize(("source", "quote"), [("USD", "GBX"), ("GBp", "USD"), ("EUR", "GBP"), (None, "GBX"),
                                               ("", "USD"), ("USD", None)])
def test_scale_factor_refuses_what_cannot_be_scaled(source: str | None, quote: str | None) -> None:
    assert scale_factor(source, quote) is None
