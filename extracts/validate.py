"""Validate the staged tables with a Great Expectations suite generated from each declaration.

What belongs here: turning an `Extract` declaration into GX expectations (keys
present, codes in their vocabulary, dates and amounts in range, citizen numbers
well-formed, row rules), running them on `stg.<stem>` after every load, and
summarising the failures for the run report. What does not: typing and
quarantine (`extracts.load`), facts across extracts (`checks/`), rendering
(`reports/`).

A failed expectation is a finding about the drop, not an error of the run: it
is reported with its row numbers and the nightly run carries on.
"""

from __future__ import annotations

import calendar
import datetime
import heapq
import re
from collections.abc import Iterable

import duckdb
import great_expectations as gx
import pandas as pd
import pyarrow as pa
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from hecha.extracts.schema import Column, Extract, RowRule

EARLIEST_DATE = datetime.date(1900, 1, 1)
EXAMPLE_ROWS = 10
ID_STATUS_OK = ("valid", "upgraded")

# pandas nanosecond timestamps only reach 1677..2262, and GX compares dates
# vectorised only on nanosecond columns (otherwise one Python call per row).
# A typo such as 9999-01-01 is clamped to the edge: still outside 1900..as_of.
TIMESTAMP_NS_RANGE = ("1677-09-22", "2262-04-11")

RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": EXAMPLE_ROWS,
    "unexpected_index_column_names": ["source_row"],
    # only row numbers, no values: keeps citizen numbers out of the summary, and
    # with source_row as the frame's index GX lists the rows without a per-row lookup
    "exclude_unexpected_values": True,
}


def build_expectations(extract: Extract, as_of: datetime.date) -> list[gx.expectations.Expectation]:
    """The GX expectations for `stg.<extract.stem>`, derived only from its declaration.

    Date and month bounds are `datetime` values because `validate_stg` hands GX
    those columns as nanosecond timestamps.
    """
    expectations = []
    for column in extract.columns:
        expectations += column_expectations(column, as_of)
    expectations += [row_rule_expectation(rule) for rule in extract.row_rules]
    return expectations


def column_expectations(column: Column, as_of: datetime.date) -> list[gx.expectations.Expectation]:
    """Keys present, then the value check that the column's kind implies."""
    expectations = []
    if not column.nullable:
        key = f"{column.name}_raw" if column.kind == "id_number" else column.name
        expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=key, description=f"{column.header} 不为空"))
    if column.kind == "code":
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeInSet(
                column=column.name,
                value_set=sorted(set(column.vocabulary.values())),
                description=f"{column.header} 取值为 {'/'.join(column.vocabulary)}",
            )
        )
    elif column.kind in ("date", "month"):
        expectations.append(date_expectation(column, as_of))
    elif column.kind in ("amount", "integer"):
        expectations += number_expectations(column)
    elif column.kind == "id_number":
        statuses = ID_STATUS_OK + (("blank",) if column.nullable else ())
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeInSet(
                column=f"{column.name}_status",
                value_set=list(statuses),
                description=f"{column.header} 规范化后格式正确" + ("（或为空）" if column.nullable else ""),
            )
        )
    return expectations


def date_expectation(column: Column, as_of: datetime.date) -> gx.expectations.Expectation:
    """Not before 1900 and, unless the column may lie ahead (an expiry date), not after the as_of month."""
    last_day = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    shown = "%Y-%m" if column.kind == "month" else "%Y-%m-%d"
    description = f"{column.header} 不早于 {EARLIEST_DATE.strftime(shown)}"
    maximum = None
    if not column.future_ok:
        maximum = datetime.datetime.combine(last_day, datetime.time())
        description += f" 且不晚于 {last_day.strftime(shown)}"
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=column.name,
        min_value=datetime.datetime.combine(EARLIEST_DATE, datetime.time()),
        max_value=maximum,
        description=description,
    )


def number_expectations(column: Column) -> list[gx.expectations.Expectation]:
    """Amounts are never negative; both kinds stay within the declared minimum and maximum."""
    minimum = column.minimum
    if column.kind == "amount":
        minimum = 0 if minimum is None else max(0, minimum)
    if minimum is None and column.maximum is None:
        return []
    bounds = []
    if minimum is not None:
        bounds.append(f"不小于 {minimum:g}")
    if column.maximum is not None:
        bounds.append(f"不大于 {column.maximum:g}")
    return [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column=column.name,
            min_value=minimum,
            max_value=column.maximum,
            description=f"{column.header} {' 且'.join(bounds)}",
        )
    ]


def row_rule_expectation(rule: RowRule) -> gx.expectations.Expectation:
    """The rule's boolean column (computed when the frame is selected) must be true on every row."""
    return gx.expectations.ExpectColumnValuesToBeInSet(column=rule.name, value_set=[True], description=rule.description)


def validate_stg(con: duckdb.DuckDBPyConnection, extracts: Iterable[Extract], as_of: datetime.date) -> dict:
    """Run each extract's suite on its `stg.<stem>` table and summarise, JSON-serialisable.

    Extracts without a staged table are left out; expectations on optional
    columns absent from the file are skipped. Failures are returned, not raised.
    """
    context = gx.get_context(mode="ephemeral", project_config=context_config())
    source = context.data_sources.add_pandas("stg")
    files = {}
    for extract in extracts:
        present = stg_table_columns(con, extract.stem)
        if not present:
            continue
        frame = select_frame(con, extract, present)
        expectations = [e for e in build_expectations(extract, as_of) if e.column in frame.columns]
        suite = context.suites.add(gx.ExpectationSuite(name=extract.stem, expectations=expectations))
        # a validation definition loads the batch once; Batch.validate loads it twice, and GX
        # fingerprints every frame it loads (about a second per million rows)
        validation = gx.ValidationDefinition(
            name=extract.stem,
            data=source.add_dataframe_asset(extract.stem).add_batch_definition_whole_dataframe("whole"),
            suite=suite,
        )
        result = validation.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
        summaries = [summarize_result(expectation) for expectation in result.results]
        files[extract.stem] = {
            "rows": len(frame),
            "success": all(s["success"] for s in summaries),
            "expectations": summaries,
        }
    return {"success": all(f["success"] for f in files.values()), "files": files}


def context_config() -> DataContextConfig:
    """An in-memory GX context that stays quiet.

    No progress bars, no temporary data-docs site (the default ephemeral context
    makes one and logs about it), no analytics: a nightly job on a county
    network must not phone home.
    """
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )


def stg_table_columns(con: duckdb.DuckDBPyConnection, stem: str) -> set[str]:
    """Column names of `stg.<stem>`; empty when the table does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns"
        " where table_catalog = current_database() and table_schema = 'stg' and table_name = ?",
        [stem],
    ).fetchall()
    return {name for (name,) in rows}


def select_frame(con: duckdb.DuckDBPyConnection, extract: Extract, present: set[str]) -> pd.DataFrame:
    """The columns the suite reads, typed so GX compares them vectorised, indexed by source_row.

    Row rules become boolean columns here, a NULL counting as a broken rule; a
    rule naming an absent column is left out, and so is its expectation.
    """
    values = []
    for column in extract.columns:
        for name, _ in column.stg_columns:
            if name not in present:
                continue
            if column.kind in ("date", "month"):
                low, high = TIMESTAMP_NS_RANGE
                # not greatest/least: those skip NULLs, turning a blank date into the clamp edge
                clamped = f"case when \"{name}\" > date '{high}' then date '{high}' when \"{name}\" < date '{low}' then date '{low}' else \"{name}\" end"
                values.append(f'cast({clamped} as timestamp_ns) as "{name}"')
            elif column.kind in ("amount", "integer"):
                values.append(f"cast(\"{name}\" as double) as \"{name}\"")
            else:
                values.append(f'"{name}"')
    for rule in extract.row_rules:
        if rule_columns(rule, extract) <= present:
            values.append(f'coalesce(({rule.sql}), false) as "{rule.name}"')
    sql = f"select source_row, {', '.join(values)} from stg.{extract.stem} order by source_row"
    # through Arrow, text stays Arrow-backed: a million citizen numbers as Python
    # str objects cost more than the whole suite, and GX's checks on them are vectorised
    arrow_text = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return con.sql(sql).to_arrow_table().to_pandas(types_mapper=arrow_text.get).set_index("source_row")


def rule_columns(rule: RowRule, extract: Extract) -> set[str]:
    """The stg columns of `extract` that the rule's SQL names."""
    names = {name for column in extract.columns for name, _ in column.stg_columns}
    return {name for name in names if re.search(rf"\b{re.escape(name)}\b", rule.sql)}


def summarize_result(result) -> dict:
    """One expectation's outcome: counts and the first source rows that broke it."""
    config = result.expectation_config
    counts = result.result or {}
    error = result.exception_info.get("exception_message") if result.exception_info else None
    if error is None:
        # GX keys exception_info by metric when a metric fails to compute
        nested = [info for info in (result.exception_info or {}).values() if isinstance(info, dict)]
        error = next((info.get("exception_message") for info in nested if info.get("raised_exception")), None)
    percent = counts.get("unexpected_percent")
    summary = {
        "expectation": config.type,
        "column": config.kwargs.get("column"),
        "description": config.description,
        "success": bool(result.success),
        "unexpected_count": int(counts.get("unexpected_count") or 0),
        "unexpected_percent": None if percent is None else float(percent),
        "example_rows": example_rows(counts.get("partial_unexpected_index_list") or []),
    }
    if error:
        summary["error"] = error
    return summary


def example_rows(index_list: list) -> list[int]:
    """Up to ten source rows, ascending, from GX's partial unexpected index list.

    With `exclude_unexpected_values` GX gives one entry holding every row
    number; without it, one entry per row.
    """
    rows = []
    for entry in index_list:
        value = entry["source_row"]
        rows += value if isinstance(value, list) else [value]
    return [int(row) for row in heapq.nsmallest(EXAMPLE_ROWS, rows)]


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
