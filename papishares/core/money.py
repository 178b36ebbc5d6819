"""Money in words: the one table of currency signs, the one table of fixed exchange rates, and how
an amount is written wherever a person reads it (dashboard, alerts, sentences).

Pence (GBX) stay pence, written "1,350.00p", never silently turned into pounds; a currency without a
sign is written after the number ("12.30 CHF"); a minus goes before the sign ("-£13.80").

>>> amount(155.8, "USD"), amount(1350, "GBX"), amount(12.3, "CHF"), amount(-13.8, "GBP")
('$155.80', '1,350.00p', '12.30 CHF', '-£13.80')
>>> rounded(1050.4, "GBP"), rounded(85.2, "USD"), rounded(1050, None)
('£1,050', '$85.20', '1,050')
"""

from __future__ import annotations

SIGNS: dict[str, str] = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥"}
PENCE = "GBX"

# Approximate, fixed: units of GBP per unit of each currency. The demo account trades at these rates,
# and entry sizing falls back on them when no quote for a currency pair exists.
FIXED_TO_GBP: dict[str, float] = {"USD": 0.79, "EUR": 0.85, "GBX": 0.01, "GBP": 1.0}


def sign(currency: str | None) -> str | None:
    """The currency's sign ("£" for GBP, any case), None for a currency written by its code.

    >>> sign("gbp"), sign("CHF")
    ('£', None)
    """
    return SIGNS.get((currency or "").upper())


def _written(digits: str, negative: bool, currency: str | None) -> str:
    code = (currency or "").upper()
    minus = "-" if negative else ""
    if code == PENCE:
        return f"{minus}{digits}p"
    symbol = SIGNS.get(code)
    return f"{minus}{symbol}{digits}" if symbol else f"{minus}{digits} {code}".strip()


def amount(value: float, currency: str | None) -> str:
    """A price or an amount to the penny in its currency: $155.80, 1,350.00p (GBX), 12.30 CHF."""
    return _written(f"{abs(value):,.2f}", value < 0, currency)


def rounded(value: float, currency: str | None) -> str:
    """An amount for a sentence: whole units from 100 up, pennies below (£1,050, $85.20)."""
    digits = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.2f}"
    return _written(digits, value < 0, currency)


def fixed_rate(currency: str, account: str = "GBP") -> float | None:
    """Account currency per unit of `currency` by the fixed table, crossed through GBP; None when
    either is not in the table.

    >>> fixed_rate("USD"), fixed_rate("GBX"), round(fixed_rate("EUR", "USD") or 0, 4), fixed_rate("CHF")
    (0.79, 0.01, 1.0759, None)
    """
    c, acct = currency.upper(), account.upper()
    if c not in FIXED_TO_GBP or acct not in FIXED_TO_GBP:
        return None
    return FIXED_TO_GBP[c] / FIXED_TO_GBP[acct]
