"""One actor per database: a lease row in SQLite with an expiry and a heartbeat.

The holder renews the lease every cycle (that renewal is the heartbeat `health` reads). Another
worker finding a live lease waits and says why; when the holder stops renewing, the lease expires
after `ttl` seconds and the next worker takes it over. Taking and renewing are single
`BEGIN IMMEDIATE` transactions, so two workers can never both believe they hold it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from papishares.store.db import Store

WORKER_LEASE = "worker"


def make_owner() -> str:
    """host:pid:random: unique even when a restarted container reuses the pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaseHolder:
    owner: str
    acquired_at: float | None
    expires_at: float | None
    heartbeat_at: float | None
    info: dict[str, Any]


def read_lease(store: Store, name: str = WORKER_LEASE) -> LeaseHolder | None:
    rows = store.query("SELECT * FROM lease WHERE name = ?", (name,))
    if not rows:
        return None
    row = rows[0]
    try:
        info = json.loads(row["info"]) if row["info"] else {}
    except ValueError:
        info = {}
    return LeaseHolder(row["owner"], row["acquired_at"], row["expires_at"], row["heartbeat_at"], info)


def heartbeat_age(holder: LeaseHolder | None, now: float) -> float | None:
    """Seconds since the lease holder's heartbeat; None when no worker ever held the lease."""
    if holder is None:
        return None
    return max(0.0, now - (holder.heartbeat_at or 0.0))


def is_fresh(age: float | None, max_age: float) -> bool:
    """The one freshness rule: a heartbeat at most `max_age` seconds old."""
    return age is not None and age <= max_age


def last_heartbeat(store: Store) -> float | None:
    """The newest heartbeat of any lease (None before a worker ever ran)."""
    rows = store.execute("SELECT max(heartbeat_at) FROM lease")
    return None if not rows or rows[0][0] is None else float(rows[0][0])


class Lease:
    def __init__(self, store: Store, ttl: float, owner: str | None = None, name: str = WORKER_LEASE,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ttl = ttl
        self.owner = owner or make_owner()
        self.name = name
        self.clock = clock

    def try_acquire(self, info: dict[str, Any] | None = None) -> tuple[bool, LeaseHolder | None]:
        """Take the lease if it is free, expired or already ours. Returns (ours, holder when not ours)."""
        now = self.clock()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT owner, expires_at FROM lease WHERE name = ?", (self.name,)).fetchone()
            taken = row is not None and row[0] != self.owner and (row[1] or 0) > now
            if not taken:
                acquired = now if row is None or row[0] != self.owner else None
                conn.execute(
                    "INSERT INTO lease (name, owner, acquired_at, expires_at, heartbeat_at, info) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
                    "acquired_at = coalesce(?, lease.acquired_at), expires_at = excluded.expires_at, "
                    "heartbeat_at = excluded.heartbeat_at, info = excluded.info",
                    (self.name, self.owner, now, now + self.ttl, now, json.dumps(info or {}), acquired),
                )
        if taken:
            return False, read_lease(self.store, self.name)
        return True, None

    def renew(self, info: dict[str, Any] | None = None) -> bool:
        """Extend our lease and write the heartbeat. False when it is no longer ours (taken over)."""
        now = self.clock()
        with self.store.transaction() as conn:
            if info is None:
                cur = conn.execute(
                    "UPDATE lease SET expires_at = ?, heartbeat_at = ? WHERE name = ? AND owner = ?",
                    (now + self.ttl, now, self.name, self.owner))
            else:
                cur = conn.execute(
                    "UPDATE lease SET expires_at = ?, heartbeat_at = ?, info = ? WHERE name = ? AND owner = ?",
                    (now + self.ttl, now, json.dumps(info), self.name, self.owner))
            return cur.rowcount == 1

    def holds(self, through: Store | None = None) -> bool:
        """Ours and not expired: checked right before anything irreversible (an order).

        `through`: the caller's own store (another account's view of the same file), so the check runs
        inside the transaction the caller holds instead of waiting on a second connection's lock."""
        rows = (through or self.store).execute("SELECT owner, expires_at FROM lease WHERE name = ?", (self.name,))
        return bool(rows) and rows[0][0] == self.owner and (rows[0][1] or 0) > self.clock()

    def release(self) -> None:
        """Expire our lease now (a clean stop): the next worker need not wait for the ttl.

        The row stays, so `health` can still tell when the last heartbeat was.
        """
        self.store.execute("UPDATE lease SET expires_at = ? WHERE name = ? AND owner = ?",
                           (self.clock(), self.name, self.owner))
