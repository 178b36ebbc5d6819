"""`/status`: the account, total risk, the worker, the flags and a mute in force, as one typed result."""

from __future__ import annotations

from dataclasses import dataclass

from papishares.commands.health import WorkerHealth, worker_health
from papishares.commands.reading import DataAge, data_age
from papishares.config import Settings
from papishares.core.models import Snapshot
from papishares.notify import prefs
from papishares.orders import stop_keeper
from papishares.store.db import Store


@dataclass(frozen=True)
class AccountSummary:
    currency: str
    total_value: float
    cash: float
    unrealised_pnl: float | None
    total_risk_pct: float
    total_risk_limit_pct: float
    positions: int
    at_or_below_stop: int

    @property
    def over_limit(self) -> bool:
        return self.total_risk_pct > self.total_risk_limit_pct


@dataclass(frozen=True)
class Status:
    environment: str
    account: AccountSummary | None  # None: no snapshot yet
    data: DataAge | None  # None: no snapshot yet
    worker: WorkerHealth
    autosell: bool
    broker_stops: bool  # the setting in force (the dashboard's override, else PAPISHARES_BROKER_STOPS)
    telegram_actions: bool
    muted_until: float | None  # epoch seconds; None: alerts ring


def account_summary(snapshot: Snapshot) -> AccountSummary:
    acc = snapshot.account
    return AccountSummary(
        currency=acc.currency, total_value=acc.total_value, cash=acc.cash, unrealised_pnl=acc.unrealised_pnl,
        total_risk_pct=snapshot.total_risk_pct, total_risk_limit_pct=snapshot.total_risk_threshold_pct,
        positions=len(snapshot.positions), at_or_below_stop=sum(1 for p in snapshot.positions if p.stop_breached))


def status(settings: Settings, store: Store, snapshot: Snapshot | None, now: float) -> Status:
    return Status(
        environment=settings.environment,
        account=account_summary(snapshot) if snapshot is not None else None,
        data=data_age(snapshot, now) if snapshot is not None else None,
        worker=worker_health(store, settings, now),
        autosell=store.autosell_enabled,
        broker_stops=stop_keeper.enabled(store, settings.broker_stops),
        telegram_actions=settings.telegram_actions,
        muted_until=prefs.muted_until(store, now),
    )
