"""Typed settings from the environment and `.env`, validated once at start.

The real environment wins over `.env`. A bad value raises `ConfigError` whose message is one line
naming the variable and what it accepts; a secret's value is never part of any message or repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

LIVE_BASE = "https://live.trading212.com/api/v0"
DEMO_BASE = "https://demo.trading212.com/api/v0"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A configuration value is invalid. `str()` is one line fit to print to a user."""

    def __init__(self, variable: str, accepts: str, got: str | None = None) -> None:
        self.variable = variable
        shown = f" (got {got!r})" if got is not None else ""
        super().__init__(f"configuration error: {variable} must be {accepts}{shown}")

    def renamed(self, variable: str) -> ConfigError:
        """The same error naming `variable` (an account's own name for an unnamed variable)."""
        err = ConfigError(variable, "")
        err.args = (str(self).replace(f" {self.variable} ", f" {variable} ", 1),)
        return err


class Secret(str):
    """A string whose repr and str-formatting in messages never reveal it.

    `reveal()` is the only way to get the value; `str(secret)` and f-strings show a mask, so a
    secret passed by mistake into a log line or an exception message stays hidden.
    """

    def __new__(cls, value: str) -> Secret:
        obj = super().__new__(cls, "********")
        obj._value = value  # type: ignore[attr-defined]
        return obj

    def reveal(self) -> str:
        return self._value  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return "Secret('********')"

    def __bool__(self) -> bool:
        return bool(self._value)  # type: ignore[attr-defined]


def mask(value: str | None) -> str:
    """What a page or log may show of a secret: whether it is set, never any of its characters."""
    return "(set)" if value else "(unset)"


@dataclass(frozen=True)
class Settings:
    t212_api_key: Secret | None = None
    t212_secret_key: Secret | None = None
    t212_env: str = "live"
    t212_api_base: str = LIVE_BASE
    broker: str = "demo"  # resolved: "demo" or "t212"
    market_data: str = "demo"  # resolved: "yahoo" | "demo" | "csv" | "none"
    market_csv_dir: Path | None = None
    telegram_bot_token: Secret | None = None
    telegram_chat_id: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    db_path: Path = Path("papishares.db")
    risk_percentage: float = 0.7
    stop_mode: str = "risk"  # PAPISHARES_STOP_MODE: the rule the live calculated stop follows
    total_risk_percentage: float = 7.0
    allow_live_orders: bool = False
    watchlist_path: Path | None = None
    entries_url: str | None = None
    entries_path: Path | None = None
    # Papishares' own additions (documented in the README)
    dashboard_password: Secret | None = None
    refresh_seconds: int = 30
    worker_positions_interval: float = 5.0
    worker_lease_seconds: float = 20.0
    heartbeat_max_age: float = 60.0
    demo_seed: int = 212
    demo_always_open: bool = False
    entries_indices: tuple[str, ...] = ("FTSE 100",)
    http_timeout: float = 10.0
    # Telegram commands and dashboard sign-in (issue 12, docs/telegram.md)
    telegram_allowed_users: frozenset[int] = frozenset()
    telegram_actions: bool = False
    allowed_emails: frozenset[str] = frozenset()
    history_interval: float = 1800.0  # s between the worker's history syncs (0: off)
    account_type: str = "invest"  # invest | isa: ISA gains are tax-free (no capital gains computed)
    benchmark: str = "VUSA.L"  # the History page's benchmark (a market-data symbol)
    broker_stops: bool = False  # PAPISHARES_BROKER_STOPS (the dashboard may override it in the database)
    broker_stop_min_move: float = 0.5  # % of the managed order's stop price
    broker_stop_interval: float = 60.0  # s between two moves of one position's managed stop
    api_token: Secret | None = None  # PAPISHARES_API_TOKEN: the JSON API's bearer token
    account: str = ""  # the name PAPISHARES_ACCOUNTS gives this account ("" with one unnamed account)
    accounts: tuple[str, ...] = ()  # every name PAPISHARES_ACCOUNTS configures, in its order
    extra: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def account_name(self) -> str:
        """The account the store keys rows by: its configured name; the one unnamed account is named
        after PAPISHARES_ACCOUNT_TYPE."""
        return self.account or self.account_type

    @property
    def several(self) -> bool:
        """More than one account is configured."""
        return len(self.accounts) > 1

    @property
    def environment(self) -> str:
        """`demo-sim` (built-in simulated broker), `t212-demo` (paper) or `t212-live`."""
        if self.broker == "demo":
            return "demo-sim"
        return "t212-demo" if self.t212_env == "demo" else "t212-live"

    @property
    def is_live(self) -> bool:
        return self.environment == "t212-live"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token) and bool(self.telegram_chat_id)

    def effective(self) -> dict[str, str]:
        """The configuration as a user may see it: every secret masked."""
        shown: dict[str, str] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Secret) or f.name in SECRET_FIELDS:
                shown[f.name] = mask(value)
            elif isinstance(value, frozenset):
                shown[f.name] = ", ".join(sorted(str(v) for v in value))
            elif isinstance(value, tuple):
                shown[f.name] = ", ".join(value)
            else:
                shown[f.name] = "" if value is None else str(value)
        shown["environment"] = self.environment
        return shown


