"""Settings: defaults, .env, validation messages (one line naming the variable), secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from papishares.config import DEMO_BASE, LIVE_BASE, ConfigError, Secret, load_settings


def test_defaults_select_demo_broker_and_demo_market_data() -> None:
    s = load_settings({}, dotenv_path=None)
    assert s.broker == "demo" and s.market_data == "demo"
    assert s.environment == "demo-sim"
    assert s.risk_percentage == 0.7 and s.total_risk_percentage == 7.0
    assert s.allow_live_orders is False
    assert s.t212_api_base == LIVE_BASE
    assert s.telegram_api_base == "https://api.telegram.org"
    assert str(s.db_path) == "papishares.db"


def test_key_selects_trading212_live_by_default_and_yahoo() -> None:
    s = load_settings({"T212_API_KEY": "k1", "T212_SECRET_KEY": "s1"}, dotenv_path=None)
    assert s.broker == "t212" and s.environment == "t212-live" and s.market_data == "yahoo"
    assert s.t212_api_key.reveal() == "k1" and s.t212_secret_key.reveal() == "s1"


def test_t212_env_demo_picks_demo_base() -> None:
    s = load_settings({"T212_API_KEY": "k", "T212_ENV": "demo"}, dotenv_path=None)
    assert s.t212_api_base == DEMO_BASE and s.environment == "t212-demo"


@pytest.mark.parametrize(
    ("base", "expected_base", "expected_env"),
    [
        ("https://demo.trading212.com/api/v0/equity", DEMO_BASE, "t212-demo"),
        ("https://live.trading212.com/api/v0/", LIVE_BASE, "t212-live"),
        ("http://127.0.0.1:8123/api/v0/equity", "http://127.0.0.1:8123/api/v0", "t212-live"),
    ],
)
def test_both_base_url_forms(base: str, expected_base: str, expected_env: str) -> None:
    s = load_settings({"T212_API_KEY": "k", "T212_API_BASE": base}, dotenv_path=None)
    assert s.t212_api_base == expected_base
    assert s.environment == expected_env


def test_custom_base_says_its_environment_through_t212_env() -> None:
    s = load_settings({"T212_API_KEY": "k", "T212_API_BASE": "http://127.0.0.1:1/api/v0", "T212_ENV": "demo"},
                      dotenv_path=None)
    assert s.environment == "t212-demo"


def test_broker_demo_forces_demo_even_with_keys() -> None:
    s = load_settings({"T212_API_KEY": "k", "PAPISHARES_BROKER": "demo"}, dotenv_path=None)
    assert s.environment == "demo-sim"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"RISK_PERCENTAGE": "abc"}, "RISK_PERCENTAGE"),
        ({"RISK_PERCENTAGE": "0"}, "RISK_PERCENTAGE"),
        ({"TOTAL_RISK_PERCENTAGE": "-1"}, "TOTAL_RISK_PERCENTAGE"),
        ({"T212_ENV": "paper"}, "T212_ENV"),
        ({"PAPISHARES_BROKER": "ibkr"}, "PAPISHARES_BROKER"),
        ({"PAPISHARES_BROKER": "t212"}, "T212_API_KEY"),
        ({"PAPISHARES_MARKET_DATA": "bloomberg"}, "PAPISHARES_MARKET_DATA"),
        ({"PAPISHARES_MARKET_DATA": "csv:/no/such/dir"}, "PAPISHARES_MARKET_DATA"),
        ({"PAPISHARES_ALLOW_LIVE_ORDERS": "maybe"}, "PAPISHARES_ALLOW_LIVE_ORDERS"),
        ({"T212_API_BASE": "ftp://x"}, "T212_API_BASE"),
        ({"TELEGRAM_API_BASE": "nope"}, "TELEGRAM_API_BASE"),
        ({"TELEGRAM_CHAT_ID": "not a chat"}, "TELEGRAM_CHAT_ID"),
        ({"PAPISHARES_WATCHLIST": "/no/such/file"}, "PAPISHARES_WATCHLIST"),
        ({"DB_PATH": "/no/such/dir/x.db"}, "DB_PATH"),
    ],
)
def test_invalid_values_name_the_variable_in_one_line(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env, dotenv_path=None)
    message = str(err.value)
    assert variable in message and "\n" not in message
    assert err.value.variable == variable


def test_invalid_secret_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"T212_API_KEY": "abc def-secret-part"}, dotenv_path=None)
    assert "secret-part" not in str(err.value)
    assert "T212_API_KEY" in str(err.value)


def test_dotenv_is_read_and_real_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RISK_PERCENTAGE=1.5\nTOTAL_RISK_PERCENTAGE=9\n")
    s = load_settings({"TOTAL_RISK_PERCENTAGE": "8"}, dotenv_path=dotenv)
    assert s.risk_percentage == 1.5
    assert s.total_risk_percentage == 8.0


def test_secrets_are_masked_everywhere() -> None:
    s = load_settings({"T212_API_KEY": "KEY-123456", "T212_SECRET_KEY": "SEC-abcdef",
                       "TELEGRAM_BOT_TOKEN": "123:TOKEN-xyz", "TELEGRAM_CHAT_ID": "42"}, dotenv_path=None)
    shown = repr(s) + str(s) + str(s.effective()) + f"{s.t212_api_key} {s.telegram_bot_token}"
    for secret in ("KEY-123456", "SEC-abcdef", "TOKEN-xyz"):
        assert secret not in shown
    assert s.effective()["t212_api_key"] == "(set)"
    assert s.telegram_enabled
    assert isinstance(s.t212_api_key, Secret)


def test_cli_stops_at_start_with_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "RISK_PERCENTAGE": "lots", "DB_PATH": str(tmp_path / "x.db")}
    proc = subprocess.run([sys.executable, "-m", "papishares", "snapshot", "--json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "RISK_PERCENTAGE" in lines[0]
    assert "Traceback" not in proc.stderr


def test_telegram_commands_and_sign_in_settings() -> None:
    s = load_settings({"TELEGRAM_ALLOWED_USERS": " 12, 345 ", "PAPISHARES_TELEGRAM_ACTIONS": "true",
                       "PAPISHARES_ALLOWED_EMAILS": "Alice@Example.com, bob@example.com"}, dotenv_path=None)
    assert s.telegram_allowed_users == frozenset({12, 345}) and s.telegram_actions is True
    assert s.allowed_emails == frozenset({"alice@example.com", "bob@example.com"})
    assert s.effective()["allowed_emails"] == "alice@example.com, bob@example.com"
    d = load_settings({}, dotenv_path=None)
    assert d.telegram_allowed_users == frozenset() and d.telegram_actions is False and d.allowed_emails == frozenset()


@pytest.mark.parametrize(("name", "value"), [
    ("TELEGRAM_ALLOWED_USERS", "12,alice"),
    ("PAPISHARES_TELEGRAM_ACTIONS", "maybe"),
    ("PAPISHARES_ALLOWED_EMAILS", "alice@example.com, not-an-email"),
])
def test_bad_telegram_and_sign_in_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, dotenv_path=None)
    assert str(err.value).startswith(f"configuration error: {name} must be") and "\n" not in str(err.value)
def test_broker_stop_settings() -> None:
    s = load_settings({}, dotenv_path=None)
    assert (s.broker_stops, s.broker_stop_min_move, s.broker_stop_interval) == (False, 0.5, 60.0)
    s = load_settings({"PAPISHARES_BROKER_STOPS": "on", "PAPISHARES_BROKER_STOP_MIN_MOVE": "0",
                       "PAPISHARES_BROKER_STOP_INTERVAL": "0"}, dotenv_path=None)
    assert (s.broker_stops, s.broker_stop_min_move, s.broker_stop_interval) == (True, 0.0, 0.0)
    for name, bad in (("PAPISHARES_BROKER_STOPS", "maybe"), ("PAPISHARES_BROKER_STOP_MIN_MOVE", "-1"),
                      ("PAPISHARES_BROKER_STOP_INTERVAL", "soon")):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: bad}, dotenv_path=None)
