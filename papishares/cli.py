"""`python -m papishares COMMAND`: the command-line front end (see INTERFACE.md for exit codes).

Expected failures print one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

from papishares.app.build import UnknownAccount, open_store
from papishares.app.logs import configure_logging
from papishares.backtest import cli as backtest_cli
from papishares.config import ConfigError, Settings, load_accounts
from papishares.core.errors import AuthError, BrokerError, PapisharesError
from papishares.core.models import Snapshot
from papishares.history import cli as history_cli

EXIT_OK, EXIT_FAIL, EXIT_CONFIG, EXIT_BROKER = 0, 1, 2, 3
log = logging.getLogger("papishares")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="papishares", description="Papishares: stops, risk and alerts for Trading 212")
    sub = parser.add_subparsers(dest="command", required=True)

    snap = sub.add_parser("snapshot", help="one portfolio snapshot")
    snap.add_argument("--json", action="store_true", help="print it as one JSON object (the default)")

    worker = sub.add_parser("worker", help="the sidecar: alerts and auto-sell")
    worker.add_argument("--once", action="store_true", help="run exactly one cycle, then exit")
    worker.add_argument("--dry-run", action="store_true", help="record and alert 'would sell', send nothing")

    auto = sub.add_parser("autosell", help="the auto-sell flag")
    auto_sub = auto.add_subparsers(dest="action", required=True)
    auto_sub.add_parser("on")
    auto_sub.add_parser("off")
    auto_sub.add_parser("status")
    rearm = auto_sub.add_parser("rearm", help="hand a held position back to auto-sell")
    rearm.add_argument("ticker")

    stops = sub.add_parser("brokerstops", help="the stops kept at Trading 212")
    stops_sub = stops.add_subparsers(dest="action", required=True)
    stops_sub.add_parser("status", help="the setting and the positions left out")
    for word, what in (("on", "take a position back in"), ("off", "leave a position out (its stop is cancelled)")):
        stops_sub.add_parser(word, help=what).add_argument("ticker")

    sub.add_parser("health", help="worker status as JSON; exit 0 when its heartbeat is fresh")

    entries = sub.add_parser("entries", help="Turtle entry candidates")
    entries.add_argument("--json", action="store_true", help="print them as one JSON object (the default)")
    entries.add_argument("--fractional", action="store_true", help="size in fractional shares")

    history_cli.add_parser(sub)
    backtest_cli.add_parser(sub)
    doctor = sub.add_parser("doctor", help="read-only checks of the account and set-up (never sends an order)")
    doctor.add_argument("--json", action="store_true", help="one JSON object {checks, ok}")
    doctor.add_argument("--telegram", action="store_true", help="also send a Telegram test message")

    run = sub.add_parser("run", help="the dashboard and the worker together (make run); Ctrl-C stops both")
    run.add_argument("--port", type=int, default=None, help="the dashboard's port (Streamlit's default 8501)")
    run.add_argument("--address", default=None, help="the dashboard's address (Streamlit's default)")

    dash = sub.add_parser("dashboard", help="the dashboard and its JSON API on one port (until stopped)")
    dash.add_argument("--port", type=int, default=None, help="the port (Streamlit's default 8501)")
    dash.add_argument("--address", default=None, help="the address to listen on (Streamlit's default)")

    demo = sub.add_parser("demo", help="the built-in demo broker")
    demo_sub = demo.add_subparsers(dest="action", required=True)
    demo_sub.add_parser("reset", help="start the demo account afresh")
    _add_account_option(parser)
    return parser


def _add_account_option(parser: argparse.ArgumentParser) -> None:
    """`--account N` on every command and verb (after the command word or after the verb), so
    `papishares autosell on --account isa` and `papishares autosell --account isa on` both work."""
    parser.add_argument("--account", default=argparse.SUPPRESS, metavar="N",
                        help="the account N of PAPISHARES_ACCOUNTS (default: every account where that makes sense)")
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _add_account_option(child)


class AccountNeeded(Exception):
    """A command that acts on one account was given none while several are configured."""

    def __init__(self, what: str, names: tuple[str, ...]) -> None:
        super().__init__(f"{what} needs --account with several accounts: the accounts are {', '.join(names)}")


def choose_accounts(accounts: tuple[Settings, ...], name: str | None) -> tuple[Settings, ...]:
    """The accounts a command acts on: the one `--account` names, else every configured one."""
    if name is None:
        return accounts
    for settings in accounts:
        if settings.account_name == name:
            return (settings,)
    raise UnknownAccount(name, tuple(s.account_name for s in accounts))


def _one(chosen: tuple[Settings, ...], what: str) -> Settings:
    if len(chosen) > 1:
        raise AccountNeeded(what, tuple(s.account_name for s in chosen))
    return chosen[0]


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def _snapshot(settings: Settings, prefix: str) -> tuple[int, Snapshot | None]:
    """One account's snapshot, or the exit code after one line on stderr (`prefix` names the account
    when there are several)."""
    from papishares.app.build import build

    service = build(settings).service
    try:
        snapshot = service.snapshot()
    except AuthError as err:
        print(f"papishares: {prefix}{err}", file=sys.stderr)
        return EXIT_BROKER, None
    except BrokerError as err:
        print(f"papishares: {prefix}the broker cannot be reached: {err}", file=sys.stderr)
        return EXIT_BROKER, None
    if snapshot.stale:
        print(f"papishares: {prefix}{snapshot.broker_note}", file=sys.stderr)
        return EXIT_BROKER, None
    return EXIT_OK, snapshot


def cmd_snapshot(chosen: tuple[Settings, ...], args: argparse.Namespace) -> int:
    """One account: its snapshot JSON. Several: each account's, and the combined totals."""
    several = len(chosen) > 1
    snapshots = []
    for settings in chosen:
        code, snapshot = _snapshot(settings, f"{settings.account_name}: " if several else "")
        if snapshot is None:
            return code
        snapshots.append(snapshot)
    if not several:
        _print_json(snapshots[0].to_json())
        return EXIT_OK
    from papishares.snapshot.combined import MissingRate, combine, several_json

    try:
        combined = combine(snapshots, _rates(chosen[0], snapshots))
    except MissingRate as err:
        print(f"papishares: the accounts cannot be combined: {err} (use --account)", file=sys.stderr)
        return EXIT_FAIL
    _print_json(several_json(snapshots, combined, max(s.generated_at for s in snapshots)))
    return EXIT_OK