SECRET_FIELDS = {"t212_api_key", "t212_secret_key", "telegram_bot_token", "dashboard_password", "api_token"}


def _number(env: Mapping[str, str], name: str, default: float, lo: float, hi: float, accepts: str) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, accepts, raw) from None
    if not (lo < value <= hi):
        raise ConfigError(name, accepts, raw)
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(name, "true or false", raw)


# the stop modes (papishares.core.stop_modes.MODES; a test keeps them equal without importing pandas here)
STOP_MODES = ("risk", "chandelier", "breakeven", "turtle", "sma", "macd")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw not in choices:
        raise ConfigError(name, "one of " + ", ".join(choices), env.get(name))
    return raw


def _secret(env: Mapping[str, str], name: str) -> Secret | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if any(c.isspace() for c in raw) or not raw.isprintable():
        # Never echo the value: only say what is wrong with it.
        raise ConfigError(name, "a single token without spaces or control characters (value not shown)")
    return Secret(raw)


def _http_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(name, "an http:// or https:// URL", raw)
    return raw.rstrip("/")


def _id_list(env: Mapping[str, str], name: str) -> frozenset[int]:
    """Comma-separated Telegram user ids (numbers)."""
    raw = env.get(name, "").strip()
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ConfigError(name, "comma-separated numeric Telegram user ids", raw)
    return frozenset(int(p) for p in parts)


def _email_list(env: Mapping[str, str], name: str) -> frozenset[str]:
    """Comma-separated e-mail addresses, compared case-insensitively."""
    raw = env.get(name, "").strip()
    parts = [p.strip().lower() for p in raw.split(",") if p.strip()]
    if any(p.count("@") != 1 or p.startswith("@") or p.endswith("@") or " " in p for p in parts):
        raise ConfigError(name, "comma-separated e-mail addresses", raw)
    return frozenset(parts)


def normalize_api_base(base: str) -> str:
    """Accept `.../api/v0` and the older `.../api/v0/equity`; return the `.../api/v0` form."""
    base = base.rstrip("/")
    if base.endswith("/equity"):
        base = base[: -len("/equity")]
    return base


