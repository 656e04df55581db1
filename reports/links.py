"""The links file: one line per data row of every extract, and who it is.

`source` is the file stem, `row_number` the 1-based data row (header
excluded; for .xlsx sheet row 2 is row 1), `person_id` blank when the row is
linked to nobody, `method` exact / upgraded / repaired / probabilistic /
same_invalid_number (rows sharing an unrepairable number and a name: one
person the register does not know) (or
quarantined), `confidence` 0–1. The same rows are `link.source_row` in a
run's database. Text is written spreadsheet-safe, as in `exceptions.csv`
(reports/exceptions.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from hecha.reports.exceptions import spreadsheet_safe

LINK_COLUMNS = ("source", "row_number", "person_id", "method", "confidence")


def write_links(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Write the links file; return its rows per method (unlinked rows under "unlinked")."""
    frame = con.sql(f"select {', '.join(LINK_COLUMNS)} from link.source_row order by source, row_number").pl()
    path.parent.mkdir(parents=True, exist_ok=True)
    spreadsheet_safe(frame).write_csv(path)
    counts = frame.group_by(pl.col("method").fill_null("unlinked")).len().sort("method")
    return dict(counts.iter_rows())
