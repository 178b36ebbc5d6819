"""T212 instrument -> Yahoo symbol through its exchange, and currency scaling.

Contract change (issue 9): the symbol is built from shortName and the instrument's EXCHANGE
(workingScheduleId -> the exchange owning that schedule), never from the ticker's text; without
the metadata there is no symbol. The old ticker-shape cases are kept below with their exchanges.
"""

from __future__ import annotations

import pytest

from papishares.core.models import Exchange, Instrument
from papishares.market.symbols import SymbolMapper, exchange_suffix, scale_factor, symbol_from

# Exchanges named as Trading 212 names them, one working schedule each (id = 100 + index).
T212_EXCHANGES = ["NASDAQ", "NYSE", "London Stock Exchange", "Deutsche Börse Xetra", "Euronext Paris",
                  "Euronext Amsterdam", "Borsa Italiana", "Bolsa de Madrid", "SIX Swiss Exchange", "Nasdaq Stockholm",
                  "Toronto Stock Exchange", "Euronext Brussels", "Euronext Lisbon", "Wiener Börse", "Oslo Børs",
                  "Nasdaq Copenhagen", "Nasdaq Helsinki", "London Stock Exchange AIM", "OTC Markets", "TSX Venture",
                  "Euronext Dublin", "Gettex", "Börse Frankfurt", "Euronext Milan", "London Stock Exchange NON-ISA"]
EXCHANGES = [Exchange(i, name, {100 + i: ()}) for i, name in enumerate(T212_EXCHANGES)]
SCHEDULE = {name: 100 + i for i, name in enumerate(T212_EXCHANGES)}


def inst(ticker: str, short: str, exchange: str, currency: str = "EUR") -> Instrument:
    return Instrument(ticker, ticker, short, currency, working_schedule_id=SCHEDULE[exchange])


@pytest.mark.parametrize(
    ("ticker", "short_name", "exchange", "expected"),
    [
        ("AAPL_US_EQ", "AAPL", "NASDAQ", "AAPL"),
        ("FB_US_EQ", "META", "NASDAQ", "META"),  # renamed: built from shortName, never from the ticker
        ("BRK_B_US_EQ", "BRK.B", "NYSE", "BRK-B"),
        ("RRl_EQ", "RR", "London Stock Exchange", "RR.L"),
        ("RRl_EQ", "RR.", "London Stock Exchange", "RR.L"),
        ("BTl_EQ", "BT.A", "London Stock Exchange", "BT-A.L"),
        ("CSP1_EQ", "CSP1", "London Stock Exchange", "CSP1.L"),  # London without the lowercase l
        ("IITU_EQ", "IITU", "London Stock Exchange", "IITU.L"),
        ("AIMx_EQ", "AIMX", "London Stock Exchange AIM", "AIMX.L"),
        ("SAPd_EQ", "SAP", "Deutsche Börse Xetra", "SAP.DE"),
        ("SXR8d_EQ", "SXR8", "Deutsche Börse Xetra", "SXR8.DE"),
        ("ASMLa_EQ", "ASML", "Euronext Amsterdam", "ASML.AS"),
        ("MCp_EQ", "MC", "Euronext Paris", "MC.PA"),
        ("ENIm_EQ", "ENI", "Borsa Italiana", "ENI.MI"),
        ("ISPm_EQ", "ISP", "Euronext Milan", "ISP.MI"),
        ("SANe_EQ", "SAN", "Bolsa de Madrid", "SAN.MC"),
        ("NESNz_EQ", "NESN", "SIX Swiss Exchange", "NESN.SW"),
        ("VOLV_B_EQ", "VOLV B", "Nasdaq Stockholm", "VOLV-B.ST"),
        ("WDO_CA_EQ", "WDO", "Toronto Stock Exchange", "WDO.TO"),
        ("SHOP_CA_EQ", "SHOP", "Toronto Stock Exchange", "SHOP.TO"),
        ("ABI_EQ", "ABI", "Euronext Brussels", "ABI.BR"),
        ("GALP_EQ", "GALP", "Euronext Lisbon", "GALP.LS"),
        ("OMV_EQ", "OMV", "Wiener Börse", "OMV.VI"),
        ("EQNR_EQ", "EQNR", "Oslo Børs", "EQNR.OL"),
        ("NOVO_B_EQ", "NOVO B", "Nasdaq Copenhagen", "NOVO-B.CO"),
        ("NOKIA_EQ", "NOKIA", "Nasdaq Helsinki", "NOKIA.HE"),
        ("TCEHY_US_EQ", "TCEHY", "OTC Markets", "TCEHY"),
        ("XYZ_CA_EQ", "XYZ", "TSX Venture", "XYZ.V"),
        ("RYA_EQ", "RYA", "Euronext Dublin", "RYA.IR"),
    ],
)
def test_symbol_from_short_name_and_exchange(ticker: str, short_name: str, exchange: str, expected: str) -> None:
    mapper = SymbolMapper(EXCHANGES)
    choice = mapper.resolve(ticker, inst(ticker, short_name, exchange))
    assert (choice.symbol, choice.reason, choice.exchange) == (expected, None, exchange)


