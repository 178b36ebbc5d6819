"""The demo universe and its deterministic price simulation.

`price(ticker, t, seed)` is a pure function of its arguments: every process (dashboard, CLI,
worker) that uses the same seed and clock sees the same price, with no shared state. A price is
a slow drift times a sum of sinusoids (periods from minutes to months, phases hashed from the
seed and ticker) plus a small hashed noise per 5-second bucket. `prices()` evaluates a whole
vector of times at once (synthetic daily history, lazy stop-order evaluation).

Exchange sessions (regular hours in local time, weekends and a few real holidays) live here too,
so the demo broker, its working schedules and the demo history all agree on when markets trade.

>>> price("AAPL_US_EQ", 1_795_000_000, 212) == price("AAPL_US_EQ", 1_795_000_000, 212)
True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from papishares.core.models import Exchange, Instrument, TimeEvent
from papishares.core.money import FIXED_TO_GBP

ACCOUNT_CURRENCY = "GBP"
START_VALUE = 15_000.0  # account value (GBP) the demo starts from
FX_TO_GBP = FIXED_TO_GBP  # the demo account trades at the fixed rates
NOISE_BUCKET_S = 5.0
YEAR_S = 365.25 * 86400
DRIFT_EPOCH = 1_767_225_600.0  # 2026-01-01T00:00Z: where the slow drift is 1.0
DAY = timedelta(days=1)


# -- exchanges ----------------------------------------------------------------------------------
def _days(*isos: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(d) for d in isos)


US_HOLIDAYS = _days(
    "2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19", "2025-07-04",
    "2025-09-01", "2025-11-27", "2025-12-25", "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03",
    "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25", "2027-01-01",
    "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05",
)
US_EARLY = {date(2025, 11, 28): time(13), date(2025, 12, 24): time(13), date(2026, 11, 27): time(13),
            date(2026, 12, 24): time(13)}
LSE_HOLIDAYS = _days(
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25",
    "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31",
    "2026-12-25", "2026-12-28", "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31",
)
LSE_EARLY = {date(2025, 12, 24): time(12, 30), date(2025, 12, 31): time(12, 30),
             date(2026, 12, 24): time(12, 30), date(2026, 12, 31): time(12, 30)}
XETRA_HOLIDAYS = _days(
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-12-24", "2025-12-25", "2025-12-26",
    "2025-12-31", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-24", "2026-12-25",
    "2026-12-31", "2027-01-01", "2027-03-26", "2027-03-29",
)
EURONEXT_HOLIDAYS = _days(
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-12-25", "2025-12-26", "2026-01-01",
    "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25", "2027-01-01", "2027-03-26", "2027-03-29",
)


@dataclass(frozen=True)
class Market:
    """One exchange's regular session in its own time zone (as Trading 212 schedules it)."""

    key: str
    id: int
    schedule_id: int
    name: str
    tz: str
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()
    early_close: dict[date, time] = field(default_factory=dict)

    def session(self, day: date) -> tuple[datetime, datetime] | None:
        """(open, close) in UTC for a trading day, None on weekends and holidays."""
        if day.weekday() >= 5 or day in self.holidays:
            return None
        zone = ZoneInfo(self.tz)
        opens = datetime.combine(day, self.opens, zone).astimezone(UTC)
        closes = datetime.combine(day, self.early_close.get(day, self.closes), zone).astimezone(UTC)
        return opens, closes


MARKETS: dict[str, Market] = {
    m.key: m
    for m in (
        Market("NYSE", 1, 101, "New York Stock Exchange", "America/New_York", time(9, 30), time(16),
               US_HOLIDAYS, US_EARLY),
        Market("NASDAQ", 2, 102, "NASDAQ", "America/New_York", time(9, 30), time(16), US_HOLIDAYS, US_EARLY),
        Market("LSE", 3, 103, "London Stock Exchange", "Europe/London", time(8), time(16, 30),
               LSE_HOLIDAYS, LSE_EARLY),
        Market("XETRA", 4, 104, "Deutsche Börse Xetra", "Europe/Berlin", time(9), time(17, 30), XETRA_HOLIDAYS),
        Market("AMS", 5, 105, "Euronext Amsterdam", "Europe/Amsterdam", time(9), time(17, 30), EURONEXT_HOLIDAYS),
        Market("PAR", 6, 106, "Euronext Paris", "Europe/Paris", time(9), time(17, 30), EURONEXT_HOLIDAYS),
    )
}


# -- instruments --------------------------------------------------------------------------------
Waves = tuple[tuple[float, float], ...]  # (period in seconds, relative amplitude)
CALM_WAVES: Waves = ((97 * 86400, 0.05), (23 * 86400, 0.035), (5.3 * 86400, 0.012), (1.37 * 86400, 0.005),  # periods off whole days: days differ
                     (3.31 * 3600, 0.003), (17.3 * 60, 0.0012))
# Wide enough that its trailing stop (about 3.6 % under its high) is crossed within the hour.
SWINGING_WAVES: Waves = (*CALM_WAVES, (43 * 60, 0.03))


@dataclass(frozen=True)
class DemoInstrument:
    ticker: str
    name: str
    short_name: str
    currency: str
    market: str
    base_price: float  # quote currency and scale (pence for GBX)
    isin: str | None = None
    type: str = "STOCK"
    held_quantity: float = 0.0
    held_weeks: int = 0
    avg_factor: float = 1.0  # average price = price when opened * this
    in_pies: float = 0.0
    waves: Waves = CALM_WAVES
    drift: float = 0.06  # per year
    noise: float = 0.0006

    @property
    def fx(self) -> float:
        return FX_TO_GBP[self.currency]

    @property
    def schedule_id(self) -> int:
        return MARKETS[self.market].schedule_id


UNIVERSE: dict[str, DemoInstrument] = {
    i.ticker: i
    for i in (
        # held (~£12.7k of positions plus ~£2.3k cash)
        DemoInstrument("AAPL_US_EQ", "Apple Inc", "AAPL", "USD", "NASDAQ", 230.0, "US0378331005",
                       held_quantity=10, held_weeks=9),
        DemoInstrument("MSFT_US_EQ", "Microsoft Corporation", "MSFT", "USD", "NASDAQ", 420.0, "US5949181045",
                       held_quantity=5, held_weeks=12),
        DemoInstrument("NVDA_US_EQ", "NVIDIA Corporation", "NVDA", "USD", "NASDAQ", 125.0, "US67066G1040",
                       held_quantity=30, held_weeks=6, avg_factor=0.82, waves=SWINGING_WAVES),
        DemoInstrument("FB_US_EQ", "Meta Platforms", "META", "USD", "NASDAQ", 580.0, "US30303M1027",
                       held_quantity=3, held_weeks=15),
        DemoInstrument("RRl_EQ", "Rolls-Royce Holdings", "RR", "GBX", "LSE", 600.0, "GB00B63H8491",
                       held_quantity=300, held_weeks=8),
        # worth less than the risk budget: its calculated stop is null
        DemoInstrument("LLOYl_EQ", "Lloyds Banking Group", "LLOY", "GBX", "LSE", 55.0, "GB0008706128",
                       held_quantity=150, held_weeks=20),
        DemoInstrument("VUSAl_EQ", "Vanguard S&P 500 UCITS ETF", "VUSA", "GBP", "LSE", 90.0, "IE00B3XXRP09",
                       type="ETF", held_quantity=20, held_weeks=30, in_pies=2),
        DemoInstrument("SAPd_EQ", "SAP SE", "SAP", "EUR", "XETRA", 240.0, "DE0007164600",
                       held_quantity=6, held_weeks=10),
        # not held: metadata, watchlists and the entries scanner
        DemoInstrument("BPl_EQ", "BP", "BP", "GBX", "LSE", 450.0, "GB0007980591"),
        DemoInstrument("HSBAl_EQ", "HSBC Holdings", "HSBA", "GBX", "LSE", 900.0, "GB0005405286"),
        DemoInstrument("AZNl_EQ", "AstraZeneca", "AZN", "GBX", "LSE", 11_000.0, "GB0009895292"),
        DemoInstrument("ULVRl_EQ", "Unilever", "ULVR", "GBX", "LSE", 4_500.0, "GB00B10RZP78"),
        DemoInstrument("SHELl_EQ", "Shell", "SHEL", "GBX", "LSE", 2_600.0, "GB00BP6MXD84"),
        DemoInstrument("VODl_EQ", "Vodafone Group", "VOD", "GBX", "LSE", 70.0, "GB00BH4HKS39"),
        DemoInstrument("VUAGl_EQ", "Vanguard S&P 500 UCITS ETF (Acc)", "VUAG", "GBP", "LSE", 95.0,
                       "IE00BFMXXD54", type="ETF"),
        DemoInstrument("SPXSl_EQ", "Invesco S&P 500 UCITS ETF", "SPXS", "USD", "LSE", 600.0,
                       "IE00B3YCGJ38", type="ETF"),
        DemoInstrument("GOOGL_US_EQ", "Alphabet Inc (Class A)", "GOOGL", "USD", "NASDAQ", 175.0, "US02079K3059"),
        DemoInstrument("AMZN_US_EQ", "Amazon.com", "AMZN", "USD", "NASDAQ", 200.0, "US0231351067"),
        DemoInstrument("TSLA_US_EQ", "Tesla", "TSLA", "USD", "NASDAQ", 250.0, "US88160R1014"),
        DemoInstrument("BRK_B_US_EQ", "Berkshire Hathaway (Class B)", "BRK.B", "USD", "NYSE", 470.0,
                       "US0846707026"),
        DemoInstrument("T_US_EQ", "AT&T <Inc>", "T", "USD", "NYSE", 22.0, "US00206R1023"),
        DemoInstrument("SIEd_EQ", "Siemens", "SIE", "EUR", "XETRA", 180.0, "DE0007236101"),
        DemoInstrument("ASMLa_EQ", "ASML Holding", "ASML", "EUR", "AMS", 700.0, "NL0010273215"),
        DemoInstrument("MCp_EQ", "LVMH Moët Hennessy Louis Vuitton", "MC", "EUR", "PAR", 650.0, "FR0000121014"),
    )
}

# The Yahoo-style symbol of each demo instrument (what csv/demo market data are asked for).
YAHOO_SYMBOLS = {
    "AAPL_US_EQ": "AAPL", "MSFT_US_EQ": "MSFT", "NVDA_US_EQ": "NVDA", "FB_US_EQ": "META", "RRl_EQ": "RR.L",
    "LLOYl_EQ": "LLOY.L", "VUSAl_EQ": "VUSA.L", "SAPd_EQ": "SAP.DE", "BPl_EQ": "BP.L", "HSBAl_EQ": "HSBA.L",
    "AZNl_EQ": "AZN.L", "ULVRl_EQ": "ULVR.L", "SHELl_EQ": "SHEL.L", "VODl_EQ": "VOD.L", "VUAGl_EQ": "VUAG.L",
    "SPXSl_EQ": "SPXS.L", "GOOGL_US_EQ": "GOOGL", "AMZN_US_EQ": "AMZN", "TSLA_US_EQ": "TSLA",
    "BRK_B_US_EQ": "BRK-B", "T_US_EQ": "T", "SIEd_EQ": "SIE.DE", "ASMLa_EQ": "ASML.AS", "MCp_EQ": "MC.PA",
}
TICKER_BY_SYMBOL = {s: t for t, s in YAHOO_SYMBOLS.items()}


