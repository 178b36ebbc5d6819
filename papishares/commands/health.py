"""The worker's health, computed once: `papishares health`, the doctor, /status and the dashboard render it.

Healthy means the acting worker's heartbeat (its lease renewal, papishares.store.lease) is no older
than PAPISHARES_HEARTBEAT_MAX_AGE. `WorkerHealth.to_json()` is the `health` JSON of INTERFACE.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from papishares.config import Settings
from papishares.notify import outbox
from papishares.orders import autosell
from papishares.store.db import Store
from papishares.store.keys import Key
from papishares.store.lease import heartbeat_age, is_fresh, read_lease

STANDBY_KEY = Key.WORKER_STANDBY  # written by a worker waiting for the lease (papishares.worker.loop)


@dataclass(frozen=True)
class Standby:
    """A second worker waiting for the lease (seen recently)."""

    owner: str | None
    waiting_for: str | None


@dataclass(frozen=True)
class WorkerHealth:
    healthy: bool
    heartbeat_age: float | None  # seconds; None: no worker ever ran on this database
    heartbeat_max_age: float
    state: str  # "never started" | "running" | "stopped" (its lease expired)
    owner: str | None
    autosell: bool
    environment: str
    held: tuple[str, ...]  # tickers held back from auto-sell
    outbox_pending: int
    last_cycle: Any = None
    dry_run: bool = False
    last_note: str | None = None
    positions: Any = None
    standby: Standby | None = None

    @property
    def started(self) -> bool:
        return self.heartbeat_age is not None

    def to_json(self) -> dict[str, Any]:
        """The `papishares health` object (INTERFACE.md): keys and values exactly as always."""
        data: dict[str, Any] = {
            "healthy": self.healthy,
            "heartbeat_age_s": None if self.heartbeat_age is None else round(self.heartbeat_age, 1),
            "owner": self.owner,
            "state": self.state,
            "autosell": "on" if self.autosell else "off",
            "environment": self.environment,
            "last_cycle": self.last_cycle,
            "held": list(self.held),
            "outbox_pending": self.outbox_pending,
            "heartbeat_max_age_s": self.heartbeat_max_age,
        }
        if self.started:
            data.update(dry_run=self.dry_run, last_note=self.last_note, positions=self.positions)
        if self.standby is not None:
            data["standby"] = {"owner": self.standby.owner, "waiting_for": self.standby.waiting_for,
                               "reason": "another worker holds the lease"}
        return data


def worker_health(store: Store, settings: Settings, now: float | None = None) -> WorkerHealth:
    """The acting worker's health from the lease row, the flags and the outbox (no broker call)."""
    now = time.time() if now is None else now
    holder = read_lease(store)
    age = heartbeat_age(holder, now)
    info = holder.info if holder is not None else {}
    standby = store.get_json(STANDBY_KEY)
    waiting = None
    if standby and now - float(standby.get("seen_at", 0)) < max(30.0, 3 * settings.worker_positions_interval):
        waiting = Standby(standby.get("owner"), standby.get("waiting_for"))
    state = "never started" if holder is None else ("running" if (holder.expires_at or 0) > now else "stopped")
    return WorkerHealth(
        healthy=is_fresh(age, settings.heartbeat_max_age),
        heartbeat_age=age,
        heartbeat_max_age=settings.heartbeat_max_age,
        state=state,
        owner=holder.owner if holder is not None else None,
        autosell=store.autosell_enabled,
        environment=info.get("environment", settings.environment),
        held=tuple(h["ticker"] for h in autosell.held_tickers(store)),
        outbox_pending=outbox.pending_count(store),
        last_cycle=info.get("last_cycle"),
        dry_run=info.get("dry_run", False),
        last_note=info.get("note"),
        positions=info.get("positions"),
        standby=waiting,
    )