def _env_from_base(base: str) -> str | None:
    host = urlparse(base).hostname or ""
    if host == "demo.trading212.com":
        return "demo"
    if host == "live.trading212.com":
        return "live"
    return None


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> Settings:
    """Read and validate every setting. Raises ConfigError (one line) on the first bad value."""
    env: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    key = _secret(env, "T212_API_KEY")
    secret = _secret(env, "T212_SECRET_KEY")
    t212_env = _choice(env, "T212_ENV", "live", ("live", "demo"))
    base = _http_url(env, "T212_API_BASE", None)
    if base is None:
        base = DEMO_BASE if t212_env == "demo" else LIVE_BASE
    else:
        base = normalize_api_base(base)
        t212_env = _env_from_base(base) or t212_env

    broker_choice = _choice(env, "PAPISHARES_BROKER", "auto", ("auto", "demo", "t212"))
    if broker_choice == "t212" and key is None:
        raise ConfigError("T212_API_KEY", "set when PAPISHARES_BROKER=t212")
    if secret is not None and key is None and broker_choice != "demo":
        raise ConfigError("T212_API_KEY", "set when T212_SECRET_KEY is set")
    broker = "demo" if broker_choice == "demo" or (broker_choice == "auto" and key is None) else "t212"

    market_raw = env.get("PAPISHARES_MARKET_DATA", "").strip()
    csv_dir: Path | None = None
    accepts_md = "one of auto, yahoo, demo, none, or csv:DIR with an existing directory"
    if market_raw.lower().startswith("csv:"):
        csv_dir = Path(market_raw[4:]).expanduser()
        if not market_raw[4:] or not csv_dir.is_dir():
            raise ConfigError("PAPISHARES_MARKET_DATA", accepts_md, market_raw)
        market = "csv"
    else:
        market = _choice(env, "PAPISHARES_MARKET_DATA", "auto", ("auto", "yahoo", "demo", "none"))
        if market == "auto":
            market = "demo" if broker == "demo" else "yahoo"
        elif market not in ("auto", "yahoo", "demo", "none"):
            raise ConfigError("PAPISHARES_MARKET_DATA", accepts_md, market_raw)

    token = _secret(env, "TELEGRAM_BOT_TOKEN")
    chat = env.get("TELEGRAM_CHAT_ID", "").strip() or None
    if chat is not None and not (chat.lstrip("-").isdigit() or chat.startswith("@")):
        raise ConfigError("TELEGRAM_CHAT_ID", "a numeric chat id or an @channel name", chat)

    db_raw = env.get("DB_PATH", "").strip() or "papishares.db"
    db_path = Path(db_raw).expanduser()
    if db_path.exists() and db_path.is_dir():
        raise ConfigError("DB_PATH", "a file path, not a directory", db_raw)
    if not db_path.parent.exists() and str(db_path.parent) not in ("", "."):
        raise ConfigError("DB_PATH", "a file in an existing directory", db_raw)

    risk = _number(env, "RISK_PERCENTAGE", 0.7, 0.0, 100.0, "a number above 0 and at most 100")
    total = _number(env, "TOTAL_RISK_PERCENTAGE", 7.0, 0.0, 100.0, "a number above 0 and at most 100")

    watch_raw = env.get("PAPISHARES_WATCHLIST", "").strip()
    watchlist = Path(watch_raw).expanduser() if watch_raw else None
    if watchlist is not None and not watchlist.is_file():
        raise ConfigError("PAPISHARES_WATCHLIST", "the path of an existing text file", watch_raw)
    entries_url = _http_url(env, "ENTRIES_URL", None)
    entries_raw = env.get("ENTRIES_PATH", "").strip()
    entries_path = Path(entries_raw).expanduser() if entries_raw else None

    refresh = _number(env, "PAPISHARES_REFRESH_SECONDS", 30, 4.0, 86400, "a number of seconds from 5 to 86400")
    interval = _number(env, "PAPISHARES_POSITIONS_INTERVAL", 5.0, 0.99, 3600, "a number of seconds from 1 to 3600")
    seed_raw = env.get("PAPISHARES_DEMO_SEED", "").strip()
    if seed_raw and not seed_raw.isdigit():
        raise ConfigError("PAPISHARES_DEMO_SEED", "a whole number", seed_raw)
    indices_raw = env.get("PAPISHARES_ENTRIES_INDICES", "").strip()
    indices = tuple(i.strip() for i in indices_raw.split(",") if i.strip()) if indices_raw else ("FTSE 100",)

    return Settings(
        t212_api_key=key,
        t212_secret_key=secret,
        t212_env=t212_env,
        t212_api_base=base,
        broker=broker,
        market_data=market,
        market_csv_dir=csv_dir,
        telegram_bot_token=token,
        telegram_chat_id=chat,
        telegram_api_base=_http_url(env, "TELEGRAM_API_BASE", "https://api.telegram.org") or "",
        db_path=db_path,
        risk_percentage=risk,
        total_risk_percentage=total,
        allow_live_orders=_bool(env, "PAPISHARES_ALLOW_LIVE_ORDERS", False),
        watchlist_path=watchlist,
        entries_url=entries_url,
        entries_path=entries_path,
        dashboard_password=_secret(env, "PAPISHARES_DASHBOARD_PASSWORD"),
        refresh_seconds=int(refresh),
        worker_positions_interval=interval,
        worker_lease_seconds=_number(env, "PAPISHARES_WORKER_LEASE_SECONDS", 20.0, 4.99, 3600,
                                     "a number of seconds from 5 to 3600"),
        heartbeat_max_age=_number(env, "PAPISHARES_HEARTBEAT_MAX_AGE", 60.0, 0.0, 86400, "a number of seconds"),
        demo_seed=int(seed_raw) if seed_raw else 212,
        demo_always_open=_bool(env, "PAPISHARES_DEMO_ALWAYS_OPEN", False),
        entries_indices=indices,
        http_timeout=_number(env, "PAPISHARES_HTTP_TIMEOUT", 10.0, 0.0, 300, "a number of seconds up to 300"),
        telegram_allowed_users=_id_list(env, "TELEGRAM_ALLOWED_USERS"),
        telegram_actions=_bool(env, "PAPISHARES_TELEGRAM_ACTIONS", False),
        allowed_emails=_email_list(env, "PAPISHARES_ALLOWED_EMAILS"),
        history_interval=_number(env, "PAPISHARES_HISTORY_INTERVAL", 1800.0, -1.0, 86400 * 7,
                                 "a number of seconds (0 turns the worker's history sync off)"),
        account_type=_choice(env, "PAPISHARES_ACCOUNT_TYPE", "invest", ("invest", "isa")),
        stop_mode=_choice(env, "PAPISHARES_STOP_MODE", "risk", STOP_MODES),
        benchmark=env.get("PAPISHARES_BENCHMARK", "").strip() or "VUSA.L",
        broker_stops=_bool(env, "PAPISHARES_BROKER_STOPS", False),
        broker_stop_min_move=_number(env, "PAPISHARES_BROKER_STOP_MIN_MOVE", 0.5, -1e-9, 100,
                                     "a percentage from 0 to 100"),
        broker_stop_interval=_number(env, "PAPISHARES_BROKER_STOP_INTERVAL", 60.0, -1e-9, 86400,
                                     "a number of seconds from 0 to 86400"),
        api_token=_secret(env, "PAPISHARES_API_TOKEN"),
    )


