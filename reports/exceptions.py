"""`exceptions.csv`: the machine-readable result of a run, one row per finding.

Columns follow the output contract (../shared/CONTRACT.md); amounts are
rounded to the fen and months written `YYYY-MM` only here, at the edge.
Full citizen numbers appear in this restricted file only.

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
    evidence,
    case_key
from chk.finding
order by check_code, township, village, case_key
"""

# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = r"^[=+\-@\t\r]"


def write_exceptions(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write chk.finding as the contract's CSV (UTF-8); return the number of rows."""
    frame = con.sql(EXCEPTIONS_SELECT).pl()
    spreadsheet_safe(frame).write_csv(path)
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
