"""FX rates into the account currency for sizing entry candidates.

A rate is "account currency per quoted unit", like the snapshot's `fx`: GBX (pence) in a GBP account
is 0.01. Real rates come from Yahoo currency pairs ("USDGBP=X") requested in the SAME batched
market-data call as the universe's bars, and are kept in the SQLite kv table so a later scan without
them (Yahoo down, a CSV directory without pair files) still sizes. The demo market data uses the
fixed rates (`papishares.core.money.FIXED_TO_GBP`, the one table of them, which the demo account
trades at); a real account falls back on them only when no quote was ever seen.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from papishares.core.models import Bars, SymbolRequest
from papishares.core.money import fixed_rate
from papishares.store.db import Store
from papishares.store.keys import KeyFamily

# sub-unit quotes: currency -> (main currency, main units per quoted unit)
SUBUNITS = {"GBX": ("GBP", 0.01), "GBP_PENCE": ("GBP", 0.01), "ZAC": ("ZAR", 0.01), "ILA": ("ILS", 0.01)}
STALE_AFTER_S = 3 * 86400


@dataclass(frozen=True)
class FxRates:
    rates: dict[str, float]  # quote currency -> account currency per quoted unit
    notes: list[str] = field(default_factory=list)

    def rate(self, currency: str) -> float | None:
        return self.rates.get(currency.upper())


def main_unit(currency: str) -> tuple[str, float]:
    """("GBP", 0.01) for GBX; (currency, 1.0) for a currency quoted in its main unit."""
    c = currency.upper() if currency != "GBp" else "GBX"
    return SUBUNITS.get(c, (c, 1.0))


def pair_symbol(base: str, account: str) -> str:
    return f"{base}{account}=X"


def pair_requests(currencies: Iterable[str], account: str) -> list[SymbolRequest]:
    """The Yahoo pairs needed to convert these quote currencies into the account currency."""
    bases = sorted({main_unit(c)[0] for c in currencies if c} - {account.upper()})
    return [SymbolRequest(pair_symbol(b, account), pair_symbol(b, account), account.upper()) for b in bases]


def _positive(x: object) -> float | None:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


def _last_close(bars: Bars | None, symbol: str) -> float | None:
    if bars is None or symbol not in bars.close.columns:
        return None
    series = bars.close[symbol].dropna()
    return _positive(series.iloc[-1]) if not series.empty else None


def resolve(currencies: Iterable[str], account: str, *, bars: Bars | None = None, store: Store | None = None,
            demo: bool = False, now: float | None = None) -> FxRates:
    """Rates for every quote currency: demo table, fresh pair bars, cached pairs, then the fixed table."""
    now = time.time() if now is None else now
    account = account.upper()
    rates: dict[str, float] = {}
    notes: list[str] = []
    for currency in sorted({c.upper() if c != "GBp" else "GBX" for c in currencies if c}):
        base, scale = main_unit(currency)
        if base == account:
            rates[currency] = scale
            continue
        if demo:
            r = fixed_rate(currency, account)
            if r is not None:
                rates[currency] = r
            else:
                notes.append(f"No demo FX rate for {currency}: those candidates are not sized.")
            continue
        pair = pair_symbol(base, account)
        fresh = _last_close(bars, pair)
        if fresh is not None:
            if store is not None:
                store.set_json(KeyFamily.FX_RATE.of(pair), {"rate": fresh, "at": now})
            rates[currency] = fresh * scale
            continue
        stored = store.get_json(KeyFamily.FX_RATE.of(pair)) if store is not None else None
        cached: dict[str, Any] = stored if isinstance(stored, dict) else {}
        rate = _positive(cached.get("rate"))
        if rate is not None:
            rates[currency] = rate * scale
            age = now - float(cached.get("at") or 0)
            if age > STALE_AFTER_S:
                notes.append(f"FX {pair} is {age / 86400:.0f} days old (no fresh quote).")
            continue
        fixed = fixed_rate(base, account)
        if fixed is not None:
            rates[currency] = fixed * scale
            notes.append(f"No quote for {pair}: sizing uses an approximate fixed rate ({fixed:g}).")
        else:
            notes.append(f"No FX rate for {currency} into {account}: those candidates are not sized.")
    return FxRates(rates, notes)
