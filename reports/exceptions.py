"""`exceptions.csv`: the machine-readable result of a run, one row per finding.

Columns follow the output contract (../shared/CONTRACT.md), then `status`:
the finding's case status since the folder's previous run (new, persisting,
recurred, reopened, suppressed — the codes of audit/history.py; every
finding the run found is listed, suppressed ones included, so counts agree
with run.json and the command line). Amounts are rounded to the fen and
months written `YYYY-MM` only here, at the edge. Full citizen numbers appear
in this restricted file only. UTF-8 with a byte-order mark, so Excel on a
Chinese Windows opens it without mojibake.

The file is spreadsheet-safe (the OWASP CSV-injection rule): a text cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
so Excel or WPS opening the file shows the text instead of running it as a
formula (names, villages and evidence come from the extracts, and a name
`=HYPERLINK(…)` would otherwise send a neighbouring cell anywhere when
clicked). Numeric columns (amounts, link confidence) are written as numbers,
negative ones included. A program reading the file back strips the `'` from
text columns when it needs the original value.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from hecha.storage.database import table_columns

EXCEPTION_COLUMNS = (
    "check_code",
    "id_number",
    "name",
    "township",
    "village",
    "case_no",
    "period_start",
    "period_end",
    "overpaid_amount",
    "backpay_amount",
    "link_confidence",
    "needs_confirmation",
    "evidence",
    "case_key",
    "status",
)

EXCEPTIONS_SELECT = """
select
    check_code,
    id_number,
    name,
    township,
    village,
    case_no,
    month_text(period_start) as period_start,
    month_text(period_end) as period_end,
    cast(round(overpaid_amount, 2) as decimal(12, 2)) as overpaid_amount,
    cast(round(backpay_amount, 2) as decimal(12, 2)) as backpay_amount,
    round(link_confidence, 4) as link_confidence,
    needs_confirmation,
    finding.evidence,
    finding.case_key,
    {status} as status
from chk.finding as finding
{join}
order by check_code, township, village, finding.case_key
"""

# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"


def write_exceptions(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write chk.finding as the contract's CSV (UTF-8 with BOM) with each finding's status; return the number of rows.

    Without chk.finding_status (no history applied) every finding is new.
    """
    if table_columns(con, "chk", "finding_status"):
        sql = EXCEPTIONS_SELECT.format(
            status="coalesce(finding_status.status, 'new')",
            join="left join chk.finding_status as finding_status on finding.case_key = finding_status.case_key",
        )
    else:
        sql = EXCEPTIONS_SELECT.format(status="'new'", join="")
    frame = con.sql(sql).pl()
    spreadsheet_safe(frame).write_csv(path, include_bom=True)
    return frame.height


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with a `'` before every text value a spreadsheet would read as a formula; numbers as they are."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )
