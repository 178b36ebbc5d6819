"""Reading the stored snapshot for a command: how old it is, and a held position by name.

Commands read the snapshot the worker stored last (no broker call per command).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from papishares.core.models import PositionView, Snapshot

SnapshotSource = Callable[[], Snapshot | None]


@dataclass(frozen=True)
class DataAge:
    """When the data shown was fetched, and how long ago."""

    moment: datetime
    age_seconds: float
    stale: bool


@dataclass(frozen=True)
class NoSnapshot:
    """No snapshot stored yet (the worker has not built one)."""


@dataclass(frozen=True)
class UnknownPosition:
    """No open position by that name; `held` lists the names that are held."""

    name: str
    held: tuple[str, ...]


def data_age(snapshot: Snapshot, now: float) -> DataAge:
    moment = snapshot.data_time or snapshot.generated_at
    return DataAge(moment, max(0.0, now - moment.timestamp()), snapshot.stale)


def find_position(snapshot: Snapshot | None, name: str) -> PositionView | None:
    """A held position by Trading 212 ticker or short name, case-insensitively."""
    if snapshot is None:
        return None
    wanted = name.strip().upper()
    for p in snapshot.positions:
        if p.ticker.upper() == wanted:
            return p
    return next((p for p in snapshot.positions if (p.short_name or "").upper() == wanted), None)


def unknown_position(name: str, snapshot: Snapshot | None) -> UnknownPosition:
    held = tuple(sorted(p.short_name or p.ticker for p in snapshot.positions)) if snapshot else ()
    return UnknownPosition(name, held)
