"""The universe: index presets (offline), watchlist file and table, held positions, T212 matching."""

from __future__ import annotations

from papishares.core.models import PositionView
from papishares.demo import simulation
from papishares.entries.universe import (
    add_to_watchlist,
    build_universe,
    guess_currency,
    index_members,
    index_name,
    read_watchlist_file,
    remove_from_watchlist,
    stored_watchlist,
)
from papishares.store.db import Store


def test_index_names_people_type_map_to_presets() -> None:
    assert index_name("FTSE 100") == "FTSE 100"
    assert index_name("ftse100") == "FTSE 100"
    assert index_name("S&P500") == "S&P 500"
    assert index_name("CAC 40") == "CAC_40"
    assert index_name("Nowhere 7") is None


def test_presets_give_yahoo_symbols_offline() -> None:
    ftse = index_members("FTSE 100")
    assert 90 <= len(ftse) <= 110 and all(s.endswith(".L") for s, _, _ in ftse)
    assert "RR.L" in {s for s, _, _ in ftse}
    sp = {s for s, _, _ in index_members("S&P 500")}
    assert len(sp) > 450 and "BRK-B" in sp and "BRK.B" not in sp


def test_currency_from_the_suffix() -> None:
    assert guess_currency("RR.L") == "GBX"
    assert guess_currency("SAP.DE") == "EUR"
    assert guess_currency("AAPL") == "USD"
    assert guess_currency("USDGBP=X") == "GBP"


def test_watchlist_file_and_table(tmp_path) -> None:
    path = tmp_path / "watch.txt"
    path.write_text("# comment\naapl\nRR.L # Rolls\n\nAAPL\nbad symbol here\n")
    assert read_watchlist_file(path) == ["AAPL", "RR.L"]
    assert read_watchlist_file(tmp_path / "missing.txt") == []
    store = Store(tmp_path / "db.sqlite")
    assert add_to_watchlist(store, " tsla ") == "TSLA"
    assert add_to_watchlist(store, "no way") is None
    add_to_watchlist(store, "TSLA")
    assert stored_watchlist(store) == ["TSLA"]
    remove_from_watchlist(store, "tsla")
    assert stored_watchlist(store) == []


def held(ticker: str, symbol: str, currency: str) -> PositionView:
    return PositionView(ticker=ticker, short_name=symbol, name=ticker, currency=currency, quantity=1,
                        quantity_available=1, average_price=1, current_price=1, profit_pct=0, max_price=1,
                        stop_loss_price=None, stop_loss_percentage=None, stop_loss_note=None,
                        manual_stop_loss_price=None, manual_stop_loss_quantity=0, macd_signal=None,
                        macd_crossover=None, sma_17=None, yahoo_symbol=symbol)


def test_build_universe_merges_sources_and_matches_trading212() -> None:
    # Issue 9: T212 instruments are matched through the one symbol mapping, which needs the exchanges.
    members, notes = build_universe(
        ["FTSE 100", "Atlantis 5"], ["TSLA", "RR.L"], [held("RRl_EQ", "RR.L", "GBX")], simulation.instruments(),
        exchanges=simulation.exchanges(1_795_000_000),
    )
    by = {m.symbol: m for m in members}
    assert notes and "Atlantis 5" in notes[0]
    rr = by["RR.L"]
    assert rr.sources == ("FTSE 100", "watchlist", "held") and rr.held and rr.watched
    assert rr.t212_ticker == "RRl_EQ" and rr.tradable and rr.quote_currency == "GBX"
    assert by["TSLA"].t212_ticker == "TSLA_US_EQ" and by["TSLA"].watched and not by["TSLA"].held
    assert by["AZN.L"].t212_ticker == "AZNl_EQ"  # matched by its Yahoo symbol from shortName
    assert by["III.L"].tradable is False and by["III.L"].t212_ticker is None
    assert not by["III.L"].watched
    no_meta, _ = build_universe(["FTSE 100"], [], [], {})
    assert all(m.tradable is None for m in no_meta)  # without metadata, nobody can tell


def test_without_exchanges_no_instrument_is_matched_by_its_ticker_text() -> None:
    members, _ = build_universe([], ["TSLA", "AZN.L"], [], simulation.instruments())
    assert all(m.t212_ticker is None for m in members)
