"""Apply citizen-number and name normalisation to the staged tables.

The loader leaves `<col>` and `<col>_status` empty beside `<col>_raw` for
every id_number and name column; this fills them. Work is done once per
distinct raw value (names and numbers repeat across rows and files), then
joined back in DuckDB.
"""

from __future__ import annotations

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.schema import Extract
from hecha.matching.id_number import normalize_id_numbers
from hecha.matching.names import normalize_names


def distinct_raw_values(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...], kind: str) -> pl.Series:
    selects = [
        f"select {column.name}_raw as raw from stg.{extract.stem}"
        for extract in extracts
        for column in extract.columns_of_kind(kind)
    ]
    values = con.sql(" union ".join(selects)).pl()["raw"]
    return values.drop_nulls().unique().sort()  # one column alone is not de-duplicated by the union


def normalize_identities(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS) -> dict[str, int]:
    """Fill normalized citizen numbers (with status) and names in every stg table; return status counts."""
    numbers = normalize_id_numbers(distinct_raw_values(con, extracts, "id_number")).rename({"id_number_raw": "raw"})
    raw_names = distinct_raw_values(con, extracts, "name")
    names = pl.DataFrame({"raw": raw_names, "normalized": normalize_names(raw_names)})
    con.register("id_number_map", numbers.to_arrow())
    con.register("name_map", names.to_arrow())
    try:
        for extract in extracts:
            joins, replaced = [], []
            for i, column in enumerate(extract.columns_of_kind("id_number")):
                alias = f"n{i}"
                joins.append(f"left join id_number_map as {alias} on t.{column.name}_raw = {alias}.raw")
                replaced += [
                    f"{alias}.id_number as {column.name}",
                    f"coalesce({alias}.id_number_status, 'blank') as {column.name}_status",
                ]
            for i, column in enumerate(extract.columns_of_kind("name")):
                alias = f"m{i}"
                joins.append(f"left join name_map as {alias} on t.{column.name}_raw = {alias}.raw")
                replaced.append(f"{alias}.normalized as {column.name}")
            con.execute(
                f"create or replace table stg.{extract.stem} as "
                f"select t.* replace ({', '.join(replaced)}) from stg.{extract.stem} as t {' '.join(joins)} "
                f"order by t.source_row"
            )
    finally:
        con.unregister("id_number_map")
        con.unregister("name_map")
    statuses = " union all ".join(
        f"select {column.name}_status as status from stg.{extract.stem}"
        for extract in extracts
        for column in extract.columns_of_kind("id_number")
    )
    counts = con.execute(f"select status, count(*) from ({statuses}) group by status order by status").fetchall()
    return dict(counts)
