"""The JSON API with two demo accounts (PAPISHARES_ACCOUNTS=invest,isa) on the real `papishares dashboard`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.t212_server import FakeTrading212
from tests.remote.dashboard_process import Dashboard, running_dashboard

TOKEN = "accounts-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
GETS = ["/positions", "/orders", "/entries", "/api/v1/snapshot", "/api/v1/history/trades", "/api/v1/journal",
        "/api/v1/worker"]


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("api-accounts")
    config = {"PAPISHARES_ACCOUNTS": "invest,isa", "DB_PATH": str(home / "papishares.db"),
              "PAPISHARES_API_TOKEN": TOKEN}
    with running_dashboard(home, config) as server:
        yield server


def get(dash: Dashboard, path: str, **params: Any) -> httpx.Response:
    return httpx.get(dash.url + path, headers=BEARER, params=params, timeout=60)


def post(dash: Dashboard, path: str, body: Any = None, **params: Any) -> httpx.Response:
    return httpx.post(dash.url + path, headers=BEARER, params=params, json=body, timeout=60)


def test_positions_of_every_account_each_named(dash: Dashboard) -> None:
    every = get(dash, "/positions").json()
    one = {n: get(dash, "/positions", account=n).json() for n in ("invest", "isa")}
    assert sorted((p["account_name"], p["ticker"]) for p in every["positions"]) == sorted(
        (n, p["ticker"]) for n in one for p in one[n]["positions"])
    tickers = [p["ticker"] for p in every["positions"]]
    assert any(tickers.count(t) == 2 for t in tickers), "one ticker held in both: two positions"
    profits = [p["profit_pct"] for p in every["positions"]]
    assert profits == sorted(profits, reverse=True)
    snaps = {n: get(dash, "/api/v1/snapshot", account=n).json() for n in one}
    value = sum(s["account"]["total_value"] for s in snaps.values())
    risk = sum(s["total_risk_pct"] * s["account"]["total_value"] / 100 for s in snaps.values())
    assert every["total_risk"] == pytest.approx(risk / value * 100, abs=1e-4)  # rounded as the CLI rounds
    assert every["account"]["total_value"] == pytest.approx(value)
    for n in one:
        assert one[n]["total_risk"] == snaps[n]["total_risk_pct"] and one[n]["account_name"] == n
        assert snaps[n]["account_name"] == n


def test_snapshot_without_account_is_the_cli_shape(dash: Dashboard) -> None:
    body = get(dash, "/api/v1/snapshot").json()
    assert {"generated_at", "accounts", "combined"} <= set(body)
    assert [a["account_name"] for a in body["accounts"]] == ["invest", "isa"]
    combined = body["combined"]
    assert combined["currency"] == body["accounts"][0]["account"]["currency"]
    assert combined["total_value"] == pytest.approx(sum(a["account"]["total_value"] for a in body["accounts"]))
    assert combined["cash"] == pytest.approx(sum(a["account"]["cash"] for a in body["accounts"]))


@pytest.mark.parametrize("path", GETS)
def test_an_unknown_account_is_a_400_naming_the_accounts(dash: Dashboard, path: str) -> None:
    resp = get(dash, path, account="pension")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"error": "There is no account named 'pension': the accounts are invest, isa."}


def test_autosell_on_every_account_or_the_one_named(dash: Dashboard) -> None:
    flag = lambda n: get(dash, "/positions", account=n).json()["auto_sell"]  # noqa: E731
    assert post(dash, "/autosell", {"auto_sell": True}).json() == {"auto_sell": True,
                                                                   "accounts": {"invest": True, "isa": True}}
    assert flag("invest") and flag("isa")
    assert post(dash, "/autosell", {"auto_sell": False}, account="isa").json() == {"auto_sell": False,
                                                                                  "account_name": "isa"}
    assert flag("invest") and not flag("isa")
    every = get(dash, "/positions").json()
    assert every["auto_sell"] is False and every["auto_sell_accounts"] == {"invest": True, "isa": False}
    assert post(dash, "/autosell").json()["accounts"] == {"invest": True, "isa": True}  # not all on: all on
    assert post(dash, "/autosell").json()["accounts"] == {"invest": False, "isa": False}  # all on: all off
    assert post(dash, "/autosell", account="nope").status_code == 400
    journal = get(dash, "/api/v1/journal", limit=3).json()["entries"]
    assert {e["account_name"] for e in journal} == {"invest", "isa"} and journal[0]["action"] == "off"
    isa_only = get(dash, "/api/v1/journal", account="isa", limit=50).json()["entries"]
    assert [e["action"] for e in isa_only if e["kind"] == "autosell"][:3] == ["off", "on", "off"]


def test_orders_trades_and_the_document_know_the_accounts(dash: Dashboard) -> None:
    orders = get(dash, "/orders").json()
    for n in ("invest", "isa"):
        mine = [{k: v for k, v in o.items() if k != "account_name"} for o in orders if o["account_name"] == n]
        assert mine == get(dash, "/orders", account=n).json()
    trades = get(dash, "/api/v1/history/trades").json()
    per = {n: get(dash, "/api/v1/history/trades", account=n).json()["trades"] for n in ("invest", "isa")}
    assert len(trades["trades"]) == sum(len(t) for t in per.values()) and trades["summary"]["count"] == len(
        trades["trades"])
    assert {t["account"] for t in trades["trades"]} <= {"invest", "isa"}
    doc = get(dash, "/api/v1/openapi.json").json()
    param = next(p for p in doc["paths"]["/positions"]["get"]["parameters"] if p["name"] == "account")
    assert param["schema"]["enum"] == ["invest", "isa"]
    assert get(dash, "/api/v1/worker", account="isa").status_code in (200, 503)
    assert get(dash, "/entries", account="isa").status_code == 200


def test_the_token_still_guards_every_account(dash: Dashboard, tmp_path: Path) -> None:
    resp = httpx.get(dash.url + "/positions", params={"account": "isa"}, timeout=30)
    assert resp.status_code == 401 and "isa" not in resp.text


def test_one_accounts_rejected_key_costs_that_account_only(dash: Dashboard, tmp_path: Path) -> None:
    with FakeTrading212.running() as invest, FakeTrading212.running() as isa:
        config = {"DB_PATH": str(tmp_path / "keys.db"), "PAPISHARES_MARKET_DATA": "none"}
        for name, server in (("INVEST", invest), ("ISA", isa)):
            config.update({k.replace("T212_", f"T212_{name}_", 1): v for k, v in server.env().items()
                           if k.startswith("T212_")})
        config["T212_ISA_API_KEY"] = "revoked-key"
        dash.write_dotenv(**config)
        try:
            body = get(dash, "/positions").json()
            assert {p["account_name"] for p in body["positions"]} == {"invest"}
            assert {p["ticker"] for p in body["positions"]} == set(invest.positions)
            assert body["stale"] is True and body["stale_reason"].startswith("isa: ")
            assert "revoked-key" not in json.dumps(body)
            alone = get(dash, "/positions", account="invest").json()
            assert alone["stale"] is False and body["total_risk"] == pytest.approx(alone["total_risk"], abs=1e-4)
            assert get(dash, "/positions", account="isa").status_code == 503
            snap = get(dash, "/api/v1/snapshot").json()
            assert [a["account_name"] for a in snap["accounts"]] == ["invest"] and "isa" in snap["missing"]
        finally:
            dash.write_dotenv()