# With several demo accounts each is a book of its own: the held instruments split between the
# first two books by these sets (later books alternate), and SHARED_TICKER is held in every book,
# in a different quantity after the first, so the same ticker is two positions.
BOOKS = (frozenset({"AAPL_US_EQ", "MSFT_US_EQ", "NVDA_US_EQ", "FB_US_EQ"}),
         frozenset({"RRl_EQ", "LLOYl_EQ", "SAPd_EQ"}))
SHARED_TICKER = "VUSAl_EQ"
BOOK_START_VALUES = (START_VALUE, 9_000.0)


def held(book: int | None = None) -> list[DemoInstrument]:
    """The instruments the demo account holds; `book` (several accounts: the account's position in
    PAPISHARES_ACCOUNTS) selects that account's own holdings."""
    everything = [i for i in UNIVERSE.values() if i.held_quantity > 0]
    if book is None:
        return everything
    own = BOOKS[book % len(BOOKS)]
    out = []
    for inst in everything:
        if inst.ticker == SHARED_TICKER:
            out.append(inst if book == 0 else replace(inst, held_quantity=inst.held_quantity * 1.5,
                                                      held_weeks=inst.held_weeks // 2, in_pies=0.0))
        elif inst.ticker in own:
            out.append(inst)
    return out


def start_value(book: int | None = None) -> float:
    """The value (GBP) a demo account starts from."""
    return START_VALUE if book is None else BOOK_START_VALUES[book % len(BOOK_START_VALUES)]


def instruments() -> dict[str, Instrument]:
    """The universe as Trading 212 metadata."""
    return {
        i.ticker: Instrument(
            ticker=i.ticker, name=i.name, short_name=i.short_name, currency=i.currency, type=i.type,
            isin=i.isin, working_schedule_id=i.schedule_id, max_open_quantity=100_000.0,
        )
        for i in UNIVERSE.values()
    }


# -- hashing (stable across processes, unlike hash()) -------------------------------------------
@lru_cache(maxsize=4096)
def _key(seed: int, name: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic is intended)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(key: int, counters: np.ndarray) -> np.ndarray:
    """Hashed uniform numbers in [-1, 1), one per integer counter."""
    c = np.asarray(counters, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = _mix(c * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key))
    return (h >> np.uint64(11)).astype(np.float64) * (2.0 / 2**53) - 1.0


def normal(key: int, counters: np.ndarray) -> np.ndarray:
    """Hashed standard normal numbers (Box-Muller over two hashed uniforms)."""
    c = np.asarray(counters, dtype=np.int64)
    u1 = (uniform(key, 2 * c) + 1.0) / 2.0
    u2 = (uniform(key, 2 * c + 1) + 1.0) / 2.0
    return np.sqrt(-2.0 * np.log(np.maximum(u1, 1e-300))) * np.cos(2 * np.pi * u2)


# -- prices -------------------------------------------------------------------------------------
def _generic(ticker: str, seed: int) -> DemoInstrument:
    base = 20.0 + (uniform(_key(seed, "base:" + ticker), np.array([0]))[0] + 1.0) * 140.0
    return DemoInstrument(ticker, ticker, ticker, "USD", "NYSE", round(float(base), 2))


def prices(ticker: str, times: np.ndarray | list[float], seed: int) -> np.ndarray:
    """Simulated prices (quote currency and scale, 2 decimals) of `ticker` at unix times `times`."""
    inst = UNIVERSE.get(ticker) or _generic(ticker, seed)
    t = np.asarray(times, dtype=np.float64)
    key = _key(seed, ticker)
    phases = (uniform(key ^ 0x5EED, np.arange(len(inst.waves))) + 1.0) * np.pi
    wave = np.zeros_like(t)
    for (period, amplitude), phase in zip(inst.waves, phases, strict=True):
        wave += amplitude * np.sin(2 * np.pi * t / period + phase)
    noise = inst.noise * uniform(key, np.floor(t / NOISE_BUCKET_S))
    drift = np.exp(inst.drift * (t - DRIFT_EPOCH) / YEAR_S)
    return np.round(inst.base_price * drift * (1.0 + wave + noise), 2)


def price(ticker: str, t: float, seed: int) -> float:
    return float(prices(ticker, [t], seed)[0])


# -- sessions -----------------------------------------------------------------------------------
def market_of(ticker: str) -> Market:
    inst = UNIVERSE.get(ticker)
    return MARKETS[inst.market if inst else "NYSE"]


def sessions(market: Market, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Sessions (UTC open, close) overlapping [start, end], oldest first."""
    out = []
    day = start.astimezone(UTC).date() - DAY
    last = end.astimezone(UTC).date() + DAY
    while day <= last:
        s = market.session(day)
        if s and s[1] >= start and s[0] <= end:
            out.append(s)
        day += DAY
    return out


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def is_session_open(market: Market, t: float) -> bool:
    moment = _utc(t)
    return any(o <= moment < c for o, c in sessions(market, moment, moment))


def open_mask(market: Market, times: np.ndarray) -> np.ndarray:
    """For each unix time, whether the market's regular session is open (vectorised)."""
    times = np.asarray(times, dtype=np.float64)
    if times.size == 0:
        return np.zeros(0, dtype=bool)
    spans = sessions(market, _utc(float(times.min())), _utc(float(times.max())))
    if not spans:
        return np.zeros(times.shape, dtype=bool)
    opens = np.array([o.timestamp() for o, _ in spans])
    closes = np.array([c.timestamp() for _, c in spans])
    idx = np.searchsorted(opens, times, side="right") - 1
    valid = idx >= 0
    return valid & (times < closes[np.clip(idx, 0, None)])


def next_open(market: Market, t: float) -> float | None:
    """The first session open at or after `t` (within 3 weeks)."""
    moment = _utc(t)
    for o, _ in sessions(market, moment, moment + timedelta(days=21)):
        if o >= moment:
            return o.timestamp()
    return None


def last_close(market: Market, t: float) -> float | None:
    """The latest session close at or before `t` (within 3 weeks)."""
    moment = _utc(t)
    closes = [c.timestamp() for _, c in sessions(market, moment - timedelta(days=21), moment) if c <= moment]
    return closes[-1] if closes else None


def quote_time(ticker: str, now: float, always_open: bool = False) -> float:
    """The moment whose price is quoted at `now`: now while open, else the last close (prices rest)."""
    if always_open:
        return now
    market = market_of(ticker)
    if is_session_open(market, now):
        return now
    closed_at = last_close(market, now)
    return now if closed_at is None else closed_at


def current_price(ticker: str, now: float, seed: int, always_open: bool = False) -> float:
    return price(ticker, quote_time(ticker, now, always_open), seed)


# -- Trading 212-shaped working schedules -------------------------------------------------------
SCHEDULE_BACK = timedelta(days=7)
SCHEDULE_AHEAD = timedelta(days=14)


def working_schedule(market: Market, now: float, always_open: bool = False) -> tuple[TimeEvent, ...]:
    """OPEN/CLOSE events from a week back to two weeks ahead (one long session when always open)."""
    moment = _utc(now)
    start, end = moment - SCHEDULE_BACK, moment + SCHEDULE_AHEAD
    if always_open:
        day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return TimeEvent(day0, "OPEN"), TimeEvent(end.replace(microsecond=0), "CLOSE")
    events: list[TimeEvent] = []
    for o, c in sessions(market, start, end):
        events += [TimeEvent(o, "OPEN"), TimeEvent(c, "CLOSE")]
    return tuple(events)


def exchanges(now: float, always_open: bool = False) -> list[Exchange]:
    return [
        Exchange(m.id, m.name, {m.schedule_id: working_schedule(m, now, always_open)}) for m in MARKETS.values()
    ]


def trading_days(market: Market, end: date, count: int) -> list[date]:
    """The last `count` trading days up to and including `end`, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        if market.session(day):
            days.append(day)
        day -= DAY
    return days[::-1]

