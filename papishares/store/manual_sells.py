"""What Telegram asked for, per account: the confirmation buttons (`tg_confirmations`) and the
sales the user asked for by /sell (`manual_sells`), carried out by the lease holder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from papishares.store.db import Store

_SELL = "key, ticker, chat_id, message_id, status, created_at, updated_at, note, reported"


# -- confirmation buttons -------------------------------------------------------------------------
def add_confirmation(store: Store, conf: str, action: str, ticker: str | None, chat_id: str, user_id: str,
                     at: float, expires_at: float) -> None:
    """A new button (buttons older than a day are forgotten on the way)."""
    store.execute("DELETE FROM tg_confirmations WHERE account = ? AND created_at < ?", (store.account, at - 86400))
    store.execute("INSERT INTO tg_confirmations (account, id, action, ticker, chat_id, user_id, created_at, "
                  "expires_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                  (store.account, conf, action, ticker, chat_id, user_id, at, expires_at))


def attach_message(store: Store, conf: str, message_id: int) -> None:
    store.execute("UPDATE tg_confirmations SET message_id = ? WHERE account = ? AND id = ?",
                  (message_id, store.account, conf))


def confirmation(store: Store, conf: str) -> tuple[Any, ...] | None:
    """(action, ticker, status, expires_at, chat_id, message_id) of a button."""
    rows = store.execute("SELECT action, ticker, status, expires_at, chat_id, message_id FROM tg_confirmations "
                         "WHERE account = ? AND id = ?", (store.account, conf))
    return tuple(rows[0]) if rows else None


def set_confirmation_status(store: Store, conf: str, status: str) -> None:
    store.execute("UPDATE tg_confirmations SET status = ? WHERE account = ? AND id = ?", (status, store.account, conf))


# -- /sell requests -------------------------------------------------------------------------------
def request(store: Store, key: str, ticker: str, chat_id: str | None, message_id: int | None, at: float) -> bool:
    """Record a confirmed /sell once; False when `key` was recorded already."""
    return bool(store.execute(
        "INSERT OR IGNORE INTO manual_sells (account, key, ticker, chat_id, message_id, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?) RETURNING key",
        (store.account, key, ticker, chat_id, message_id, at, at)))


def settle(store: Store, key: str, status: str, note: str, at: float) -> None:
    """A new state for the request, to be reported to the chat."""
    store.execute("UPDATE manual_sells SET status = ?, note = ?, updated_at = ?, reported = 0 "
                  "WHERE account = ? AND key = ?", (status, note, at, store.account, key))


def open_requests(store: Store) -> list[dict[str, Any]]:
    """Requests not finished (requested, releasing a managed stop, or of unknown outcome), oldest first."""
    return store.query(f"SELECT {_SELL} FROM manual_sells WHERE account = ? "  # noqa: S608
                       "AND status IN ('requested', 'releasing', 'unknown') ORDER BY created_at", (store.account,))


def unreported(store: Store) -> list[dict[str, Any]]:
    return store.query(f"SELECT {_SELL} FROM manual_sells WHERE account = ? AND reported = 0 "  # noqa: S608
                       "AND status != 'requested' ORDER BY updated_at", (store.account,))


def mark_reported(store: Store, key: str) -> None:
    store.execute("UPDATE manual_sells SET reported = 1 WHERE account = ? AND key = ?", (store.account, key))


def selling_tickers(store: Store) -> frozenset[str]:
    """Tickers with a confirmed /sell not finished yet."""
    return frozenset(r[0] for r in store.execute(
        "SELECT ticker FROM manual_sells WHERE account = ? AND status IN ('requested', 'releasing')",
        (store.account,)))
