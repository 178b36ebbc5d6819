"""Trading 212 ticker -> Yahoo symbol, and the scale between two quote currencies.

Trading 212 keeps old tickers after renames (`FB_US_EQ` is META), so the Yahoo symbol is built
from `shortName` with a suffix chosen by the ticker's shape; a per-ticker override always wins.
The currency is never inferred from the suffix: London lines quote in pence or pounds (or USD).

>>> yahoo_symbol("FB_US_EQ", "META"), yahoo_symbol("BRK_B_US_EQ", "BRK.B"), yahoo_symbol("RRl_EQ", "RR")
('META', 'BRK-B', 'RR.L')
>>> scale_factor("GBp", "GBX"), scale_factor("GBP", "GBX"), scale_factor("GBp", "GBP")
(1.0, 100.0, 0.01)
"""

from __future__ import annotations

from papishares.models import Instrument

# ticker ending -> Yahoo suffix (US lines have none). Checked in this order.
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_US_EQ", ""),
    ("_CA_EQ", ".TO"),
    ("l_EQ", ".L"),
    ("d_EQ", ".DE"),
    ("a_EQ", ".AS"),
    ("p_EQ", ".PA"),
)

# Minor units: exact spelling first (Yahoo's "GBp" is pence, "GBP" pounds), then upper-cased.
MINOR_UNITS: dict[str, tuple[str, float]] = {
    "GBp": ("GBP", 0.01), "GBX": ("GBP", 0.01), "GBx": ("GBP", 0.01),
    "ZAc": ("ZAR", 0.01), "ZAC": ("ZAR", 0.01), "ZAX": ("ZAR", 0.01),
    "ILA": ("ILS", 0.01), "ILa": ("ILS", 0.01),
}


def _stem(ticker: str, suffix: str) -> str:
    return ticker[: -len(suffix)]


def yahoo_symbol(instrument_or_ticker: Instrument | str, short_name: str | None = None,
                 override: str | None = None) -> str | None:
    """The Yahoo symbol for a Trading 212 instrument, or None for a ticker shape we cannot map."""
    if override and override.strip():
        return override.strip()
    if isinstance(instrument_or_ticker, Instrument):
        ticker = instrument_or_ticker.ticker
        short_name = short_name or instrument_or_ticker.short_name
    else:
        ticker = instrument_or_ticker
    for ending, suffix in SUFFIXES:
        if ticker.endswith(ending):
            base = (short_name or "").strip() or _stem(ticker, ending)
            if suffix in ("", ".TO"):
                return base.replace(".", "-").replace("/", "-").upper() + suffix
            # London EPICs may end in a dot ("BT.A", sometimes "RR."): Yahoo writes "BT-A.L", "RR.L".
            return base.rstrip(".").replace(".", "-").replace("/", "-").upper() + suffix
    return None


def _unit(currency: str) -> tuple[str, float]:
    if currency in MINOR_UNITS:
        return MINOR_UNITS[currency]
    return currency.upper(), 1.0


def scale_factor(source_currency: str | None, quote_currency: str | None) -> float | None:
    """Multiply prices quoted in `source_currency` by this to get `quote_currency` (None: cannot)."""
    if not source_currency or not quote_currency:
        return None
    src_major, src_factor = _unit(source_currency.strip())
    dst_major, dst_factor = _unit(quote_currency.strip())
    if src_major != dst_major:
        return None
    return round(src_factor / dst_factor, 10)
