"""UK tax: an ISA says its gains are tax-free; an Invest account's Trading 212 report goes through the
real cgt-calc (its own virtualenv, .venv-cgt) and the figures match a hand computation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from papishares.config import Settings, load_settings
from papishares.core.errors import PapisharesError
from papishares.history.tax import (
    ISA_SENTENCE,
    TaxSummary,
    parse_output,
    render,
    summarise,
    summary_lines,
    tax_years,
)
from tests.fakes.cgt import INVEST_2024, needs_cgt, offline_rates


def _settings(tmp_path: Path, **env: str) -> Settings:
    return load_settings({"DB_PATH": str(tmp_path / "d.db"), **env}, dotenv_path=None)


@pytest.fixture
def rates(tmp_path: Path) -> Path:
    return offline_rates(tmp_path / "rates.csv")


def test_isa_is_tax_free_and_nothing_is_computed(tmp_path: Path) -> None:
    settings = _settings(tmp_path, PAPISHARES_ACCOUNT_TYPE="isa")
    assert summary_lines(settings, ["/nonexistent.csv"]) == [ISA_SENTENCE]


def test_invest_without_cgt_calc_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PAPISHARES_CGT_CALC", raising=False)
    monkeypatch.setattr("papishares.history.tax.PROJECT_TOOL", tmp_path / "none")
    with pytest.raises(PapisharesError, match="PAPISHARES_CGT_CALC"):
        summary_lines(_settings(tmp_path), [tmp_path / "x.csv"])


def test_tax_years_start_on_6_april_and_read_quoted_names(tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    report.write_text('Action,Name,Time\nMarket buy,"Apple, Inc.",2024-04-05 10:00:00\n'
                      'Market sell,"Apple, Inc.",2024-04-06 10:00:00\nDeposit,,not a date\n')
    assert tax_years([report]) == [2023, 2024]
    assert tax_years([INVEST_2024]) == [2024, 2025]


def test_parse_output_reads_the_tax_year_block() -> None:
    text = ("Found 5 broker transactions\nDisposal proceeds: £99.00\n\nFor tax year 2024/2025:\n"
            "Number of disposals: 2\nDisposal proceeds: £1577.94\nCapital loss: £105.00\n"
            "Total capital gain: £-27.92\nTaxable capital gain: £0\nWARNING: Missing allowance for this tax year\n"
            "\nAll done!\n")
    figures, lines = parse_output(text)
    assert figures == {"disposals": 2.0, "proceeds": 1577.94, "losses": 105.0, "net_gain": -27.92,
                       "taxable_gain": 0.0}
    assert lines[-1] == "WARNING: Missing allowance for this tax year" and len(lines) == 6
    assert parse_output("ERROR: nothing\n") == ({}, [])


@needs_cgt
def test_invest_report_figures_match_a_hand_computation(tmp_path: Path, rates: Path) -> None:
    summary = summarise(_settings(tmp_path), [INVEST_2024], rates_file=rates)
    assert [y.label for y in summary.years] == ["2024/25", "2025/26"] and not summary.notes
    y1, y2 = (y.figures for y in summary.years)
    # 2024/25, all in GBP (Trading 212's Total is net of fees; cgt-calc adds the fee to both sides):
    #   AAPL: 10 bought for 1360.00 (FX fee inside); 4 sold for 676.92 + 1.02 fee -> proceeds 677.94,
    #         cost 4/10 x 1360 = 544 + 1.02 fee -> gain 132.92
    #   RIO:  20 bought for 1005.00 (5.00 stamp duty inside), sold for 900.00 -> loss 105.00
    #   MSFT: 10 bought 3000, sold 2800 on 3 June, 10 re-bought 2500 on 20 June (within 30 days: HMRC's
    #         bed-and-breakfast rule matches the sale with the re-buy) -> gain 300 (not a 200 loss);
    #         the pool keeps 10 at 3000, sold for 3200 -> gain 200 (not 700)
    assert y1["disposals"] == 4
    assert y1["proceeds"] == pytest.approx(677.94 + 900 + 2800 + 3200)
    assert y1["allowable_costs"] == pytest.approx(545.02 + 1005 + 2500 + 3000)
    assert y1["gains"] == pytest.approx(132.92 + 300 + 200)
    assert y1["losses"] == pytest.approx(105.00)
    assert y1["net_gain"] == pytest.approx(527.92)
    assert y1["taxable_gain"] == 0  # under 2024/25's annual exempt amount of £3,000
    assert y1["dividends"] == pytest.approx(1.70)
    # 2025/26: the 6 AAPL left (pool cost 1360 - 544 = 816) sold for 1100 -> gain 284
    assert (y2["disposals"], y2["proceeds"], y2["allowable_costs"], y2["gains"], y2["losses"]) == \
        (1, 1100.0, 816.0, 284.0, 0.0)
    lines = render(summary)
    assert lines[1] == "Tax year 2024/25:" and "  Total capital gain: £527.92" in lines
    assert not (tmp_path / "out").exists()  # cgt-calc's own out/ folder stays in its scratch dir
    assert TaxSummary.from_json(summary.to_json()) == summary


@needs_cgt
def test_a_report_starting_after_the_first_deposit_skips_the_cash_check_with_a_note(tmp_path: Path,
                                                                                    rates: Path) -> None:
    lines = INVEST_2024.read_text().splitlines()
    partial = tmp_path / "partial.csv"
    partial.write_text("\n".join(line for line in lines if not line.startswith("Deposit")) + "\n")
    summary = summarise(_settings(tmp_path), [partial], rates_file=rates)
    assert summary.years[0].figures["net_gain"] == pytest.approx(527.92)
    assert any("balance check was skipped" in n for n in summary.notes)


@needs_cgt
def test_offline_without_rates_is_one_sentence_naming_the_rates_file(tmp_path: Path) -> None:
    empty = tmp_path / "hmrc.csv"
    summary = summarise(_settings(tmp_path), [INVEST_2024], rates_file=empty)
    assert all(y.error for y in summary.years)
    error = summary.years[0].error or ""
    assert "HMRC exchange rates" in error and str(empty) in error and "Traceback" not in error
    assert render(summary)[1].startswith("Tax year 2024/25: cgt-calc failed: ")


@needs_cgt
def test_a_broken_report_is_an_error_not_a_crash(tmp_path: Path, rates: Path) -> None:
    bad = tmp_path / "bad.csv"
    shutil.copy(INVEST_2024, bad)
    bad.write_text(bad.read_text().replace("Market sell,2024-09-02", "Odd action,2024-09-02"))
    summary = summarise(_settings(tmp_path), [bad], rates_file=rates)
    assert summary.years and all("Unknown action" in (y.error or "") for y in summary.years)


def test_bad_account_type_is_a_config_error(tmp_path: Path) -> None:
    from papishares.config import ConfigError

    with pytest.raises(ConfigError, match="PAPISHARES_ACCOUNT_TYPE"):
        load_settings({"PAPISHARES_ACCOUNT_TYPE": "sipp", "DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)


def test_cgt_calc_gets_no_credentials_in_its_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a stand-in for the external tool that records the environment it was given
    seen = tmp_path / "env.txt"
    tool = tmp_path / "cgt-calc"
    tool.write_text(f"#!/bin/sh\nenv > {seen}\necho 'For tax year 2024/2025:'\necho 'Number of disposals: 0'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PAPISHARES_CGT_CALC", str(tool))
    monkeypatch.setenv("T212_API_KEY", "key-123456789")
    monkeypatch.setenv("T212_SECRET_KEY", "secret-987654321")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:token-abcdef")
    monkeypatch.setenv("PAPISHARES_DASHBOARD_PASSWORD", "hunter2-hunter2")
    summary = summarise(_settings(tmp_path), [INVEST_2024], rates_file=tmp_path / "r.csv")
    assert summary.years[0].figures == {"disposals": 0.0}
    env = seen.read_text()
    for secret in ("key-123456789", "secret-987654321", "token-abcdef", "hunter2-hunter2"):
        assert secret not in env
    assert "NO_COLOR=1" in env
