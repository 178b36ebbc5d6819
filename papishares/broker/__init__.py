"""Brokers: the `Broker` protocol and Trading 212 over HTTP (the built-in demo broker is in papishares.demo)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from papishares.core.models import Account, BrokerPosition, Exchange, Instrument, Order

if TYPE_CHECKING:
    from papishares.broker.t212_history import HistoryPage


@runtime_checkable
class Broker(Protocol):
    """Everything Papishares asks of a broker. Prices are in each instrument's quote currency.

    Read methods may answer from the shared SQLite cache when the rate budget forbids a new request
    (see `papishares.broker.ratebudget`); `data_time(kind)` says when the data was fetched.
    Order methods raise `OrderRejected`, `OrderOutcomeUnknown`, `AuthError` or `LiveOrdersForbidden`
    and are never retried automatically. Every capability a caller uses is declared here: a broker
    without one answers with its neutral value (no wait, no headers, not resettable), never by its absence.
    """

    environment: str  # "demo-sim" | "t212-demo" | "t212-live"
    rate_headers: dict[str, dict[str, str]]  # endpoint -> the last x-ratelimit-* headers seen (the doctor)

    # -- reads ---------------------------------------------------------------------------------------
    def account_summary(self) -> Account: ...

    def positions(self) -> list[BrokerPosition]: ...

    def orders(self) -> list[Order]: ...

    def order(self, order_id: int) -> Order | None: ...

    def instruments(self, refresh: bool = False) -> dict[str, Instrument]: ...

    def exchanges(self, refresh: bool = False) -> list[Exchange]: ...

    def data_time(self, kind: str) -> float | None: ...

    def history_page(self, kind: str, path: str, patience: float = 0.0) -> HistoryPage:
        """One page of `orders` / `dividends` / `transactions` history (`path` from
        `papishares.broker.t212_history`): budgeted, never cached."""
        ...

    def probe(self, path: str, params: dict[str, str] | None = None) -> bool:
        """A GET whose answer is only looked at (the doctor's scope checks): True when served, False on
        404; MissingScope, AuthError or BrokerError otherwise. It can never order."""
        ...

    # -- orders --------------------------------------------------------------------------------------
    def cancel_order(self, order_id: int) -> None: ...

    def place_market_order(self, ticker: str, quantity: float, extended_hours: bool = False) -> Order: ...

    def place_stop_order(self, ticker: str, quantity: float, stop_price: float,
                         time_validity: str = "GOOD_TILL_CANCEL") -> Order: ...

    def order_slot_in(self, method: str, path: str) -> float:
        """Seconds until the rate budget allows one more request to this order endpoint (0: now)."""
        ...

    # -- the account itself --------------------------------------------------------------------------
    def reset(self) -> bool:
        """Start the account afresh. False when it cannot be (a real account is never reset)."""
        ...

    def export_report(self, directory: str | Path) -> Path | None:
        """The account's history as a CSV report written to `directory` at once, when the broker
        keeps it itself (the demo). None: ask the broker for it (papishares.history.t212_report)."""
        ...