def _rates(first: Settings, snapshots: list[Snapshot]) -> dict[str, float]:
    """The first account's currency per unit of each other account's currency (rarely needed:
    Trading 212 accounts of one person usually share a currency)."""
    from papishares.entries.fx import resolve
    from papishares.snapshot.combined import currencies

    needed = currencies(snapshots)
    if not needed:
        return {}
    return resolve(needed, snapshots[0].account.currency, store=open_store(first),
                   demo=first.broker == "demo").rates


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.worker.loop import run_worker

    return run_worker(settings, once=args.once, dry_run=args.dry_run)


def cmd_autosell(chosen: tuple[Settings, ...], args: argparse.Namespace) -> int:
    """`on|off` without --account sets every account; `status` prints one `N on|off` line per
    account when there are several; `rearm` acts on one account."""
    from papishares.commands import autosell, render_cli

    if args.action in ("on", "off", "status"):
        for settings in chosen:
            store = open_store(settings)
            flag = (autosell.switch(store, args.action == "on") if args.action != "status"
                    else autosell.state(store))
            word = render_cli.autosell_word(flag)
            print(f"{settings.account_name} {word}" if len(chosen) > 1 else word)
        return EXIT_OK
    store = open_store(_one(chosen, "autosell rearm"))
    result = autosell.rearm(store, args.ticker)
    if result.rearmed:
        print(render_cli.rearm_line(result))
        return EXIT_OK
    print(f"papishares: {render_cli.rearm_line(result)}", file=sys.stderr)
    return EXIT_FAIL


