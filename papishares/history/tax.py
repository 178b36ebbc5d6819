"""UK capital gains per tax year from Trading 212's CSV report, through `cgt-calc` (PyPI).

A Stocks ISA is free of capital gains tax: nothing is computed, the sentence says so.
For an Invest account the report is handed to the `cgt-calc` command (its Trading 212 parser),
which cannot live in Papishares' own environment (it requires pandas < 3 and yfinance < 0.3), so it
runs from its own virtualenv: PAPISHARES_CGT_CALC names the executable (else `cgt-calc` on PATH).
cgt-calc fetches HMRC's monthly exchange rates over the network unless its rates file
(PAPISHARES_CGT_RATES, passed as --exchange-rates-file) already holds them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from papishares.config import Settings
from papishares.errors import PapisharesError

ISA_SENTENCE = ("This is a Stocks ISA (PAPISHARES_ACCOUNT_TYPE=isa): gains and dividends in an ISA are free of "
                "UK capital gains tax and income tax, so no capital gains are computed.")


def tax_years(csv_paths: Sequence[str | Path]) -> list[int]:
    """The UK tax years (by their starting calendar year, 6 April) that the report's rows touch."""
    years: set[int] = set()
    for path in csv_paths:
        for line in Path(path).read_text(encoding="utf8").splitlines()[1:]:
            parts = line.split(",")
            if len(parts) > 1 and len(parts[1]) >= 10:
                try:
                    d = date.fromisoformat(parts[1][:10])
                except ValueError:
                    continue
                years.add(d.year if (d.month, d.day) >= (4, 6) else d.year - 1)
    return sorted(years)


def summary_lines(settings: Settings, csv_paths: Sequence[str | Path]) -> list[str]:
    if settings.account_type == "isa":
        return [ISA_SENTENCE]
    tool = os.environ.get("PAPISHARES_CGT_CALC") or shutil.which("cgt-calc")
    if not tool:
        raise PapisharesError("cgt-calc is not installed: it needs pandas < 3, so install it in its own virtualenv "
                              "(python -m venv ~/cgt && ~/cgt/bin/pip install cgt-calc) and set "
                              "PAPISHARES_CGT_CALC=~/cgt/bin/cgt-calc")
    missing = [str(p) for p in csv_paths if not Path(p).is_file()]
    if missing:
        raise PapisharesError(f"No such report file: {', '.join(missing)}")
    out: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for p in csv_paths:
            shutil.copy(p, Path(folder) / Path(p).name)
        rates = os.environ.get("PAPISHARES_CGT_RATES") or str(Path(settings.db_path).with_name("hmrc_rates.csv"))
        for year in tax_years(csv_paths):
            proc = subprocess.run([tool, "--trading212", folder, "--year", str(year), "--no-report",
                                   "--exchange-rates-file", rates], capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                out.append(f"Tax year {year}/{(year + 1) % 100:02d}: cgt-calc failed: {last[:300]}")
                continue
            out.append(f"Tax year {year}/{(year + 1) % 100:02d}:")
            out.extend("  " + line for line in proc.stdout.strip().splitlines())
    return out
