"""Whether two run databases hold the same findings and ledger shares, row for row, every column.

Used by the incremental and event benches and their tests: an incremental
night, or an event run, must give what a full run gives.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from hecha.storage.tables import FINDING

COMPARED = {"chk.finding": ", ".join(FINDING.column_names), "int.person_month_paid": "*"}


def rows_only_in(con: duckdb.DuckDBPyConnection, table: str, a: str, b: str) -> list[tuple]:
    """Rows of `a`.`table` that `b`.`table` lacks, counting repeats (the catalogs attached on `con`)."""
    columns = COMPARED[table]
    return con.execute(f"select {columns} from {a}.{table} except all select {columns} from {b}.{table}").fetchall()


def disagreements(a: Path, b: Path, tables: tuple[str, ...] = tuple(COMPARED)) -> dict[str, tuple[list, list]]:
    """Per table, the rows only in database `a` and the rows only in database `b`."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as run_a (read_only)")
        con.execute(f"attach '{b}' as run_b (read_only)")
        return {table: (rows_only_in(con, table, "run_a", "run_b"), rows_only_in(con, table, "run_b", "run_a")) for table in tables}
    finally:
        con.close()
