"""A batch read as a payments file and judged line by line against the night (sql/screen/).

The batch is loaded by the nightly loader (typed, quarantined, header
aliases and encodings as a drop's payments file) into the screen's own
database; the night — the folder's last published run — is attached read
only as `night`. Three SELECTs then decide, each materialised in turn:

- `line_person` — who each line pays (the night's link for an identity it
  knows, else the number's person, else nobody);
- `line_reason` — every reason against a line, with the least sure link it
  rests on;
- `line` — one verdict per line of the file, into `screen.line`.

The rules are the checks' (POLICY.md) asked of a month not yet paid, with the
same definitions (`is_after_event`, `month_in`, the int facts of the night).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl

from hecha.checks.runner import install_macros
from hecha.config import run_parameters
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.event import staged_as
from hecha.extracts.load import load_drop
from hecha.extracts.read import Manifest
from hecha.screen.reasons import REASONS
from hecha.storage.database import attached
from hecha.storage.layers import SQL_DIR, bind, read_sql
from hecha.storage.tables import SCREEN_LINE, ddl

PAYMENTS = BY_STEM["payments"]
NIGHT_CATALOG = "night"
SCREEN_SQL = SQL_DIR / "screen"
# Built in order; each reads the ones before it (temp tables) and the night.
STEPS = ("line_person", "line_reason")


def load_batch(con: duckdb.DuckDBPyConnection, path: Path, manifest: Manifest, policy: dict) -> dict:
    """The batch file into raw/stg.payments (and stg.quarantine) as a drop's payments file; its counts."""
    with staged_as(Path(path), PAYMENTS) as folder:
        counts = load_drop(con, folder, manifest, (PAYMENTS,), policy=policy)[0]
    return counts


def install_reasons(con: duckdb.DuckDBPyConnection) -> None:
    """`screen_reason` (temp): each reason's verdict, label and precedence, from screen/reasons.py."""
    frame = pl.DataFrame(
        {
            "code": [reason.code for reason in REASONS],
            "verdict": [reason.verdict for reason in REASONS],
            "label": [reason.label for reason in REASONS],
            "rank": list(range(len(REASONS))),
        }
    )
    con.register("reason_rows", frame.to_arrow())
    try:
        con.execute("create or replace temp table screen_reason as select * from reason_rows")
    finally:
        con.unregister("reason_rows")


def judge_lines(con: duckdb.DuckDBPyConnection, night_database: Path, as_of, policy: dict,
                timings: dict[str, float] | None = None) -> dict[str, int]:
    """`screen.line`: a verdict for every line of the loaded batch, judged against `night_database`; counts per verdict."""
    parameters = run_parameters(as_of, policy)
    con.execute("create schema if not exists screen")
    with attached(con, night_database, NIGHT_CATALOG, read_only=True):
        # the evidence names the night's codes (certificate status, disability) as the night's labels do
        con.execute(f"create or replace table stg.vocabulary as select * from {NIGHT_CATALOG}.stg.vocabulary")
        install_macros(con)
        install_reasons(con)
        for step in STEPS:
            started = time.perf_counter()
            sql = read_sql(SCREEN_SQL / f"{step}.sql")
            con.execute(f"create or replace temp table {step} as {sql}", bind(sql, parameters, f"screen/{step}.sql"))
            if timings is not None:
                timings[step] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        con.execute(ddl(SCREEN_LINE))
        sql = read_sql(SCREEN_SQL / "line.sql")
        con.execute(f"insert into screen.line {sql}", bind(sql, parameters, "screen/line.sql"))
        if timings is not None:
            timings["line"] = round(time.perf_counter() - started, 3)
    return dict(con.execute("select verdict, count(*) from screen.line group by verdict order by verdict").fetchall())
