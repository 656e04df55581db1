"""Great Expectations, the reference for what the validate stage's expectations mean.

`evaluate_with_gx` is an evaluator for `extracts.validate.validate_stg`: it
runs a table's expectations (the objects `extracts.expectations` builds, the
ones DuckDB evaluates in the run) through GX's pandas path, on a pandas copy of
the table, as the stage did before it moved into DuckDB. Tests run both and
compare. Importing this module imports GX: seconds, which the run never pays.
"""

from __future__ import annotations

import datetime
import heapq
import logging

import duckdb
import great_expectations as gx
import pandas as pd
import pyarrow as pa
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.registry import get_expectation_impl

from hecha.extracts.expectations import Expectation
from hecha.extracts.validate import EXAMPLE_ROWS, not_evaluated, outcome
from hecha.storage.database import sql_identifier

# pandas nanosecond timestamps only reach 1677..2262, and GX compares dates
# vectorised only on nanosecond columns (otherwise one Python call per row).
# A typo such as 9999-01-01 is clamped to the edge: still outside 1900..as_of,
# still inside a range without an upper bound, as DuckDB finds it unclamped.
TIMESTAMP_NS_RANGE = ("1677-09-22", "2262-04-11")

RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": EXAMPLE_ROWS,
    "unexpected_index_column_names": ["source_row"],
    # only row numbers, no values; with source_row as the frame's index GX lists the rows without a per-row lookup
    "exclude_unexpected_values": True,
}

logging.getLogger("great_expectations").setLevel(logging.WARNING)


def evaluate_with_gx(con: duckdb.DuckDBPyConnection, stem: str, expectations: list[Expectation]) -> tuple[int, list[dict]]:
    """The table's rows and one summary per expectation, GX's figures in `extracts.validate`'s shape."""
    context = gx.get_context(mode="ephemeral", project_config=context_config())
    frame = select_frame(con, stem, expectations)
    suite = context.suites.add(gx.ExpectationSuite(name=stem, expectations=[gx_expectation(e) for e in expectations]))
    validation = gx.ValidationDefinition(
        name=stem,
        data=context.data_sources.add_pandas("stg").add_dataframe_asset(stem).add_batch_definition_whole_dataframe("whole"),
        suite=suite,
    )
    result = validation.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
    return len(frame), [summarize_gx_result(e, r) for e, r in zip(expectations, result.results, strict=True)]


def gx_expectation(expectation: Expectation) -> gx.expectations.Expectation:
    """GX's expectation of the same type and arguments; date bounds as datetimes, for the frame's timestamp columns."""
    kwargs = {
        key: datetime.datetime.combine(value, datetime.time()) if type(value) is datetime.date else value
        for key, value in expectation.kwargs.items()
    }
    return get_expectation_impl(expectation.type)(**kwargs, description=expectation.description)


def context_config() -> DataContextConfig:
    """An in-memory GX context that stays quiet: no progress bars, no data-docs site, no analytics."""
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )


def select_frame(con: duckdb.DuckDBPyConnection, stem: str, expectations: list[Expectation]) -> pd.DataFrame:
    """The columns the expectations read, typed so GX compares them vectorised, indexed by source_row.

    Dates become clamped nanosecond timestamps, numbers doubles; a row rule
    becomes the boolean its SQL computes.
    """
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_catalog = current_database() and table_schema = 'stg' and table_name = ?",
        [stem],
    ).fetchall())
    values = {}
    for expectation in expectations:
        name = expectation.column
        if expectation.sql:
            values[name] = f'{expectation.sql} as "{name}"'
        elif types[name] == "DATE":
            low, high = TIMESTAMP_NS_RANGE
            # not greatest/least: those skip NULLs, turning a blank date into the clamp edge
            clamped = f"case when \"{name}\" > date '{high}' then date '{high}' when \"{name}\" < date '{low}' then date '{low}' else \"{name}\" end"
            values[name] = f'cast({clamped} as timestamp_ns) as "{name}"'
        elif types[name].startswith(("DECIMAL", "INTEGER", "BIGINT")):
            values[name] = f'cast("{name}" as double) as "{name}"'
        else:
            values[name] = f'"{name}"'
    sql = f"select {', '.join(['source_row', *values.values()])} from stg.{sql_identifier(stem)} order by source_row"
    arrow_text = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return con.sql(sql).to_arrow_table().to_pandas(types_mapper=arrow_text.get).set_index("source_row")


def summarize_gx_result(expectation: Expectation, result) -> dict:
    """One GX result in the summary's shape, its figures as GX gives them."""
    assert result.expectation_config.type == expectation.type and result.expectation_config.kwargs["column"] == expectation.column
    error = result.exception_info.get("exception_message") if result.exception_info else None
    if error is None:
        # GX keys exception_info by metric when a metric fails to compute
        nested = [info for info in (result.exception_info or {}).values() if isinstance(info, dict)]
        error = next((info.get("exception_message") for info in nested if info.get("raised_exception")), None)
    if error:
        return not_evaluated(expectation, error)
    counts = result.result or {}
    percent = counts.get("unexpected_percent")
    return outcome(
        expectation,
        success=bool(result.success),
        unexpected_count=int(counts.get("unexpected_count") or 0),
        unexpected_percent=None if percent is None else float(percent),
        example_rows=example_rows(counts.get("partial_unexpected_index_list") or []),
    )


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
