"""UK tax: an ISA says its gains are tax-free; an Invest account without cgt-calc says how to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from papishares.config import load_settings
from papishares.errors import PapisharesError
from papishares.history.tax import ISA_SENTENCE, summary_lines, tax_years


def test_isa_is_tax_free_and_nothing_is_computed(tmp_path: Path) -> None:
    settings = load_settings({"PAPISHARES_ACCOUNT_TYPE": "isa", "DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)
    assert summary_lines(settings, ["/nonexistent.csv"]) == [ISA_SENTENCE]


def test_invest_without_cgt_calc_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PAPISHARES_CGT_CALC", raising=False)
    settings = load_settings({"DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)
    with pytest.raises(PapisharesError, match="PAPISHARES_CGT_CALC"):
        summary_lines(settings, [tmp_path / "x.csv"])


def test_tax_years_start_on_6_april(tmp_path: Path) -> None:
    report = tmp_path / "r.csv"
    report.write_text("Action,Time\nMarket buy,2024-04-05 10:00:00\nMarket sell,2024-04-06 10:00:00\n")
    assert tax_years([report]) == [2023, 2024]


def test_bad_account_type_is_a_config_error(tmp_path: Path) -> None:
    from papishares.config import ConfigError

    with pytest.raises(ConfigError, match="PAPISHARES_ACCOUNT_TYPE"):
        load_settings({"PAPISHARES_ACCOUNT_TYPE": "sipp", "DB_PATH": str(tmp_path / "d.db")}, dotenv_path=None)
