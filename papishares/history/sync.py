"""Incremental, idempotent, resumable sync of orders, dividends and transactions history.

The endpoints list newest first and page backwards by `nextPagePath`. Per kind, `hist_sync` holds:
- `mode`: `backfill` (the first walk, to the oldest item) or `head` (later walks: from the newest
  page down to the first page that holds an item already stored);
- `next_path`: where the walk in progress goes on. Each page's items and the new `next_path` are
  written in ONE transaction, so a crash resumes at the page after the last one stored, and a
  page read twice changes nothing (items are keyed by their ids).
Known API bugs: a repeated page (same path again, or the same items as the page before) ends the
walk; a 404 on a later page keeps the cursor for the next sync and, after MAX_404 in a row, ends
the walk with a note (the CSV export is then the complete record). Pacing is the broker client's:
every page goes through the shared rate budget; `patience` is how long one page may wait for a
slot and `time_box` bounds the whole call (the worker uses a short box and takes only free slots).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from papishares.broker.t212_history import first_request
from papishares.core.errors import AuthError, BrokerError, RateLimited
from papishares.history.records import item_key, store_items
from papishares.store import history as history_store
from papishares.store.db import Store

log = logging.getLogger(__name__)

KINDS = ("orders", "dividends", "transactions")
MAX_404 = 3
MAX_PAGES_PER_WALK = 100_000  # a loop guard far above any real account


@dataclass
class KindReport:
    kind: str
    pages: int = 0
    new_items: int = 0
    complete: bool = False  # the walk reached its end in this call
    note: str | None = None


@dataclass
class SyncReport:
    kinds: dict[str, KindReport] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return sum(k.pages for k in self.kinds.values())

    @property
    def new_items(self) -> int:
        return sum(k.new_items for k in self.kinds.values())

    @property
    def complete(self) -> bool:
        return all(k.complete for k in self.kinds.values())

    def to_json(self) -> dict[str, Any]:
        return {"complete": self.complete, "pages": self.pages, "new_items": self.new_items,
                "seconds": round(self.seconds, 2),
                "kinds": {k: {"pages": r.pages, "new_items": r.new_items, "complete": r.complete, "note": r.note}
                          for k, r in self.kinds.items()}}


def state(store: Store, kind: str) -> dict[str, Any]:
    row = history_store.sync_state(store, kind)
    return row if row else {"kind": kind, "mode": "backfill", "next_path": None, "complete_at": None,
                                 "pages": 0, "items": 0, "failures": 0, "note": None}


def _save_state(store: Store, st: dict[str, Any], now: float) -> None:
    history_store.save_sync_state(store, st, now)


def in_progress(store: Store) -> bool:
    """A walk was left unfinished (time box, rate limit, crash): the next sync goes on from there."""
    return any(state(store, k)["next_path"] for k in KINDS)


def last_complete(store: Store) -> float | None:
    """When every kind last finished a walk (None until each has once)."""
    times = [state(store, k)["complete_at"] for k in KINDS]
    return None if any(t is None for t in times) else float(min(times))


def sync(store: Store, broker: Any, *, kinds: Iterable[str] = KINDS, time_box: float | None = None,
         patience: float = 0.0, full: bool = False, clock: Callable[[], float] = time.time) -> SyncReport:
    """Walk each kind's history as far as the time box and the rate budget allow.

    `full` re-walks everything from the newest page (idempotent: fills blocks a buggy walk skipped).
    AuthError (a bad key) propagates; a missing history scope is a note for that kind.
    """
    started = clock()
    deadline = None if time_box is None else started + time_box
    report = SyncReport()
    for kind in kinds:
        report.kinds[kind] = _walk(store, broker, kind, deadline, patience, full, clock)
    report.seconds = clock() - started
    return report


def _walk(store: Store, broker: Any, kind: str, deadline: float | None, patience: float, full: bool,
          clock: Callable[[], float]) -> KindReport:
    rep = KindReport(kind)
    st = state(store, kind)
    if full:
        st.update(mode="backfill", next_path=None, failures=0)
    path = st["next_path"] or first_request(kind)
    first = st["next_path"] is None
    visited: set[str] = set()
    previous_keys: list[str] | None = None
    while path and rep.pages < MAX_PAGES_PER_WALK:
        now = clock()
        if deadline is not None and now >= deadline:
            rep.note = "time box over: the next sync goes on from here"
            break
        wait = patience if deadline is None else max(0.0, min(patience, deadline - now))
        try:
            page = broker.history_page(kind, path, wait)
        except RateLimited:
            rep.note = "rate budget spent: the next sync goes on from here"
            break
        except AuthError as err:
            if "permission" in str(err) or "403" in str(err):
                rep.note = str(err)
                _note(store, st, rep.note, clock())
                break
            raise
        except BrokerError as err:
            rep.note = f"not synced this time: {err}"
            _note(store, st, rep.note, clock())
            break
        visited.add(path)
        if page.not_found:
            rep.note = _on_404(store, st, first, clock())
            break
        keys = [item_key(kind, i) for i in page.items]
        repeated = bool(keys) and keys == previous_keys
        next_path = page.next_path
        if next_path is not None and (next_path in visited or next_path == path):
            repeated = True
        with store.transaction():
            new = store_items(store, kind, page.items)
            # newest first: a page holding any known item reaches what an earlier walk stored
            caught_up = st["mode"] == "head" and new < len(page.items)
            ended = next_path is None or repeated or caught_up
            st.update(next_path=None if ended else next_path, failures=0,
                      pages=int(st["pages"] or 0) + 1, items=int(st["items"] or 0) + new,
                      note="the broker repeated a page: walk ended there" if repeated else None)
            if ended:
                st.update(mode="head", complete_at=clock())
            _save_state(store, st, clock())
        rep.pages += 1
        rep.new_items += new
        if ended:
            rep.complete = True
            rep.note = st["note"]
            break
        previous_keys = keys
        path = next_path
        first = False
    return rep


def _on_404(store: Store, st: dict[str, Any], first: bool, now: float) -> str:
    """A 404: on the first page the endpoint is missing for this account; on a later page (a known
    bug) the cursor is kept for the next sync, until MAX_404 in a row end the walk."""
    if first:
        note = "Trading 212 answered 404 for this history: nothing synced"
        st.update(next_path=None)
    else:
        st["failures"] = int(st["failures"] or 0) + 1
        if st["failures"] >= MAX_404:
            note = (f"Trading 212 answered 404 on a later page {st['failures']} times: the walk ended there; "
                    "older items may be missing (the CSV export is the complete record)")
            st.update(next_path=None, mode="head", failures=0, complete_at=now)
        else:
            note = "Trading 212 answered 404 on a later page: retried at the next sync"
    _note(store, st, note, now)
    return note


def _note(store: Store, st: dict[str, Any], note: str, now: float) -> None:
    st["note"] = note
    with store.transaction():
        _save_state(store, st, now)