ACCOUNT_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# The unnamed variables an account reads under its own name (T212_API_KEY -> T212_ISA_API_KEY).
PER_ACCOUNT = ("T212_API_KEY", "T212_SECRET_KEY", "T212_ENV", "T212_API_BASE", "PAPISHARES_ACCOUNT_TYPE")


def account_names(env: Mapping[str, str]) -> tuple[str, ...]:
    """The names PAPISHARES_ACCOUNTS lists (empty when unset)."""
    raw = env.get("PAPISHARES_ACCOUNTS", "").strip()
    if not raw:
        return ()
    names = tuple(p.strip() for p in raw.split(","))
    accepts = "comma-separated distinct account names of lowercase letters, digits and _"
    if any(not n or not set(n) <= ACCOUNT_NAME_CHARS for n in names) or len(set(names)) != len(names):
        raise ConfigError("PAPISHARES_ACCOUNTS", accepts, raw)
    return names


def account_variable(name: str, variable: str) -> str:
    """`T212_API_KEY` of account `isa` is `T212_ISA_API_KEY`; `PAPISHARES_ACCOUNT_TYPE` is
    `PAPISHARES_ISA_ACCOUNT_TYPE`."""
    prefix, rest = variable.split("_", 1)
    return f"{prefix}_{name.upper()}_{rest}"


def _account_env(env: Mapping[str, str], name: str) -> dict[str, str]:
    """The environment as account `name` sees it: its own variables in place of the unnamed ones."""
    own = {k: v for k, v in env.items() if k not in PER_ACCOUNT}
    for variable in PER_ACCOUNT:
        value = env.get(account_variable(name, variable))
        if value is not None:
            own[variable] = value
    if not own.get("PAPISHARES_ACCOUNT_TYPE", "").strip():
        own["PAPISHARES_ACCOUNT_TYPE"] = "isa" if name.startswith("isa") else "invest"
    return own


def load_accounts(env: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> tuple[Settings, ...]:
    """One `Settings` per account, in the order of PAPISHARES_ACCOUNTS; unset: `(load_settings(),)`.

    Each account has its own keys, environment, API base, broker and account type; the rest is
    shared. Raises ConfigError (one line, naming the account's own variable) on the first bad value.
    """
    merged: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if env is None else env)
    names = account_names(merged)
    if not names:
        return (load_settings(merged, dotenv_path=None),)
    accounts = []
    for name in names:
        try:
            settings = load_settings(_account_env(merged, name), dotenv_path=None)
        except ConfigError as err:
            if err.variable in PER_ACCOUNT:
                raise err.renamed(account_variable(name, err.variable)) from None
            raise
        accounts.append(replace(settings, account=name, accounts=names))
    keyed = [s for s in accounts if s.broker != "demo"]
    if keyed and len(keyed) != len(accounts):
        # A demo account beside a real one would mix simulated money into a real book.
        missing = next(s.account for s in accounts if s.broker == "demo")
        raise ConfigError(account_variable(missing, "T212_API_KEY"),
                          "set when another account has a key (every account real, or none)")
    return tuple(accounts)
