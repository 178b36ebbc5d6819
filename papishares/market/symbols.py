"""Trading 212 instrument -> Yahoo symbol (by its exchange), and the scale between two quote currencies.

The one mapping: the symbol is built from the instrument's `shortName` and its EXCHANGE, found as
instrument -> `workingScheduleId` -> the exchange whose `workingSchedules` hold that id. Never from
the ticker's text: Trading 212 keeps old tickers after renames (`FB_US_EQ` is META) and London
lines come with and without the lowercase `l` (`RRl_EQ`, `CSP1_EQ`). A per-ticker override always
wins. Without the metadata (no instrument, no shortName, no exchange for its schedule, an exchange
Yahoo has no suffix for) there is NO symbol, with the reason in words: no bars beat bars of
another company. The currency is never inferred from the suffix: London lines quote in pence or
pounds (or USD).

>>> nasdaq, lse = Exchange(1, "NASDAQ", {51: ()}), Exchange(57, "London Stock Exchange", {123: ()})
>>> fb = Instrument("FB_US_EQ", "Meta Platforms", "META", "USD", working_schedule_id=51)
>>> csp = Instrument("CSP1_EQ", "iShares Core S&P 500", "CSP1", "GBX", working_schedule_id=123)
>>> mapper = SymbolMapper([nasdaq, lse])
>>> mapper.symbol(fb), mapper.symbol(csp), mapper.resolve("XYZ_EQ", None).reason
('META', 'CSP1.L', 'no Trading 212 instrument metadata for XYZ_EQ')
>>> scale_factor("GBp", "GBX"), scale_factor("GBP", "GBX"), scale_factor("GBp", "GBP")
(1.0, 100.0, 0.01)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from papishares.core.models import Exchange, Instrument

US = ""  # US listings have no Yahoo suffix
# (words that must all appear in the exchange's name, words that must not, Yahoo suffix), first match
# wins: more specific names come first ("Nasdaq Stockholm" before "Nasdaq", "TSX Venture" before
# "Toronto"). Names are compared lower-cased, accents folded ("Börse" = "borse"), "boerse" = "borse".
EXCHANGE_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("nasdaq", "stockholm"), (), ".ST"),
    (("stockholm",), (), ".ST"),
    (("nasdaq", "copenhagen"), (), ".CO"),
    (("copenhagen",), (), ".CO"),
    (("nasdaq", "helsinki"), (), ".HE"),
    (("helsinki",), (), ".HE"),
    (("iceland",), (), ".IC"),
    (("tallinn",), (), ".TL"),
    (("riga",), (), ".RG"),
    (("vilnius",), (), ".VS"),
    (("venture",), (), ".V"),  # TSX Venture Exchange
    (("tsxv",), (), ".V"),
    (("toronto",), (), ".TO"),
    (("tsx",), (), ".TO"),
    (("neo",), ("london",), ".NE"),  # Cboe Canada (formerly NEO)
    (("london",), (), ".L"),  # also "London Stock Exchange AIM", "... NON-ISA"
    (("lse",), (), ".L"),
    (("xetra",), (), ".DE"),
    (("gettex",), (), ".MU"),  # Munich's venue
    (("munich",), (), ".MU"),
    (("munchen",), (), ".MU"),
    (("stuttgart",), (), ".SG"),
    (("frankfurt",), (), ".F"),
    (("berlin",), (), ".BE"),
    (("dusseldorf",), (), ".DU"),
    (("hamburg",), (), ".HM"),
    (("hannover",), (), ".HA"),
    (("paris",), (), ".PA"),
    (("amsterdam",), (), ".AS"),
    (("brussels",), (), ".BR"),
    (("bruxelles",), (), ".BR"),
    (("lisbon",), (), ".LS"),
    (("lisboa",), (), ".LS"),
    (("dublin",), (), ".IR"),
    (("irish",), (), ".IR"),
    (("oslo",), (), ".OL"),
    (("milan",), (), ".MI"),
    (("milano",), (), ".MI"),
    (("borsa", "italiana"), (), ".MI"),
    (("madrid",), (), ".MC"),
    (("bme",), (), ".MC"),
    (("spanish",), (), ".MC"),
    (("six",), (), ".SW"),
    (("swiss",), (), ".SW"),
    (("zurich",), (), ".SW"),
    (("wiener",), (), ".VI"),
    (("vienna",), (), ".VI"),
    (("prague",), (), ".PR"),
    (("warsaw",), (), ".WA"),
    (("budapest",), (), ".BD"),
    (("athens",), (), ".AT"),
    (("istanbul",), (), ".IS"),
    (("borsa", "istanbul"), (), ".IS"),
    (("johannesburg",), (), ".JO"),
    (("tel", "aviv"), (), ".TA"),
    (("hong", "kong"), (), ".HK"),
    (("hkex",), (), ".HK"),
    (("tokyo",), (), ".T"),
    (("australian",), (), ".AX"),
    (("asx",), (), ".AX"),
    (("singapore",), (), ".SI"),
    (("nasdaq",), (), US),
    (("nyse",), (), US),
    (("new", "york"), (), US),
    (("otc",), (), US),
    (("amex",), (), US),
    (("arca",), (), US),
    (("cboe",), ("europe", "canada", "uk", "australia", "japan"), US),
    (("bats",), ("europe",), US),
)

# Minor units: exact spelling first (Yahoo's "GBp" is pence, "GBP" pounds), then upper-cased.
MINOR_UNITS: dict[str, tuple[str, float]] = {
    "GBp": ("GBP", 0.01), "GBX": ("GBP", 0.01), "GBx": ("GBP", 0.01),
    "ZAc": ("ZAR", 0.01), "ZAC": ("ZAR", 0.01), "ZAX": ("ZAR", 0.01),
    "ILA": ("ILS", 0.01), "ILa": ("ILS", 0.01),
}


def _words(name: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("boerse", "borse")
    return set(re.split(r"[^a-z0-9]+", folded)) - {""}


def exchange_suffix(name: str | None) -> str | None:
    """The Yahoo suffix for an exchange named as Trading 212 names it ("" for US), None when unknown.

    >>> exchange_suffix("Deutsche Börse Xetra"), exchange_suffix("NYSE"), exchange_suffix("Moon Exchange")
    ('.DE', '', None)
    """
    words = _words(name or "")
    for needed, excluded, suffix in EXCHANGE_RULES:
        if all(w in words for w in needed) and not any(w in words for w in excluded):
            return suffix
    return None


def symbol_from(short_name: str, suffix: str) -> str:
    """Yahoo's spelling: `.`, `/` and spaces inside the name become `-` (`BRK.B` -> `BRK-B`,
    `BT.A` -> `BT-A.L`); a trailing dot goes (`RR.` -> `RR.L`); Hong Kong codes have 4 digits."""
    base = short_name.strip().rstrip(".").upper()
    base = re.sub(r"[./\s]+", "-", base)
    if suffix == ".HK" and base.isdigit():
        base = base.zfill(4)
    return base + suffix


@dataclass(frozen=True)
class SymbolChoice:
    symbol: str | None
    reason: str | None = None  # why there is no symbol (None when there is one)
    exchange: str | None = None  # the exchange's name, when found


class SymbolMapper:
    """Maps instruments to Yahoo symbols through their exchanges (built once per snapshot/scan)."""

    def __init__(self, exchanges: Iterable[Exchange], overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = {t: s.strip() for t, s in (overrides or {}).items() if s and s.strip()}
        self._by_schedule: dict[int, Exchange] = {}
        for exchange in exchanges:
            for sid in exchange.schedules:
                self._by_schedule.setdefault(sid, exchange)

    def exchange_of(self, instrument: Instrument | None) -> Exchange | None:
        if instrument is None or instrument.working_schedule_id is None:
            return None
        return self._by_schedule.get(instrument.working_schedule_id)

    def resolve(self, ticker: str, instrument: Instrument | None) -> SymbolChoice:
        exchange = self.exchange_of(instrument)
        name = exchange.name if exchange else None
        if ticker in self.overrides:
            return SymbolChoice(self.overrides[ticker], None, name)
        if instrument is None:
            return SymbolChoice(None, f"no Trading 212 instrument metadata for {ticker}")
        if not instrument.short_name.strip():
            return SymbolChoice(None, f"Trading 212 gives no shortName for {ticker}", name)
        if instrument.working_schedule_id is None:
            return SymbolChoice(None, f"Trading 212 gives no working schedule for {ticker}, so its exchange "
                                "is unknown")
        if exchange is None:
            return SymbolChoice(None, f"no Trading 212 exchange lists working schedule "
                                f"{instrument.working_schedule_id} of {ticker}")
        suffix = exchange_suffix(exchange.name)
        if suffix is None:
            return SymbolChoice(None, f"no Yahoo suffix is known for the exchange {exchange.name!r}", name)
        return SymbolChoice(symbol_from(instrument.short_name, suffix), None, name)

    def symbol(self, instrument: Instrument) -> str | None:
        return self.resolve(instrument.ticker, instrument).symbol


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