def cmd_brokerstops(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.commands import brokerstops, render_cli

    store = open_store(settings)
    if args.action == "status":
        print("\n".join(render_cli.brokerstops_lines(brokerstops.status(store, settings.broker_stops))))
    elif args.action == "off":
        print(render_cli.position_switched_line(brokerstops.leave_out(store, args.ticker, "switched off by the user")))
    else:
        print(render_cli.position_switched_line(brokerstops.keep(store, args.ticker)))
    return EXIT_OK


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.commands.health import worker_health

    health = worker_health(open_store(settings), settings)
    _print_json(health.to_json())
    return EXIT_OK if health.healthy else EXIT_FAIL


def cmd_entries(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.app.build import build
    from papishares.entries import entries_json

    _print_json(entries_json(settings, build(settings).service, fractional=args.fractional))
    return EXIT_OK


def cmd_demo(chosen: tuple[Settings, ...], args: argparse.Namespace) -> int:
    """Without --account every demo account starts afresh."""
    from papishares.app.build import demo_broker

    for settings in chosen:
        demo_broker(settings, open_store(settings)).reset()
        print(f"{settings.account_name}: demo account reset" if len(chosen) > 1 else "demo account reset")
    return EXIT_OK


def cmd_doctor(chosen: tuple[Settings, ...], args: argparse.Namespace) -> int:
    """Every account is checked, one section each (a single account: one report, as ever)."""
    from papishares.doctor import checks as doctor

    def line(check: doctor.Check) -> None:  # one line per check as it completes
        print(check.line(), flush=True)

    progress = None if args.json else line
    if len(chosen) == 1:
        report = doctor.run_checks(chosen[0], send_test=args.telegram, progress=progress)
        if args.json:
            _print_json(report.to_json())
        else:
            print(report.text().splitlines()[-1])
        return report.exit_code
    reports = []
    for n, settings in enumerate(chosen):
        if not args.json:
            print(("\n" if n else "") + f"== account {settings.account_name} ==", flush=True)
        # Telegram is one chat for every account: its test message is sent once
        reports.append(doctor.run_checks(settings, send_test=args.telegram and n == 0, progress=progress))
    sections = doctor.Sections(tuple(s.account_name for s in chosen), tuple(reports))
    if args.json:
        _print_json(sections.to_json())
    else:
        print()
        print(sections.summary())
    return sections.exit_code


def _doctor_config_error(argv: argparse.Namespace, err: ConfigError) -> int:
    from papishares.doctor import checks as doctor

    report = doctor.config_failure(str(err))
    if argv.json:
        _print_json(report.to_json())
    else:
        print(report.text())
    return report.exit_code


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from papishares.app.supervisor import run

    return run(settings, port=args.port, address=args.address)


def cmd_dashboard(settings: Settings | None, args: argparse.Namespace) -> int:
    from papishares.app.supervisor import home_py
    from papishares.remote.api.server import serve

    return serve(home_py(), port=args.port, address=args.address)


# Commands over every account chosen (all of them without --account).
EACH: dict[str, Callable[[tuple[Settings, ...], argparse.Namespace], int]] = {
    "snapshot": cmd_snapshot,
    "autosell": cmd_autosell,
    "demo": cmd_demo,
    "doctor": cmd_doctor,
}
# Commands over one account: those in NEEDS_ONE need --account when several are configured; the
# others (the worker, the dashboard, health, entries, backtests) take the first account without it.
COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "worker": cmd_worker,
    "health": cmd_health,
    "brokerstops": cmd_brokerstops,
    "entries": cmd_entries,
    "history": history_cli.run,
    "backtest": backtest_cli.run,
    "run": cmd_run,
    "dashboard": cmd_dashboard,
}
NEEDS_ONE = {"brokerstops", "history"}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        accounts = load_accounts()
    except ConfigError as err:
        if args.command == "doctor":  # the doctor reports it as its first check (and in JSON)
            return _doctor_config_error(args, err)
        if args.command == "dashboard":  # served anyway: the pages show the error, /readyz says why
            print(f"papishares: {err} (the dashboard starts; /readyz answers 503 until it is fixed)",
                  file=sys.stderr)
            return cmd_dashboard(None, args)
        print(f"papishares: {err}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(accounts)  # every account's secrets redacted
    try:
        chosen = choose_accounts(accounts, getattr(args, "account", None))
        if args.command in EACH:
            return EACH[args.command](chosen, args)
        if args.command in NEEDS_ONE:
            return COMMANDS[args.command](_one(chosen, args.command), args)
        return COMMANDS[args.command](chosen[0], args)
    except (UnknownAccount, AccountNeeded) as err:
        print(f"papishares: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as err:
        print(f"papishares: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except PapisharesError as err:
        print(f"papishares: {err}", file=sys.stderr)
        return EXIT_BROKER if isinstance(err, BrokerError) else EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as err:  # the last net: one line, never a traceback, details in the debug log
        log.debug("unexpected error", exc_info=True)
        print(f"papishares: unexpected error ({type(err).__name__}); run with PAPISHARES_LOG_LEVEL=DEBUG "
              "for details", file=sys.stderr)
        return EXIT_FAIL
