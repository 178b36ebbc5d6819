"""`papishares history sync|trades|export|report|tax`: the history's command-line verbs.

Hooked into papishares.cli by `add_parser` and `run`; expected failures raise PapisharesError,
which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from papishares.config import Settings


def add_parser(sub: Any) -> None:
    hist = sub.add_parser("history", help="trades, equity, dividends: sync, show, export")
    verbs = hist.add_subparsers(dest="action", required=True)
    sync = verbs.add_parser("sync", help="fetch orders, dividends and transactions history now")
    sync.add_argument("--full", action="store_true", help="re-walk everything (fills blocks a buggy walk skipped)")
    sync.add_argument("--time-box", type=float, default=None, help="stop after this many seconds (resumes later)")
    sync.add_argument("--json", action="store_true", help="print the report as one JSON object")
    trades = verbs.add_parser("trades", help="closed trades with R and their summary")
    trades.add_argument("--json", action="store_true", help="print them as one JSON object (the default)")
    export = verbs.add_parser("export", help="write trades.csv, dividends.csv, transactions.csv, daily.csv")
    export.add_argument("dir")
    export.add_argument("--excel", action="store_true", help="also write history.xlsx")
    report = verbs.add_parser("report", help="Trading 212's own CSV export (request, poll, download) into DIR")
    report.add_argument("dir")
    report.add_argument("--wait", type=float, default=600.0, help="how long to poll for the report (s)")
    tax = verbs.add_parser("tax", help="UK capital gains per tax year (cgt-calc) from Trading 212's CSV report")
    tax.add_argument("csv", nargs="*", help="Trading 212 CSV export file(s); none: fetch the account's report")
    tax.add_argument("--wait", type=float, default=600.0, help="how long to poll for the report (s)")
    tax.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.app.build import open_store

    store = open_store(settings)
    named = settings.account_name if settings.several else None  # an `account` field/column only then
    if args.action == "trades":
        from papishares.history.book import trades_json

        _print(trades_json(store, named))
        return 0
    if args.action == "export":
        from papishares.history.export import excel_bytes, write_csv

        paths = write_csv(store, args.dir, named)
        if args.excel:
            target = paths[0].parent / "history.xlsx"
            target.write_bytes(excel_bytes(store, named))
            paths.append(target)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0
    if args.action == "tax" and args.csv:
        from papishares.history.tax import render, summarise

        return _tax_out(summarise(settings, args.csv), args.json, render)
    from papishares.app.build import make_broker

    broker = make_broker(settings, store)
    if args.action == "tax":
        from papishares.history.tax import render
        from papishares.history.tax_run import compute

        return _tax_out(compute(settings, store, broker, wait=args.wait), args.json, render)
    if args.action == "report":
        from papishares.history.t212_report import fetch_report

        path = fetch_report(broker, store, args.dir, wait=args.wait)
        print(f"wrote {path}")
        return 0
    from papishares.history.sync import sync

    report = sync(store, broker, time_box=args.time_box, patience=65.0, full=args.full)
    if args.json:
        _print(report.to_json())
    else:
        for kind, r in report.kinds.items():
            state = "complete" if r.complete else "unfinished (the next sync goes on)"
            print(f"{kind}: {r.pages} pages, {r.new_items} new, {state}" + (f" - {r.note}" if r.note else ""))
    return 0


def _tax_out(summary: Any, as_json: bool, render: Any) -> int:
    if as_json:
        _print(summary.to_json())
    else:
        for line in render(summary):
            print(line)
    return 1 if any(y.error for y in summary.years) else 0


def _print(data: object) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()
