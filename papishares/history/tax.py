"""UK capital gains per tax year from Trading 212's CSV report, through `cgt-calc` (PyPI).

A Stocks ISA is free of capital gains tax: nothing is computed, the sentence says so.
For an Invest account the report is handed to `cgt-calc` (its Trading 212 parser: share matching
by HMRC's same-day, 30-day and Section 104 rules, fees and stamp duty as allowable costs). cgt-calc
needs Python 3.12+, so it runs from its own virtualenv: PAPISHARES_CGT_CALC names the executable,
else the project's `.venv-cgt` (scripts/ensure-cgt-calc, run by `make run` / `make test`), else
`cgt-calc` on PATH.

Exchange rates: cgt-calc converts with HMRC's monthly rates, which it downloads and caches in its
rates file (PAPISHARES_CGT_RATES, else `hmrc_rates.csv` beside the database). Rates recorded in that
file by hand are the offline route (cgt-calc keys them by the exact date it needs). The demo's
report is converted with the demo's own rates, written to a throwaway file: demo rates must never
reach the cache a real account's tax would be computed from.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from papishares.config import Settings, account_variable
from papishares.core.errors import PapisharesError

ISA_SENTENCE = ("This is a Stocks ISA (PAPISHARES_ACCOUNT_TYPE=isa): gains and dividends in an ISA are free of "
                "UK capital gains tax and income tax, so no capital gains are computed.")


def isa_sentence(settings: Settings) -> str:
    """ISA_SENTENCE naming the variable that made this account an ISA (one of several: its own)."""
    if not settings.several:
        return ISA_SENTENCE
    own = account_variable(settings.account_name, "PAPISHARES_ACCOUNT_TYPE")
    return ISA_SENTENCE.replace("PAPISHARES_ACCOUNT_TYPE", own, 1)


PROJECT_TOOL = Path(__file__).resolve().parents[2] / ".venv-cgt" / "bin" / "cgt-calc"
TIMEOUT = 300.0  # s per tax year; a run takes well under a second offline
# cgt-calc's summary lines -> our keys (money in GBP, counts as int)
FIGURES = {"Number of disposals": "disposals", "Disposal proceeds": "proceeds", "Allowable costs": "allowable_costs",
           "Capital gain": "gains", "Capital loss": "losses", "Total capital gain": "net_gain",
           "Taxable capital gain": "taxable_gain", "Total dividends proceeds": "dividends",
           "Total taxable dividends proceeds": "taxable_dividends"}
BALANCE_ERROR = re.compile(r"balance|negative", re.IGNORECASE)
# cgt-calc needs none of Papishares' credentials: they are not passed into its environment
SECRET_PREFIXES = ("T212_", "TELEGRAM_", "PAPISHARES_DASHBOARD_PASSWORD")


@dataclass(frozen=True)
class TaxYear:
    year: int  # the calendar year the tax year starts in (6 April)
    figures: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # cgt-calc's own lines for the year
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.year}/{(self.year + 1) % 100:02d}"


@dataclass(frozen=True)
class TaxSummary:
    source: str
    years: list[TaxYear]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaxSummary:
        return cls(str(data.get("source", "")), [TaxYear(**y) for y in data.get("years", [])],
                   list(data.get("notes", [])))


def tool_path() -> str | None:
    named = os.environ.get("PAPISHARES_CGT_CALC")
    if named:
        return named
    if PROJECT_TOOL.is_file():
        return str(PROJECT_TOOL)
    return shutil.which("cgt-calc")


def tool_version() -> str | None:
    """`cgt-calc --version` of the tool Papishares would run, or None when there is none that runs."""
    tool = tool_path()
    if not tool:
        return None
    try:
        proc = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def tax_year_of(day: date) -> int:
    return day.year if (day.month, day.day) >= (4, 6) else day.year - 1


def tax_years(csv_paths: Sequence[str | Path]) -> list[int]:
    """The UK tax years (by their starting calendar year, 6 April) that the report's rows touch."""
    years: set[int] = set()
    for path in csv_paths:
        with Path(path).open(encoding="utf8", newline="") as f:
            for row in csv.DictReader(f):
                try:
                    years.add(tax_year_of(date.fromisoformat((row.get("Time") or "")[:10])))
                except ValueError:
                    continue
    return sorted(years)


def parse_output(text: str) -> tuple[dict[str, float], list[str]]:
    """cgt-calc's "For tax year ..." block -> (figures, its lines). Pure."""
    figures: dict[str, float] = {}
    block: list[str] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("For tax year"):
            inside = True
            continue
        if inside:
            if not line or line.startswith("All done"):
                break
            block.append(line)
            name, _, value = line.partition(":")
            key = FIGURES.get(name.strip())
            number = value.strip().replace("£", "").replace(",", "")
            if key and re.fullmatch(r"-?\d+(\.\d+)?", number):
                figures[key] = float(number)
    return figures, block


