"""Trading 212's own CSV report, the complete record: request it, poll until Finished, download.

POST /equity/history/exports (1 / 30 s) returns a reportId, kept in the store so a rerun polls the
same report instead of asking for another (each request also notifies the account's app);
GET /equity/history/exports (1 / 1 min) is polled through the client's budget until that report is
`Finished`; its `downloadLink` is fetched with a plain HTTP client WITHOUT the API credentials (the
link points at a storage host, which must never see the key).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from papishares.broker import Broker
from papishares.broker.ratebudget import Reservation, endpoint_key
from papishares.broker.trading212 import Trading212Client
from papishares.core.errors import BrokerError, PapisharesError, RateLimited
from papishares.store.db import Store
from papishares.store.keys import Key

PATH = "/equity/history/exports"
PENDING_KEY = Key.REPORT_PENDING
FAILED = ("Canceled", "Failed")


def request_body(time_from: datetime, time_to: datetime) -> dict[str, Any]:
    return {"dataIncluded": {"includeDividends": True, "includeInterest": True, "includeOrders": True,
                             "includeTransactions": True},
            "timeFrom": time_from.strftime("%Y-%m-%dT%H:%M:%SZ"), "timeTo": time_to.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _request(client: Any, body: dict[str, Any]) -> int:
    key = endpoint_key("POST", PATH)
    slot = client.budget.reserve(key, max_wait=35.0, in_flight=client._timeout + 1.0)
    if not isinstance(slot, Reservation):
        raise RateLimited("The report was not requested: the rate limit allows one request per 30 s",
                          client.budget.next_free(key))
    resp = client._request(slot, "POST", PATH, json_body=body)
    client._raise_auth(resp, key)
    try:
        report_id = int(json.loads(resp.text)["reportId"])
    except (ValueError, KeyError, TypeError):
        raise BrokerError(f"Trading 212 answered the report request with HTTP {resp.status_code} "
                          "and no reportId") from None
    return report_id


def _reports(data: Any, _key: str) -> list[dict[str, Any]]:
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def fetch_report(client: Broker, store: Store, directory: str | Path, *, wait: float = 600.0,
                 since: datetime | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 download: Callable[[str], httpx.Response] | None = None) -> Path:
    """The whole account's report as DIR/trading212-<reportId>.csv. Raises PapisharesError."""
    if not isinstance(client, Trading212Client):
        raise PapisharesError("Only a Trading 212 account has a CSV report; the demo's history is in "
                              "`papishares history export DIR`")
    pending = store.get_json(PENDING_KEY)
    if pending is None:
        now = datetime.fromtimestamp(clock(), UTC)
        report_id = _request(client, request_body(since or now.replace(year=now.year - 10), now))
        store.set_json(PENDING_KEY, {"report_id": report_id, "requested_at": clock()})
    else:
        report_id = int(pending["report_id"])
    deadline = clock() + wait
    get_key = endpoint_key("GET", PATH)
    status: str | None = None
    while True:
        slot_in = client.budget.next_free(get_key) - client.budget.clock()
        if clock() + max(0.0, slot_in) > deadline:  # the next poll (1 / min) would come after the wait
            raise PapisharesError(f"Trading 212 report {report_id} is {'still ' + status if status else 'being prepared'}; "
                                  "ask again in a minute (the same command or button) to go on polling it")
        reports = client._get(PATH, _reports, use_cache=False, patience=min(65.0, wait + 1.0))
        mine = next((r for r in reports if r.get("reportId") == report_id), None)
        status = (mine or {}).get("status")
        if status in FAILED:
            store.delete(PENDING_KEY)
            raise BrokerError(f"Trading 212 report {report_id} ended as {status}: request a new one")
        link = (mine or {}).get("downloadLink")
        if status == "Finished" and link:
            break
        status = status or "not listed"
        if clock() >= deadline:
            raise PapisharesError(f"Trading 212 report {report_id} is still {status}; "
                                  "ask again in a minute (the same command or button) to go on polling it")
        sleep(1.0)  # the budget paces the polls at 1 / min
    get = download or (lambda url: httpx.get(url, timeout=60.0, follow_redirects=True))
    resp = get(link)  # a bare client: no Authorization header goes to the download host
    if resp.status_code != 200:
        raise BrokerError(f"The report download failed (HTTP {resp.status_code})")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"trading212-{report_id}.csv"
    target.write_bytes(resp.content)
    store.delete(PENDING_KEY)
    return target
