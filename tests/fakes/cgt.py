"""Shared by the tax tests: the skip when cgt-calc is not installed, and an offline rates file.

The rates are not HMRC's: only cgt-calc's bundled fund data (June 2018 on) and non-GBP account rows
convert with them, and the tests' reports are all in GBP, so no asserted figure depends on them."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from papishares.history.tax import tool_path, write_demo_rates

# skipped on a machine without Python 3.12+; in CI such a test runs and fails (cgt-calc must be there)
needs_cgt = pytest.mark.skipif(tool_path() is None and not os.environ.get("CI"),
                               reason="cgt-calc needs Python 3.12+ (scripts/ensure-cgt-calc)")
EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "t212" / "exports"
INVEST_2024 = EXPORTS / "invest-2024.csv"  # a Trading 212 export whose figures are hand-computed in test_tax.py


def offline_rates(path: Path) -> Path:
    write_demo_rates(path, {"USD": 1.25, "EUR": 1.18, "CHF": 1.13, "MXN": 22.5}, date(2018, 1, 1), date(2026, 12, 31))
    return path
