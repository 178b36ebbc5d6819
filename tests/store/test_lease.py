"""The worker lease: one holder, takeover after expiry, release on a clean stop."""

from __future__ import annotations

from pathlib import Path

from papishares.store.db import Store
from papishares.store.lease import Lease, read_lease


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_one_holder_then_takeover_after_expiry(tmp_path: Path) -> None:
    clock = Clock()
    a = Lease(Store(tmp_path / "p.db"), ttl=20, owner="a", clock=clock)
    b = Lease(Store(tmp_path / "p.db"), ttl=20, owner="b", clock=clock)  # a second process
    assert a.try_acquire({"environment": "demo-sim"}) == (True, None)
    ours, holder = b.try_acquire()
    assert not ours and holder is not None and holder.owner == "a" and holder.info == {"environment": "demo-sim"}
    clock.now += 15
    assert a.renew({"cycles": 3})  # heartbeat keeps it
    clock.now += 15
    assert not b.try_acquire()[0]
    assert a.holds() and not b.holds()
    clock.now += 25  # a stopped renewing
    assert not a.holds()
    assert b.try_acquire()[0] and b.holds()
    assert not a.renew()  # a learns it lost the lease and must not act
    assert not a.try_acquire()[0]


def test_release_lets_the_next_worker_in_at_once_and_keeps_the_heartbeat(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path / "p.db")
    a = Lease(store, ttl=20, owner="a", clock=clock)
    b = Lease(store, ttl=20, owner="b", clock=clock)
    a.try_acquire()
    clock.now += 1
    a.renew()
    a.release()
    row = read_lease(store)
    assert row is not None and row.heartbeat_at == clock.now and row.owner == "a"
    assert b.try_acquire()[0]
    after = read_lease(store)
    assert after is not None and after.owner == "b" and after.acquired_at == clock.now


def test_reacquiring_our_own_lease_keeps_its_start(tmp_path: Path) -> None:
    clock = Clock()
    a = Lease(Store(tmp_path / "p.db"), ttl=20, owner="a", clock=clock)
    a.try_acquire()
    start = clock.now
    clock.now += 5
    assert a.try_acquire()[0]
    row = read_lease(a.store)
    assert row is not None and row.acquired_at == start and row.heartbeat_at == clock.now
