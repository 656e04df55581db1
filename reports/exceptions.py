"""`exceptions.csv`: the machine-readable result of a run, one row per finding.

Columns follow the output contract (../shared/CONTRACT.md); amounts are
rounded to the fen and months written `YYYY-MM` only here, at the edge.
Full citizen numbers appear in this restricted file only.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

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


def write_exceptions(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write chk.finding as the contract's CSV (UTF-8); return the number of rows."""
    frame = con.sql(EXCEPTIONS_SELECT).pl()
    frame.write_csv(path)
    return frame.height
