"""The worker's history sync: every `history_interval`, in short time-boxed steps that take only
free rate-limit slots (patience 0), so the positions cycle is never delayed by history paging.
A walk left unfinished (time box, budget, crash) goes on at the next cycle."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from papishares.broker import Broker
from papishares.core.errors import PapisharesError
from papishares.history import sync as history_sync
from papishares.store.db import Store

log = logging.getLogger(__name__)
TIME_BOX = 1.5  # s of history paging per worker cycle at most (plus one request's latency)


class HistorySchedule:
    def __init__(self, store: Store, broker: Broker, interval: float, *, clock: Callable[[], float] = time.time,
                 time_box: float = TIME_BOX) -> None:
        self.store = store
        self.broker = broker
        self.interval = interval
        self.clock = clock
        self.time_box = time_box

    def due(self) -> bool:
        if self.interval <= 0:
            return False
        if history_sync.in_progress(self.store):
            return True
        done = history_sync.last_complete(self.store)
        return done is None or self.clock() - done >= self.interval

    def tick(self) -> history_sync.SyncReport | None:
        """One step when due; never raises (history trouble must not stop the worker)."""
        try:
            if not self.due():
                return None
            report = history_sync.sync(self.store, self.broker, time_box=self.time_box, patience=0.0,
                                       clock=self.clock)
        except PapisharesError as err:
            log.warning("history not synced this cycle: %s", err)
            return None
        except Exception:  # noqa: BLE001 - the sidecar outlives a history bug
            log.exception("history sync failed")
            return None
        if report.new_items:
            log.info("history: %d new items in %d pages", report.new_items, report.pages)
        return report