def test_the_exchange_not_the_ticker_text_decides() -> None:
    # A ticker shaped like a London line whose instrument trades on Xetra is a Xetra symbol.
    mapper = SymbolMapper(EXCHANGES)
    assert mapper.symbol(inst("ODDl_EQ", "ODD", "Deutsche Börse Xetra")) == "ODD.DE"
    assert mapper.symbol(inst("ODD_US_EQ", "ODD", "London Stock Exchange")) == "ODD.L"


@pytest.mark.parametrize(
    ("instrument", "why"),
    [
        (None, "no Trading 212 instrument metadata"),
        (Instrument("LLOYl_EQ", "Lloyds", "", "GBX", working_schedule_id=102), "no shortName"),
        (Instrument("RRl_EQ", "Rolls", "RR", "GBX"), "no working schedule"),
        (Instrument("RRl_EQ", "Rolls", "RR", "GBX", working_schedule_id=999), "no Trading 212 exchange lists"),
    ],
)
def test_missing_metadata_gives_no_symbol_and_says_why(instrument: Instrument | None, why: str) -> None:
    choice = SymbolMapper(EXCHANGES).resolve("RRl_EQ", instrument)
    assert choice.symbol is None and why in (choice.reason or "")


def test_an_exchange_without_a_yahoo_suffix_gives_no_symbol() -> None:
    mapper = SymbolMapper([Exchange(1, "Cboe Europe", {7: ()}), Exchange(2, "Moon Exchange", {8: ()})])
    for sid in (7, 8):
        choice = mapper.resolve("X_EQ", Instrument("X_EQ", "X", "X", "EUR", working_schedule_id=sid))
        assert choice.symbol is None and "no Yahoo suffix" in (choice.reason or "")


def test_override_always_wins_even_without_metadata() -> None:
    mapper = SymbolMapper(EXCHANGES, {"FB_US_EQ": " META2 ", "ZZZ_EQ": "ZZZ.L", "EMPTY_EQ": "  "})
    assert mapper.resolve("FB_US_EQ", inst("FB_US_EQ", "META", "NASDAQ")).symbol == "META2"
    assert mapper.resolve("ZZZ_EQ", None).symbol == "ZZZ.L"
    assert mapper.resolve("EMPTY_EQ", None).symbol is None  # a blank override is no override


def test_exchange_names_are_matched_by_keywords() -> None:
    assert exchange_suffix("DEUTSCHE BOERSE XETRA") == ".DE"
    assert exchange_suffix("london stock exchange") == ".L"
    assert exchange_suffix("Nasdaq") == ""
    assert exchange_suffix("Nasdaq Stockholm AB") == ".ST"
    assert exchange_suffix("Cboe BZX") == ""
    assert exchange_suffix(None) is None and exchange_suffix("") is None
    assert symbol_from("700", ".HK") == "0700.HK"


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
