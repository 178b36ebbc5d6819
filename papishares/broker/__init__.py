"""Brokers: the `Broker` protocol and Trading 212 over HTTP (the built-in demo broker is in papishares.demo)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from papishares.core.models import Account, BrokerPosition, Exchange, Instrument, Order


@runtime_checkable
class Broker(Protocol):
    """Everything Papishares asks of a broker. Prices are in each instrument's quote currency.

    Read methods may answer from the shared SQLite cache when the rate budget forbids a new request
    (see `papishares.broker.ratebudget`); `data_time(kind)` says when the data was fetched.
    Order methods raise `OrderRejected`, `OrderOutcomeUnknown`, `AuthError` or `LiveOrdersForbidden`
    and are never retried automatically.
    """

    environment: str  # "demo-sim" | "t212-demo" | "t212-live"

    def account_summary(self) -> Account: ...

    def positions(self) -> list[BrokerPosition]: ...

    def orders(self) -> list[Order]: ...

    def order(self, order_id: int) -> Order | None: ...

    def cancel_order(self, order_id: int) -> None: ...

    def place_market_order(self, ticker: str, quantity: float, extended_hours: bool = False) -> Order: ...

    def place_stop_order(self, ticker: str, quantity: float, stop_price: float,
                         time_validity: str = "GOOD_TILL_CANCEL") -> Order: ...

    def instruments(self, refresh: bool = False) -> dict[str, Instrument]: ...

    def exchanges(self, refresh: bool = False) -> list[Exchange]: ...

    def data_time(self, kind: str) -> float | None: ...
