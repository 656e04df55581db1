"""Validate the staged tables: each declaration's expectations, evaluated in DuckDB where the rows are.

What belongs here: evaluating the expectations of `extracts.expectations` on
`stg.<stem>` after every load, one aggregate query per table, and summarising
the failures for the run report. What does not: which expectations a
declaration implies (`extracts.expectations`), typing and quarantine
(`extracts.load`), facts across extracts (`checks/`), rendering (`reports/`).

The summary keeps Great Expectations' names, counts and percentages, and the
tests hold it to them: they run the same expectations through GX and compare,
expectation by expectation. The run itself never imports GX (seconds to
import, and a pandas copy of every table to check).

A failed expectation is a finding about the drop, not an error of the run: it
is reported with its row numbers and the nightly run carries on.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable

import duckdb

from hecha.extracts.expectations import BETWEEN, IN_SET, NOT_NULL, Expectation, applicable_expectations
from hecha.extracts.schema import Extract
from hecha.storage.database import sql_identifier, table_columns

EXAMPLE_ROWS = 10
QUOTED = re.compile(r"'(?:[^']|'')*'")

# (con, stem, expectations) → (rows in the table, one summary per expectation)
Evaluator = Callable[[duckdb.DuckDBPyConnection, str, list[Expectation]], tuple[int, list[dict]]]


def validate_stg(con: duckdb.DuckDBPyConnection, extracts: Iterable[Extract], as_of: datetime.date,
                 evaluate: Evaluator | None = None) -> dict:
    """Evaluate each extract's expectations on its `stg.<stem>` table and summarise, JSON-serialisable.

    Extracts without a staged table are left out; expectations on optional
    columns absent from the file are skipped. Failures are returned, not
    raised. `evaluate` is DuckDB's (`evaluate_in_duckdb`) unless a test hands
    in another, such as GX's.
    """
    evaluate = evaluate or evaluate_in_duckdb
    files = {}
    for extract in extracts:
        present = set(table_columns(con, "stg", extract.stem))
        if not present:
            continue
        rows, summaries = evaluate(con, extract.stem, applicable_expectations(extract, as_of, present))
        files[extract.stem] = {"rows": rows, "success": all(s["success"] for s in summaries), "expectations": summaries}
    return {"success": all(f["success"] for f in files.values()), "files": files}


def evaluate_in_duckdb(con: duckdb.DuckDBPyConnection, stem: str, expectations: list[Expectation]) -> tuple[int, list[dict]]:
    """All of a table's expectations in one scan; should that query fail, each alone, so one broken rule cannot hide the rest."""
    try:
        rows, *measures = con.execute(*measure_query(stem, expectations)).fetchone()
    except duckdb.Error:
        return evaluate_one_by_one(con, stem, expectations)
    counts = [measures[i:i + 3] for i in range(0, len(measures), 3)]
    return rows, [summarize(expectation, rows, *count) for expectation, count in zip(expectations, counts, strict=True)]


def evaluate_one_by_one(con: duckdb.DuckDBPyConnection, stem: str, expectations: list[Expectation]) -> tuple[int, list[dict]]:
    (rows,) = con.execute(f"select count(*) from stg.{sql_identifier(stem)}").fetchone()
    summaries = []
    for expectation in expectations:
        try:
            _, *count = con.execute(*measure_query(stem, [expectation])).fetchone()
            summaries.append(summarize(expectation, rows, *count))
        except duckdb.Error as error:
            summaries.append(not_evaluated(expectation, error_without_values(error)))
    return rows, summaries


def error_without_values(error: duckdb.Error) -> str:
    """DuckDB's first line, the values it quotes masked: a cast that failed on a citizen number must not put it in the run record."""
    first_line = str(error).splitlines()[0]
    return QUOTED.sub("'…'", first_line)


