"""Several accounts: PAPISHARES_ACCOUNTS, each account's own variables, one-line errors naming them."""

from __future__ import annotations

import pytest

from papishares.config import ConfigError, load_accounts, load_settings

TWO = {"PAPISHARES_ACCOUNTS": "invest,isa"}


def test_unset_is_the_one_account_of_today() -> None:
    env = {"T212_API_KEY": "k", "PAPISHARES_ACCOUNT_TYPE": "isa"}
    (only,) = load_accounts(env, dotenv_path=None)
    assert only == load_settings(env, dotenv_path=None)
    assert only.account == "" and only.accounts == () and not only.several
    assert only.account_name == "isa"


def test_each_account_reads_its_own_variables_in_order() -> None:
    env = {**TWO, "T212_INVEST_API_KEY": "ki", "T212_INVEST_SECRET_KEY": "si",
           "T212_ISA_API_KEY": "ks", "T212_ISA_ENV": "demo", "RISK_PERCENTAGE": "1.5",
           "T212_API_KEY": "unnamed-is-ignored"}
    invest, isa = load_accounts(env, dotenv_path=None)
    assert (invest.account_name, isa.account_name) == ("invest", "isa")
    assert invest.accounts == isa.accounts == ("invest", "isa") and invest.several and isa.several
    assert invest.t212_api_key is not None and invest.t212_api_key.reveal() == "ki"
    assert isa.t212_api_key is not None and isa.t212_api_key.reveal() == "ks"
    assert invest.t212_secret_key is not None and isa.t212_secret_key is None
    assert (invest.environment, isa.environment) == ("t212-live", "t212-demo")
    assert invest.broker == isa.broker == "t212"
    assert invest.risk_percentage == isa.risk_percentage == 1.5  # the shared rest is the same


def test_account_type_defaults_by_name_and_can_be_set() -> None:
    names = load_accounts({"PAPISHARES_ACCOUNTS": "main,isa_old,isa2"}, dotenv_path=None)
    assert [s.account_type for s in names] == ["invest", "isa", "isa"]
    main, isa = load_accounts({"PAPISHARES_ACCOUNTS": "main,isa", "PAPISHARES_MAIN_ACCOUNT_TYPE": "isa",
                               "PAPISHARES_ISA_ACCOUNT_TYPE": "invest"}, dotenv_path=None)
    assert (main.account_type, isa.account_type) == ("isa", "invest")
    assert (main.account_name, isa.account_name) == ("main", "isa")  # the name, not the type


def test_no_key_anywhere_is_the_demo_for_each() -> None:
    accounts = load_accounts(TWO, dotenv_path=None)
    assert [s.broker for s in accounts] == ["demo", "demo"]
    assert [s.market_data for s in accounts] == ["demo", "demo"]


@pytest.mark.parametrize(("env", "variable"), [
    ({"PAPISHARES_ACCOUNTS": "invest,Isa"}, "PAPISHARES_ACCOUNTS"),
    ({"PAPISHARES_ACCOUNTS": "invest,invest"}, "PAPISHARES_ACCOUNTS"),
    ({"PAPISHARES_ACCOUNTS": "invest,,isa"}, "PAPISHARES_ACCOUNTS"),
    ({"PAPISHARES_ACCOUNTS": "in-vest"}, "PAPISHARES_ACCOUNTS"),
    ({**TWO, "T212_ISA_ENV": "paper"}, "T212_ISA_ENV"),
    ({**TWO, "T212_INVEST_API_BASE": "ftp://x"}, "T212_INVEST_API_BASE"),
    ({**TWO, "PAPISHARES_ISA_ACCOUNT_TYPE": "sipp"}, "PAPISHARES_ISA_ACCOUNT_TYPE"),
    ({**TWO, "T212_ISA_API_KEY": "has space"}, "T212_ISA_API_KEY"),
    ({**TWO, "T212_ISA_SECRET_KEY": "s"}, "T212_ISA_API_KEY"),
    ({**TWO, "T212_INVEST_API_KEY": "k"}, "T212_ISA_API_KEY"),  # a demo ISA beside a real Invest
    ({**TWO, "PAPISHARES_BROKER": "t212", "T212_INVEST_API_KEY": "k"}, "T212_ISA_API_KEY"),
    ({**TWO, "RISK_PERCENTAGE": "0"}, "RISK_PERCENTAGE"),
])
def test_bad_values_name_the_accounts_own_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_accounts(env, dotenv_path=None)
    message = str(caught.value)
    assert message.startswith(f"configuration error: {variable} must be ") and "\n" not in message
    assert "has space" not in message  # a secret is never shown


def test_one_named_account_is_not_several() -> None:
    (isa,) = load_accounts({"PAPISHARES_ACCOUNTS": "isa", "T212_ISA_API_KEY": "k"}, dotenv_path=None)
    assert isa.account_name == "isa" and isa.account_type == "isa" and not isa.several and isa.broker == "t212"
