"""The History page's UK capital gains: the last summary kept in the store, a button that fetches
Trading 212's report (or writes the demo's) and runs cgt-calc over it. Never raises into the page."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from papishares.config import Settings
from papishares.history import tax, tax_run
from papishares.ui import data

PAGE_WAIT = 5.0  # s: the page polls the report this long; a rerun of the button goes on polling it
COLUMNS = {"disposals": "Disposals", "proceeds": "Proceeds £", "allowable_costs": "Allowable costs £",
           "gains": "Gains £", "losses": "Losses £", "net_gain": "Net gain £", "taxable_gain": "Taxable gain £",
           "dividends": "Dividends £"}


def _compute(settings: Settings) -> tax.TaxSummary:
    svc = data.service(settings)
    return tax_run.compute(settings, svc.store, svc.broker, wait=PAGE_WAIT)


def table(summary: tax.TaxSummary) -> pd.DataFrame:
    rows = []
    for y in summary.years:
        row: dict[str, object] = {"Tax year": y.label}
        for key, label in COLUMNS.items():
            value = y.figures.get(key)
            row[label] = "–" if value is None else (f"{value:.0f}" if key == "disposals" else f"{value:,.2f}")
        row["Note"] = f"cgt-calc failed: {y.error}" if y.error else next(
            (ln.removeprefix("WARNING: ") for ln in y.lines if ln.startswith("WARNING")), "")
        rows.append(row)
    return pd.DataFrame(rows)


def show(settings: Settings, scope: str = "") -> None:
    """`scope`: the account's name when several panels share the page ("All accounts"), keeping their
    widget keys apart."""
    suffix = f"_{scope}" if scope else ""
    if settings.account_type == "isa":
        st.info(tax.ISA_SENTENCE)
        return
    demo = settings.environment == "demo-sim"
    label = "Compute from the demo's history" if demo else "Compute from Trading 212's report"
    source = "The demo's history in Trading 212's export columns" if demo else "Trading 212's CSV report"
    if st.button(label, key=f"tax_compute{suffix}", help=f"{source} through cgt-calc (HMRC's share matching rules); "
                 "the report is kept beside the database"):
        with st.spinner("Fetching the report and running cgt-calc..."):
            _, err = data.guarded("The UK capital gains summary", _compute, settings)
        if err:
            st.warning(err)
    kept, err = data.guarded("Reading the last tax summary", lambda: tax_run.last(data.service(settings).store))
    if err:
        st.warning(err)
        return
    if kept is None:
        st.caption("Not computed yet for this account.")
        return
    summary, at = kept
    st.caption(f"From {summary.source}, computed {datetime.fromtimestamp(at):%Y-%m-%d %H:%M}. "
               "cgt-calc's figures in GBP: check them before you file; this is not tax advice.")
    if summary.years:
        st.dataframe(table(summary), hide_index=True, key=f"tax_table{suffix}")
    for note in summary.notes:
        st.caption(note)
