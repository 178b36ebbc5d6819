"""Telegram with several accounts: one bot, one chat, each account's own `Commands` behind it.

Every reply names the account it speaks for. A command about a position (`/sell`, `/rearm`,
`/chart`) goes to the account that holds it; a ticker held in two accounts is two positions, so
`/sell TICKER` then asks which (a button each) and nothing is asked or requested until the user
picks one. `/sell N TICKER`, `/rearm N TICKER`, `/chart N TICKER` and `/autosell on|off N` name the
account. A confirmation lives in the store of the account it was asked for, so a button pressed
acts there and only there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from html import escape

from papishares.commands.handlers import ACTIONS, ACTIONS_OFF, Button, Commands, PressResult, Reply, parse
from papishares.commands.reading import find_position
from papishares.notify.rules import for_account
from papishares.store import manual_sells
from papishares.store.db import Store

log = logging.getLogger(__name__)

PICK = "acct"  # callback data of a "which account?" button: acct:NAME:COMMAND:TICKER
BY_POSITION = ("sell", "rearm", "chart")
PER_ACCOUNT_READS = ("status", "positions", "risk")
MAX_DATA = 64  # bytes Telegram allows in callback_data


class AccountsCommands:
    """The `Commands` of every account, in the configured order, behind one chat."""

    def __init__(self, each: Sequence[Commands]) -> None:
        self.each = {c.settings.account_name: c for c in each}
        self.names = tuple(self.each)
        self.first = each[0]

    # -- messages ---------------------------------------------------------------------------------
    def handle(self, text: str, chat_id: str = "", user_id: str = "") -> Reply | None:
        name, args = parse(text)
        if not name:
            return None
        try:
            return self._route(text, name, args, chat_id, user_id)
        except Exception as err:  # noqa: BLE001 - a bug here never reaches the chat as a traceback
            log.exception("command /%s failed", name)
            return Reply(f"/{escape(name)} failed ({escape(type(err).__name__)}); the worker log has the details.")

    def _route(self, text: str, name: str, args: list[str], chat_id: str, user_id: str) -> Reply | None:
        if name in ACTIONS and not self.first.settings.telegram_actions:
            return self.first.handle(text, chat_id, user_id)  # says how to turn acting commands on
        if name in BY_POSITION:
            return self._by_position(name, args, chat_id, user_id)
        if name == "autosell":
            return self._autosell(args, chat_id, user_id)
        if name in PER_ACCOUNT_READS:
            replies = [(account, c.handle(text, chat_id, user_id)) for account, c in self.each.items()]
            return Reply("\n\n".join(for_account(r.text, account) for account, r in replies if r is not None))
        if name in ("help", "start"):
            reply = self.first.handle(text, chat_id, user_id)
            assert reply is not None
            return Reply(reply.text + "\n" + escape(self.help_accounts()))
        return self.first.handle(text, chat_id, user_id)  # /mute, /notify: one chat, shared settings

    def help_accounts(self) -> str:
        return (f"Accounts: {', '.join(self.names)}. Name one first when a ticker is in two: "
                f"/sell {self.names[0]} TICKER; /autosell on|off ACCOUNT.")

    def _by_position(self, name: str, args: list[str], chat_id: str, user_id: str) -> Reply:
        if len(args) == 2 and args[0].lower() in self.each:
            return self._in(args[0].lower(), f"/{name} {_quoted(args[1])}", chat_id, user_id)
        if len(args) != 1:
            return Reply(f"Send /{name} TICKER or /{name} ACCOUNT TICKER (accounts: {escape(', '.join(self.names))}).")
        holding = [account for account, c in self.each.items() if find_position(c.snapshot(), args[0]) is not None]
        if len(holding) == 1:
            return self._in(holding[0], f"/{name} {_quoted(args[0])}", chat_id, user_id)
        if not holding:
            return Reply(f"No open position for {escape(args[0])} in any account ({escape(', '.join(self.names))}).")
        buttons = tuple(Button(account, data) for account in holding
                        if len((data := f"{PICK}:{account}:{name}:{args[0]}").encode()) <= MAX_DATA)
        accounts = ", ".join(holding[:-1]) + " and " + holding[-1]
        question = (f"{escape(args[0])} is held in {escape(accounts)}: {len(holding)} positions. Which account? "
                    f"(or send /{name} ACCOUNT {escape(args[0])})")
        return Reply(question, buttons if len(buttons) == len(holding) else ())

    def _autosell(self, args: list[str], chat_id: str, user_id: str) -> Reply:
        if len(args) == 2 and args[0].lower() in ("on", "off") and args[1].lower() in self.each:
            return self._in(args[1].lower(), f"/autosell {args[0].lower()}", chat_id, user_id)
        states = "; ".join(f"{account} {'on' if c.store.autosell_enabled else 'off'}"
                           for account, c in self.each.items())
        return Reply(f"Auto-sell is per account ({escape(states)}). Send /autosell on ACCOUNT or "
                     f"/autosell off ACCOUNT, e.g. /autosell off {escape(self.names[0])}.")

    def _in(self, account: str, text: str, chat_id: str, user_id: str) -> Reply:
        reply = self.each[account].handle(text, chat_id, user_id)
        assert reply is not None  # a command always gets a reply
        return Reply(for_account(reply.text, account), reply.buttons, reply.photo, reply.confirmation)

    # -- buttons ----------------------------------------------------------------------------------
    def press(self, data: str, chat_id: str = "", user_id: str = "") -> PressResult:
        verb, _, rest = (data or "").partition(":")
        if verb == PICK:
            if not self.first.settings.telegram_actions:
                return PressResult("Actions are off.", ACTIONS_OFF)
            account, _, rest = rest.partition(":")
            command, _, ticker = rest.partition(":")
            if account not in self.each or command not in BY_POSITION or not ticker:
                return PressResult("This button is not one of mine.", None)
            reply = self._in(account, f"/{command} {_quoted(ticker)}", chat_id, user_id)
            return PressResult(f"{account}", f"{escape(ticker)}: {escape(account)} chosen.", reply)
        holder = self._holder(rest)
        if holder is None:
            return self.first.press(data, chat_id, user_id)  # "no longer valid" / "not one of mine"
        result = self.each[holder].press(data, chat_id, user_id)
        edit = for_account(result.edit, holder) if result.edit is not None else None
        return PressResult(result.answer, edit, result.reply)

    def attach_message(self, conf: str, message_id: int) -> None:
        account = self._holder(conf)
        if account is not None:
            self.each[account].attach_message(conf, message_id)

    def _holder(self, conf: str) -> str | None:
        """The account whose store holds confirmation `conf` (ids are random: at most one does)."""
        if not conf:
            return None
        return next((a for a, c in self.each.items() if manual_sells.confirmation(c.store, conf) is not None), None)

    # -- what the bot reports of each account's /sell -------------------------------------------------
    def sell_stores(self) -> list[tuple[str | None, Store]]:
        return [(account, c.store) for account, c in self.each.items()]


def _quoted(word: str) -> str:
    """One argument back into a command line (a ticker with a space stays one word)."""
    return '"' + word.replace('"', "") + '"' if any(ch.isspace() for ch in word) else word

