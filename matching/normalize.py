"""Citizen-number and name normalisation for the staged tables: one map per distinct raw value.

The loader (`extracts.load`) takes the normalized values row by row from
`staged_identities` as it types an extract, so `stg.<stem>` is written once,
`<col>` and `<col>_status` filled beside `<col>_raw` for every id_number and
name column. Work is done once per distinct raw value: names and numbers
repeat across rows (a ledger names its payees every month). The rules
themselves live in `matching.id_number` and `matching.names`.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.schema import Column, Extract
from hecha.matching.id_number import normalize_id_numbers
from hecha.matching.names import normalize_names


def id_number_map(distinct: pl.Series) -> pl.DataFrame:
    """For raw citizen numbers (distinct ones, usually): `raw`, `id_number` (null unless usable), `id_number_status`
    (`blank` for a null)."""
    return normalize_id_numbers(distinct).rename({"id_number_raw": "raw"})


def name_map(distinct: pl.Series) -> pl.DataFrame:
    """For raw names (distinct ones, usually): `raw`, `normalized` (null for a null, or when nothing is left of it)."""
    return pl.DataFrame({"raw": distinct, "normalized": normalize_names(distinct)})


def staged_identities(frame: pl.DataFrame, extract: Extract) -> pl.DataFrame:
    """Row by row, in `frame`'s order, what stg holds for each citizen-number and name column of `extract`.

    `frame` holds the extract's columns as read (text). For an id_number
    column `<col>` the result has `<col>` (normalized, null unless usable) and
    `<col>_status` (`blank` where the value is absent); for a name column,
    `<col>` (normalized). Each kind's values are normalized once per distinct
    value of all its columns, then looked up row by row: a number or name
    that repeats is normalized once (see `normalized_per_row`).
    """
    columns = []
    numbers = extract.columns_of_kind("id_number")
    for column, found in zip(numbers, normalized_per_row(frame, numbers, id_number_map)):
        columns += [found["id_number"].alias(column.name),
                    found["id_number_status"].fill_null("blank").alias(f"{column.name}_status")]
    names = extract.columns_of_kind("name")
    for column, found in zip(names, normalized_per_row(frame, names, name_map)):
        columns.append(found["normalized"].alias(column.name))
    return pl.DataFrame([column.cast(pl.String) for column in columns])


# Above this share of distinct values among the values, the values are normalized as they come: looking
# every row up among nearly as many distinct values costs more than the normalizing it would spare.
MOSTLY_DISTINCT = 0.5


def normalized_per_row(frame: pl.DataFrame, columns: tuple[Column, ...],
                       normalize: Callable[[pl.Series], pl.DataFrame]) -> list[pl.DataFrame]:
    """`normalize` (values → a map: `raw` and what they become) applied to each of `columns`, row by row.

    The map is built once over the distinct non-null values of all the
    columns and looked up per row (a null finds nothing: all null), unless
    nearly all values are distinct (a register names each person once): then
    each column is normalized as it is (a null gives what `normalize` gives it).
    """
    if not columns:
        return []
    values = [frame[column.name].cast(pl.String).alias("raw") for column in columns]
    distinct = pl.concat(values).drop_nulls().unique()
    if distinct.len() > MOSTLY_DISTINCT * sum(v.len() for v in values):
        return [normalize(v) for v in values]
    found = normalize(distinct)
    return [v.to_frame().join(found, on="raw", how="left", maintain_order="left") for v in values]


def normalize_identities(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS) -> dict[str, int]:
    """Citizen-number status counts over every stg table, for the run record.

    The numbers and names are normalized as each extract is staged
    (`extracts.load.stage`); this only counts what they became.
    """
    statuses = " union all ".join(
        f"select {column.name}_status as status from stg.{extract.stem}"
        for extract in extracts
        for column in extract.columns_of_kind("id_number")
    )
    counts = con.execute(f"select status, count(*) from ({statuses}) group by status order by status").fetchall()
    return dict(counts)
