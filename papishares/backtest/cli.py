"""`papishares backtest exits|entries`: hooked into papishares.cli by `add_parser` and `run`.

Expected failures raise PapisharesError, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from papishares.config import Settings
from papishares.core import stop_modes
from papishares.core.errors import PapisharesError


def add_parser(sub: Any) -> None:
    bt = sub.add_parser("backtest", help="stop modes on your trades; the Turtle entries over a period")
    verbs = bt.add_subparsers(dest="action", required=True)
    ex = verbs.add_parser("exits", help="each closed trade replayed under every stop mode")
    ex.add_argument("--trades", default=None, help="CSV: symbol,entry_date,entry_price,initial_stop[,quantity]")
    ex.add_argument("--modes", default=None, help=f"comma-separated, default all: {','.join(stop_modes.MODES)}")
    ex.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    en = verbs.add_parser("entries", help="the Turtle breakouts, sized by the risk rule, exited by a stop mode")
    en.add_argument("--symbols", default=None, help="comma-separated market-data symbols (default: the entries universe)")
    en.add_argument("--from", dest="start", default=None, help="YYYY-MM-DD (default: 3 years ago)")
    en.add_argument("--to", dest="end", default=None, help="YYYY-MM-DD (default: the last completed bar)")
    en.add_argument("--mode", default="risk", help=f"the exit: one of {', '.join(stop_modes.MODES)}")
    en.add_argument("--capital", type=float, default=None, help="starting equity (default: the account's value)")
    en.add_argument("--json", action="store_true", help="print one JSON object (the default)")


def _day(text: str | None, flag: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PapisharesError(f"backtest: {flag} needs a date as YYYY-MM-DD, got {text!r}") from None


def _modes(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        return [stop_modes.check_mode(m) for m in text.split(",") if m.strip()]
    except ValueError as err:
        raise PapisharesError(f"backtest: {err}") from None


def run(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.backtest import run as backtest

    if args.action == "exits":
        data = backtest.exits_json(settings, args.trades, _modes(args.modes))
    else:
        mode = (_modes(args.mode) or ["risk"])[0]
        symbols = [s for s in (args.symbols or "").split(",") if s.strip()] or None
        data = backtest.entries_json(settings, symbols, _day(args.start, "--from"), _day(args.end, "--to"), mode,
                                     capital=args.capital)
    sys.stdout.write(backtest.dumps(data) + "\n")
    sys.stdout.flush()
    return 0