def measure_query(stem: str, expectations: list[Expectation]) -> tuple[str, dict]:
    """The row count, then per expectation: rows breaking it, rows it counts, the first breaking source rows.

    Values are parameters; only row numbers leave the query, never a value
    (a citizen number must not reach the run record).
    """
    measures = ["count(*)"]
    parameters = {}
    for position, expectation in enumerate(expectations):
        broken, bound = unexpected_condition(expectation, f"e{position}")
        parameters |= bound
        measures += [
            f"count(*) filter (where {broken})",
            # GX's denominator for the percent: every row for not-null, the values present otherwise
            "count(*)" if expectation.type == NOT_NULL else f"count({value_sql(expectation)})",
            f"min(source_row, {EXAMPLE_ROWS}) filter (where {broken})",
        ]
    return f"select {', '.join(measures)} from stg.{sql_identifier(stem)}", parameters


def value_sql(expectation: Expectation) -> str:
    return f"({expectation.sql})" if expectation.sql else f'"{expectation.column}"'


def unexpected_condition(expectation: Expectation, prefix: str) -> tuple[str, dict]:
    """SQL true on the rows that break `expectation`, with its parameters named after `prefix`.

    As in GX, a NULL breaks only not-null: the set and range checks leave it out.
    """
    value = value_sql(expectation)
    if expectation.type == NOT_NULL:
        return f"{value} is null", {}
    if expectation.type == IN_SET:
        return f"{value} is not null and not list_contains(${prefix}_set, {value})", {f"{prefix}_set": list(expectation.value_set)}
    if expectation.type == BETWEEN:
        outside, bounds = [], {}
        for bound, operator in (("min", "<"), ("max", ">")):
            limit = getattr(expectation, f"{bound}_value")
            if limit is not None:
                outside.append(f"{value} {operator} ${prefix}_{bound}")
                bounds[f"{prefix}_{bound}"] = limit
        return f"{value} is not null and ({' or '.join(outside)})", bounds
    raise ValueError(f"{expectation.column}: no SQL for {expectation.type}")


def summarize(expectation: Expectation, rows: int, unexpected: int, counted: int, examples: list[int] | None) -> dict:
    """One expectation's outcome: counts and the first source rows, ascending, that broke it.

    The percent is GX's: of the rows the expectation counts (every row for
    not-null, the non-NULL ones otherwise), None when there are none.
    """
    percent = unexpected / counted * 100 if rows and counted else None
    return outcome(expectation, success=unexpected == 0, unexpected_count=unexpected, unexpected_percent=percent,
                   example_rows=list(examples or []))


def not_evaluated(expectation: Expectation, error: str) -> dict:
    return outcome(expectation, success=False, unexpected_count=0, unexpected_percent=None, example_rows=[]) | {"error": error}


def outcome(expectation: Expectation, *, success: bool, unexpected_count: int, unexpected_percent: float | None,
            example_rows: list[int]) -> dict:
    """The summary of one expectation, as the run record and the reports read it."""
    return {
        "expectation": expectation.type,
        "column": expectation.column,
        "description": expectation.description,
        "success": success,
        "unexpected_count": unexpected_count,
        "unexpected_percent": unexpected_percent,
        "example_rows": example_rows,
    }


def format_validation_failures(summary: dict) -> list[str]:
    """One line per failed expectation: `<stem>: <description>: <n> rows, e.g. rows 3, 17, 42`."""
    lines = []
    for stem, file in summary["files"].items():
        for expectation in file["expectations"]:
            if expectation["success"]:
                continue
            if expectation.get("error"):
                lines.append(f"{stem}: {expectation['description']}: not evaluated ({expectation['error']})")
                continue
            count = expectation["unexpected_count"]
            examples = expectation["example_rows"]
            line = f"{stem}: {expectation['description']}: {count} {'row' if count == 1 else 'rows'}"
            if examples:
                line += f", e.g. {'row' if len(examples) == 1 else 'rows'} {', '.join(map(str, examples))}"
            lines.append(line)
    return lines
