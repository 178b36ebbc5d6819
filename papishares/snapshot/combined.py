"""Several accounts seen as one book: combined value, cash and total risk (in the first account's currency).

Pure: the exchange rates come in as a mapping (account currency -> first account's currency per
unit), so every front end (the CLI's `snapshot --json`, the dashboard's "All accounts", the JSON
API) adds the same numbers the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from papishares.core.models import Snapshot, iso_z


class MissingRate(ValueError):
    """No exchange rate from one account's currency into the first's."""


@dataclass(frozen=True)
class Combined:
    currency: str
    total_value: float
    cash: float
    total_risk_pct: float

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "total_value": self.total_value, "cash": self.cash,
                "total_risk_pct": self.total_risk_pct}


def currencies(snapshots: Sequence[Snapshot]) -> tuple[str, ...]:
    """Every account currency other than the first's (the rates `combine` needs)."""
    first = snapshots[0].account.currency
    return tuple(sorted({s.account.currency for s in snapshots} - {first}))


def combine(snapshots: Sequence[Snapshot], rates: Mapping[str, float] | None = None) -> Combined:
    """Value and cash summed, and total risk as a share of the summed value, in the first account's
    currency. `rates`: first account's currency per unit of each other account currency.

    >>> from datetime import UTC, datetime
    >>> from papishares.core.models import Account
    >>> def snap(cur, value, cash, risk_pct):
    ...     return Snapshot(datetime(2026, 1, 1, tzinfo=UTC), "demo-sim", Account(cur, value, cash), (), (),
    ...                     risk_pct, 7.0)
    >>> combine([snap("GBP", 10_000, 1_000, 5.0), snap("GBP", 5_000, 500, 2.0)])
    Combined(currency='GBP', total_value=15000.0, cash=1500.0, total_risk_pct=4.0)
    >>> combine([snap("GBP", 1_000, 100, 10.0), snap("USD", 1_000, 100, 10.0)], {"USD": 0.8}).total_value
    1800.0
    """
    first = snapshots[0].account.currency
    value = cash = risk = 0.0
    for snapshot in snapshots:
        account = snapshot.account
        rate = 1.0 if account.currency == first else (rates or {}).get(account.currency)
        if rate is None:
            raise MissingRate(f"no exchange rate from {account.currency} into {first}")
        value += account.total_value * rate
        cash += account.cash * rate
        risk += snapshot.total_risk_pct / 100.0 * account.total_value * rate  # the amount at risk
    return Combined(first, round(value, 2), round(cash, 2), round(100.0 * risk / value, 4) if value > 0 else 0.0)


def several_json(snapshots: Sequence[Snapshot], combined: Combined, generated_at: datetime) -> dict[str, Any]:
    """`snapshot --json` with several accounts: each account's snapshot object and the combined totals."""
    return {"generated_at": iso_z(generated_at), "accounts": [s.to_json() for s in snapshots],
            "combined": combined.to_json()}