def _last_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")]
    last = (errors or lines or ["no output"])[-1]
    return re.sub(r"^ERROR:\s*", "", last)[:400]


def _run(tool: str, folder: Path, year: int, rates: Path, work: Path, balance_check: bool) -> \
        subprocess.CompletedProcess[str]:
    cmd = [tool, "--trading212-dir", str(folder), "--year", str(year), "--no-report",
           "--exchange-rates-file", str(rates), "--isin-translation-file", str(work / "isin_translation.csv"),
           "--spin-offs-file", str(work / "spin_offs.csv")]
    if not balance_check:
        cmd.append("--no-balance-check")
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_PREFIXES)} | {"NO_COLOR": "1"}
    try:  # cwd: cgt-calc writes its out/ folder there, never into the user's folder
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=work, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PapisharesError(f"cgt-calc could not run ({type(err).__name__}): check PAPISHARES_CGT_CALC") from None


def write_demo_rates(path: Path, rates_per_gbp: dict[str, float], start: date, end: date) -> None:
    """Demo-only rates file: every day from `start` to `end` (cgt-calc looks rates up by exact date)."""
    rows = ["month,currency,rate"]
    day = start
    while day <= end:
        rows.extend(f"{day.isoformat()},{c},{r:.4f}" for c, r in sorted(rates_per_gbp.items()))
        day += timedelta(days=1)
    path.write_text("\n".join(rows) + "\n", encoding="utf8")


def summarise(settings: Settings, csv_paths: Sequence[str | Path], source: str = "",
              rates_file: Path | None = None) -> TaxSummary:
    """Capital gains per tax year of the report(s). Raises PapisharesError (missing tool or file)."""
    label = source or ", ".join(Path(p).name for p in csv_paths)
    if settings.account_type == "isa":
        return TaxSummary(label, [], [isa_sentence(settings)])
    tool = tool_path()
    if not tool:
        raise PapisharesError("cgt-calc is not installed: it needs Python 3.12+ and its own virtualenv; "
                              "`make run` builds .venv-cgt when python3.12 is on the machine, or "
                              "python3.12 -m venv ~/cgt && ~/cgt/bin/pip install cgt-calc and set "
                              "PAPISHARES_CGT_CALC=~/cgt/bin/cgt-calc")
    missing = [str(p) for p in csv_paths if not Path(p).is_file()]
    if missing:
        raise PapisharesError(f"No such report file: {', '.join(missing)}")
    rates = rates_file or Path(os.environ.get("PAPISHARES_CGT_RATES")
                               or Path(settings.db_path).with_name("hmrc_rates.csv"))
    years: list[TaxYear] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder, work = Path(tmp) / "report", Path(tmp) / "work"
        folder.mkdir()
        work.mkdir()
        for n, p in enumerate(csv_paths):  # cgt-calc reads every *.csv of the folder
            shutil.copy(p, folder / f"{n}-{Path(p).stem}.csv")
        for year in tax_years(csv_paths):
            proc = _run(tool, folder, year, rates.resolve(), work, balance_check=True)
            if proc.returncode != 0 and BALANCE_ERROR.search(_last_error(proc)):
                # a report that starts after the account did: the cash check cannot hold, the gains still can
                proc = _run(tool, folder, year, rates.resolve(), work, balance_check=False)
                if proc.returncode == 0:
                    notes.append(f"{year}/{(year + 1) % 100:02d}: cgt-calc's cash balance check was skipped "
                                 "(the report does not start with the account's first deposit).")
            if proc.returncode != 0:
                years.append(TaxYear(year, error=_last_error(proc)))
                continue
            figures, lines = parse_output(proc.stdout)
            years.append(TaxYear(year, figures, lines))
    return TaxSummary(label, years, notes)


def summary_lines(settings: Settings, csv_paths: Sequence[str | Path], source: str = "",
                  rates_file: Path | None = None) -> list[str]:
    return render(summarise(settings, csv_paths, source, rates_file))


def render(summary: TaxSummary) -> list[str]:
    out = [f"UK capital gains from {summary.source} (cgt-calc):"] if summary.years else []
    for y in summary.years:
        if y.error:
            out.append(f"Tax year {y.label}: cgt-calc failed: {y.error}")
            continue
        out.append(f"Tax year {y.label}:")
        out.extend("  " + line for line in y.lines)
    return out + summary.notes
