"""The sidecar worker: refresh on a schedule, alert, auto-sell; one actor per database.

Each cycle (every `settings.worker_positions_interval`, 5 s by default):
  1. renew the lease (the heartbeat `health` reads); a worker that lost it stops acting;
  2. `service.snapshot()`: positions, orders and summary within the shared rate budget (the client
     serves cached answers inside each endpoint's period), prices, high-water marks and stops
     recorded; market bars from the bar cache;
  3. reconcile sell requests whose outcome is unproven, BEFORE anything else acts;
  4. count breaches, raise alerts from (previous, current) snapshot, keep the stops at the broker
     (papishares.orders.stop_keeper), run auto-sell for what they do not cover;
  5. deliver the Telegram outbox.
Exchange schedules and instruments are refreshed at start and every few hours.

The cycles run in a worker thread; the main thread only waits for SIGTERM/SIGINT, so a stop is
honoured within 5 s even while an HTTP request hangs (an order interrupted that way is reconciled
at the next start, never resent).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from papishares.commands import handlers as commands
from papishares.commands.health import STANDBY_KEY
from papishares.config import Settings
from papishares.core.errors import AuthError, PapisharesError
from papishares.core.models import Snapshot
from papishares.history.schedule import HistorySchedule
from papishares.notify import Notifier
from papishares.notify import rules as alerts
from papishares.orders import autosell, stop_keeper
from papishares.store import alerts as alert_store
from papishares.store import outbox as outbox_store
from papishares.store.db import Store
from papishares.store.keys import PRUNABLE_ALERTS
from papishares.store.lease import Lease, LeaseHolder

log = logging.getLogger(__name__)

STOP_GRACE = 3.0  # s a running cycle gets after SIGTERM: the contract says 5, and exiting takes time on a busy machine
FRESH_SLACK = 2.0  # positions fetched up to this long before the cycle began still count as fresh
METADATA_EVERY = 3 * 3600.0  # instruments and exchange schedules (holidays) refresh
KEEP_DAYS = 30  # dedup keys of one-off events (MACD bars, auto-sell notes) and sent alerts kept this long
BARS_MAX_AGE = 20 * 3600.0  # between refreshes the worker reads daily bars from the shared cache
BARS_AFTER_CLOSE = 15 * 60.0  # the day's final bar: fetched this long after a held market closes


@dataclass
class CycleReport:
    ok: bool
    note: str | None = None
    positions: int = 0
    alerts: int = 0
    decisions: list[autosell.Decision] = field(default_factory=list)
    reconciled: list[tuple[str, str]] = field(default_factory=list)
    lease_lost: bool = False  # the lease went to another worker mid-cycle: nothing more was done
    accounts: dict[str, CycleReport] = field(default_factory=dict)  # with several accounts: each one's


def combined(reports: dict[str, CycleReport]) -> CycleReport:
    """One cycle over several accounts: ok only when every account's part was; notes name the account."""
    notes = [f"{name}: {r.note}" for name, r in reports.items() if r.note]
    decisions = [d for r in reports.values() for d in r.decisions]
    reconciled = [pair for r in reports.values() for pair in r.reconciled]
    return CycleReport(all(r.ok for r in reports.values()), "; ".join(notes) or None,
                       sum(r.positions for r in reports.values()), sum(r.alerts for r in reports.values()),
                       decisions, reconciled, any(r.lease_lost for r in reports.values()), dict(reports))


class AccountCycle:
    """One account's part of every cycle: its snapshot, alerts, managed stops, auto-sell, /sell and
    history, on its own store and broker. Nothing here reaches another account's rows or broker."""

    def __init__(self, settings: Settings, service: Any, lease: Lease, notifier: Notifier, *, dry_run: bool,
                 clock: Callable[[], float], interval: float, unknown_grace: float | None) -> None:
        self.settings = settings
        self.name = settings.account_name
        self.service = service
        self.store: Store = service.store
        self.broker = service.broker
        self.lease = lease
        self.clock = clock
        self.notifier = notifier
        self.seller = autosell.AutoSeller(
            store=self.store, broker=self.broker, emit=notifier.emit, lease_ok=lambda: lease.holds(self.store),
            environment=self.broker.environment, allow_live=settings.allow_live_orders, dry_run=dry_run,
            unknown_grace=max(2 * interval, 10.0) if unknown_grace is None else unknown_grace, clock=clock)
        self.history = HistorySchedule(self.store, self.broker, settings.history_interval, clock=clock)
        self.keeper = stop_keeper.StopKeeper(
            store=self.store, broker=self.broker, emit=notifier.emit, lease_ok=lambda: lease.holds(self.store),
            environment=self.broker.environment, allow_live=settings.allow_live_orders, dry_run=dry_run,
            default_on=settings.broker_stops, min_move_pct=settings.broker_stop_min_move,
            interval=settings.broker_stop_interval, cycle_seconds=interval,
            unknown_grace=self.seller.unknown_grace, clock=clock)
        self.previous: Snapshot | None = None
        self._metadata_at: float | None = None
        self._failing: set[str] = set()  # acting steps whose last run raised (journalled once per run)
        self._bars_fetched_at: float | None = None
        self._bars_due_at: float | None = None

    def cycle(self) -> CycleReport:
        """This account's part of one cycle. Never raises for broker trouble."""
        started = self.clock()
        self._refresh_metadata(started)
        bars_due = self._bars_policy(started)
        try:
            snapshot = self.service.snapshot()
        except AuthError as err:
            self.notifier.emit(alerts.auth_rejected(str(err)))
            return CycleReport(False, str(err))
        except PapisharesError as err:
            log.warning("no snapshot this cycle%s: %s", self._of(), err)
            return CycleReport(False, str(err))

        self._note_bars(snapshot, started, bars_due)
        fresh = self._fresh(snapshot, started)
        report = CycleReport(True, snapshot.broker_note if snapshot.stale else None, len(snapshot.positions))
        if not self.lease.renew():  # the snapshot took so long that another worker took over
            report.note = "lease lost during the cycle: not acting"
            report.lease_lost = True
            return report
        # Unproven sell requests first: nothing may act on a ticker whose last sale is unaccounted for.
        report.reconciled = self.seller.reconcile(snapshot, self._data_since)
        breach_keys = autosell.update_breaches(self.store, snapshot) if fresh else {}
        unconfirmed = autosell.unconfirmed_prices(self.store, snapshot) if fresh else frozenset()
        plan = alerts.evaluate(self.previous, snapshot, self.notifier.keys(), self.store.autosell_enabled)
        report.alerts = self.notifier.apply(plan)
        # The stops kept at the broker first: auto-sell is the fallback for shares no managed stop
        # covers. Each acting step on its own: a bug in one costs that step this cycle, not the others;
        # without the keeper's answer, auto-sell leaves alone every ticker a managed stop was recorded for.
        covered = self._step(report, "broker stops", lambda: self.keeper.run(snapshot, fresh, self._data_since,
                                                                           unconfirmed),
                             lambda: frozenset(stop_keeper.managed_rows(self.store)))
        report.decisions = self._step(report, "auto-sell", lambda: self.seller.run(
            snapshot, fresh, breach_keys, unconfirmed, covered), list)
        report.decisions += self._step(report, "telegram /sell", lambda: commands.execute_requested_sells(
            self.store, self.seller, snapshot, fresh, unconfirmed, self.clock(), keeper=self.keeper,
            data_since=self._data_since), list)
        if not snapshot.stale:
            self.previous = snapshot
        self.history.tick()  # after acting: time-boxed, free rate-limit slots only
        return report

    def _of(self) -> str:
        return f" for account {self.name}" if self.settings.several else ""

    def _step(self, report: CycleReport, name: str, fn: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        """Run one acting step; on an unexpected error log it, note it in the heartbeat (and once per
        run of failures in the journal) and go on with `fallback()`."""
        try:
            result = fn()
        except Exception as err:  # noqa: BLE001 - logged with its traceback; the cycle's other steps go on
            log.exception("worker step %s failed%s", name, self._of())
            failed = f"{name} failed this cycle ({type(err).__name__}; the worker log has the details)"
            report.note = f"{report.note}; {failed}" if report.note else failed
            if name not in self._failing:
                self._failing.add(name)
                self.store.journal("worker", None, "step_failed", failed[0].upper() + failed[1:], {"step": name})
            return fallback()
        self._failing.discard(name)
        return result

    def prune(self, cutoff: float) -> None:
        alert_store.prune(self.store, cutoff, PRUNABLE_ALERTS)

    def _bars_policy(self, now: float) -> bool:
        """Daily bars from the source at start and once after each market close; else from the cache."""
        due = self._bars_fetched_at is None or (self._bars_due_at is not None and now >= self._bars_due_at)
        market = self.service.market
        if hasattr(market, "max_age"):
            market.max_age = 0.0 if due else BARS_MAX_AGE
        return due

    def _note_bars(self, snapshot: Snapshot, now: float, fetched: bool) -> None:
        if fetched and not snapshot.stale:
            self._bars_fetched_at, self._bars_due_at = now, None
        if self.previous is None or snapshot.stale:
            return
        was_open = {p.ticker for p in self.previous.positions if p.market_open}
        if any(p.ticker in was_open and p.market_open is False for p in snapshot.positions):
            self._bars_due_at = min(self._bars_due_at or float("inf"), now + BARS_AFTER_CLOSE)

    def _fresh(self, snapshot: Snapshot, started: float) -> bool:
        if snapshot.stale:
            return False
        return snapshot.data_time is None or snapshot.data_time.timestamp() >= started - FRESH_SLACK

    def _data_since(self, moment: float) -> bool:
        """Were positions AND orders fetched after `moment`? (reconciliation must not use older data)"""
        for kind in ("positions", "orders"):
            fetched = self.broker.data_time(kind)
            if fetched is not None and fetched < moment:
                return False
        return True

    def _refresh_metadata(self, now: float) -> None:
        """Exchange schedules (holidays) and instruments: refreshed when older than METADATA_EVERY.

        Nothing stored yet: the snapshot fetches them anyway. Stored and recent (a restart): kept.
        """
        if self._metadata_at is not None and now - self._metadata_at < METADATA_EVERY:
            return
        self._metadata_at = now
        fetched = self.broker.data_time("exchanges")
        if fetched is None or now - fetched < METADATA_EVERY:
            return
        try:
            self.broker.exchanges(refresh=True)
            self.broker.instruments(refresh=True)
        except PapisharesError as err:  # an AuthError shows (and alerts) in the snapshot right after
            log.warning("instruments/schedules not refreshed%s: %s", self._of(), err)


class Worker:
    """One lease, one cycle over every account. `settings`/`service` are the first account's;
    `more` the others' (several accounts configured), each acted on in isolation."""

    def __init__(self, settings: Settings, service: Any, *, dry_run: bool = False,
                 clock: Callable[[], float] = time.time, owner: str | None = None,
                 notifier: Notifier | None = None, unknown_grace: float | None = None,
                 more: Sequence[tuple[Settings, Any]] = ()) -> None:
        self.settings = settings
        self.dry_run = dry_run
        self.clock = clock
        self.interval = float(settings.worker_positions_interval)
        first_store: Store = service.store
        self.lease = Lease(first_store, ttl=max(settings.worker_lease_seconds, 2 * self.interval + 1),
                           owner=owner, clock=clock)
        first_notifier = notifier or Notifier(settings, first_store)
        self.accounts: list[AccountCycle] = []
        for own, own_service in ((settings, service), *more):
            # One Telegram chat and one outbox for every account: the first notifier's client delivers.
            own_notifier = first_notifier if not self.accounts else Notifier(
                own, own_service.store, telegram=first_notifier.telegram)
            self.accounts.append(AccountCycle(own, own_service, self.lease, own_notifier, dry_run=dry_run,
                                              clock=clock, interval=self.interval, unknown_grace=unknown_grace))
        self.cycles = 0
        self.last_note: str | None = None
        self._pruned_at = 0.0
        self._waiting_for: str | None = None
        self.remote = _remote_control(settings, service, self.lease.holds, more)  # Telegram commands, or None

    @classmethod
    def for_apps(cls, apps: Sequence[Any], **kwargs: Any) -> Worker:
        """A worker for every configured account (`papishares.app.build.build_all`)."""
        first, *rest = apps
        return cls(first.settings, first.service, more=[(a.settings, a.service) for a in rest], **kwargs)

    # The first (with one account: the only) account's parts, as before several accounts existed.
    @property
    def service(self) -> Any:
        return self.accounts[0].service

    @property
    def store(self) -> Store:
        return self.accounts[0].store

    @property
    def broker(self) -> Any:
        return self.accounts[0].broker

    @property
    def notifier(self) -> Notifier:
        return self.accounts[0].notifier

    @property
    def seller(self) -> autosell.AutoSeller:
        return self.accounts[0].seller

    @property
    def keeper(self) -> stop_keeper.StopKeeper:
        return self.accounts[0].keeper

    @property
    def history(self) -> HistorySchedule:
        return self.accounts[0].history

    @property
    def previous(self) -> Snapshot | None:
        return self.accounts[0].previous

    @previous.setter
    def previous(self, snapshot: Snapshot | None) -> None:
        self.accounts[0].previous = snapshot

    def account(self, name: str) -> AccountCycle:
        return next(a for a in self.accounts if a.name == name)

    # -- one cycle -------------------------------------------------------------------------------
    def cycle(self) -> CycleReport:
        """One full cycle over every account; the caller holds the lease. Never raises for broker trouble."""
        if len(self.accounts) == 1:
            report = self.accounts[0].cycle()
        else:
            reports: dict[str, CycleReport] = {}
            for account in self.accounts:
                reports[account.name] = self._isolated(account)
                if reports[account.name].lease_lost:
                    break  # another worker acts now, for every account
            report = combined(reports)
        if report.lease_lost:
            return report
        return self._end(report)

    @staticmethod
    def _isolated(account: AccountCycle) -> CycleReport:
        """One account's part, whatever happens in it: a bug there costs that account this cycle only."""
        try:
            return account.cycle()
        except Exception as err:  # noqa: BLE001 - logged with its traceback; the other accounts go on
            log.exception("worker cycle failed for account %s", account.name)
            return CycleReport(False, f"cycle failed ({type(err).__name__}; the worker log has the details)")

    def _end(self, report: CycleReport) -> CycleReport:
        self.cycles += 1
        self.last_note = report.note
        self._prune()
        try:
            self.notifier.flush()  # the one outbox, whichever account raised a message
        except PapisharesError as err:  # delivery trouble never stops the worker
            log.warning("alert delivery failed: %s", err)
        self.lease.renew(self._info(report))
        return report

    def _prune(self) -> None:
        """Hourly: forget old once-only keys whose events cannot recur, and old delivered alerts."""
        now = self.clock()
        if now - self._pruned_at < 3600:
            return
        self._pruned_at = now
        cutoff = now - KEEP_DAYS * 86400
        for account in self.accounts:
            account.prune(cutoff)
        outbox_store.prune_delivered(self.store, cutoff)

    def _info(self, report: CycleReport | None = None) -> dict[str, Any]:
        now = self.clock()
        info: dict[str, Any] = {
            "environment": self.broker.environment,
            "dry_run": self.dry_run,
            "interval_s": self.interval,
            "cycles": self.cycles,
            "last_cycle": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if report is not None:
            info.update(ok=report.ok, note=report.note, positions=report.positions)
            if report.accounts:
                info["accounts"] = {name: {"ok": r.ok, "note": r.note, "positions": r.positions}
                                    for name, r in report.accounts.items()}
        return info

    # -- the loop --------------------------------------------------------------------------------
    def wait_for_lease(self, stop: threading.Event, once: bool = False) -> bool:
        """Take the lease, or wait (saying why) until it is free. False when stopped first."""
        while not stop.is_set():
            ours, holder = self.lease.try_acquire(self._info())
            if ours:
                if self._waiting_for is not None:
                    log.warning("took over the worker lease from %s", self._waiting_for)
                    self._waiting_for = None
                self.store.delete(STANDBY_KEY)
                return True
            self._say_waiting(holder)
            if once:
                return False
            stop.wait(min(1.0, self.interval))
        return False

    def _say_waiting(self, holder: LeaseHolder | None) -> None:
        owner = holder.owner if holder else "another worker"
        now = self.clock()
        expires = (holder.expires_at or now) - now if holder else 0.0
        if self._waiting_for != owner:
            log.warning("another worker (%s) holds the lease on %s; waiting (it expires in %.0f s unless renewed)",
                        owner, self.store.path.name, max(0.0, expires))
            self._waiting_for = owner
        self.store.set_json(STANDBY_KEY, {"owner": self.lease.owner, "waiting_for": owner, "seen_at": now})

    def run(self, stop: threading.Event, once: bool = False) -> int:
        if not self.wait_for_lease(stop, once):
            if once:
                print("papishares: another worker is active on this database; --once did nothing",
                      file=sys.stderr)
                return 1
            return 0
        log.info("worker %s acting on %s (%s%s), every %.1f s", self.lease.owner, self.store.path.name,
                 self.broker.environment, ", dry run" if self.dry_run else "", self.interval)
        if len(self.accounts) > 1:
            log.info("accounts: %s", ", ".join(f"{a.name} ({a.broker.environment})" for a in self.accounts))
        if self.remote is not None and not once:
            self.remote.start()
        try:
            if once:  # 0 when the cycle ran; 3 (as `snapshot`) when the broker gave nothing to act on
                return 0 if self.cycle().ok else 3
            next_at = self.clock()
            while not stop.is_set():
                if not self.lease.renew():
                    log.warning("lost the worker lease (another worker took over); waiting for it")
                    if not self.wait_for_lease(stop):
                        break
                try:
                    self.cycle()
                except Exception:  # noqa: BLE001 - the sidecar must outlive a bug in one cycle
                    log.exception("worker cycle failed; continuing")
                next_at += self.interval
                now = self.clock()
                if next_at < now:
                    next_at = now  # a slow cycle: start the next at once, do not pile up
                stop.wait(next_at - now)
            return 0
        finally:
            if self.remote is not None:
                self.remote.stop()
            self.lease.release()
            self.notifier.close()


def _remote_control(settings: Settings, service: Any, holds_lease: Callable[[], bool],
                    more: Sequence[tuple[Settings, Any]] = ()) -> Any:
    """Telegram as a remote control (papishares/commands/handlers.py), when Telegram is configured;
    with several accounts one bot answers for all of them (papishares/commands/accounts.py)."""
    if not settings.telegram_enabled:
        return None
    from papishares.remote.telegram_bot import RemoteControl

    cmds = commands.Commands(settings, service.store, service.last_snapshot, service.bars_for)
    if not more:
        return RemoteControl.from_settings(settings, cmds, service.store, holds_lease)
    from papishares.commands.accounts import AccountsCommands

    each = [cmds, *(commands.Commands(s, svc.store, svc.last_snapshot, svc.bars_for) for s, svc in more)]
    return RemoteControl.from_settings(settings, AccountsCommands(each), service.store, holds_lease)


def configured_accounts(settings: Settings) -> tuple[Settings, ...]:
    """Every account the worker acts for: `settings` alone unless PAPISHARES_ACCOUNTS names several."""
    from papishares.config import load_accounts

    if settings.several:
        return load_accounts()
    accounts = load_accounts()
    return accounts if len(accounts) > 1 else (settings,)


def run_worker(settings: Settings, once: bool = False, dry_run: bool = False,
               stop: threading.Event | None = None, service: Any = None,
               accounts: tuple[Settings, ...] | None = None) -> int:
    """`python -m papishares worker [--once] [--dry-run]`: 0 on a clean stop / a cycle run.

    One worker and one lease for every configured account (`accounts`, else the environment's)."""
    from papishares.app.build import build, build_all

    if service is not None:
        worker = Worker(settings, service, dry_run=dry_run)
    else:
        accounts = accounts or configured_accounts(settings)
        if len(accounts) == 1:
            worker = Worker(accounts[0], build(accounts[0]).service, dry_run=dry_run)
        else:
            worker = Worker.for_apps(build_all(accounts), dry_run=dry_run)
    stop = stop or threading.Event()
    if once:
        return worker.run(stop, once=True)

    result: dict[str, int] = {}

    def body() -> None:
        try:
            result["code"] = worker.run(stop)
        except Exception as err:  # noqa: BLE001 - one line for the user, details in the debug log
            log.debug("worker failed", exc_info=True)
            log.error("worker stopped by an unexpected error (%s); run with PAPISHARES_LOG_LEVEL=DEBUG "
                      "for details", type(err).__name__)
            result["code"] = 1
        finally:
            stop.set()

    thread = threading.Thread(target=body, name="papishares-worker", daemon=True)
    previous = _install_signals(stop)
    try:
        thread.start()
        while thread.is_alive() and not stop.is_set():
            thread.join(0.2)
        thread.join(STOP_GRACE)
        if thread.is_alive():
            log.warning("stopping with a request in flight; an interrupted sale is reconciled at the next start")
            return 0
        return result.get("code", 0)
    finally:
        _restore_signals(previous)


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
