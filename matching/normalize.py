"""Citizen-number and name normalisation for the staged tables: one map per distinct raw value.

The loader (`extracts.load`) joins these maps in as it types an extract, so
`stg.<stem>` is written once, `<col>` and `<col>_status` filled beside
`<col>_raw` for every id_number and name column. Work is done once per
distinct raw value: names and numbers repeat across rows (a ledger names
its payees every month). The rules themselves live in `matching.id_number`
and `matching.names`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.schema import Extract
from hecha.matching.id_number import normalize_id_numbers
from hecha.matching.names import normalize_names


def id_number_map(distinct: pl.Series) -> pl.DataFrame:
    """For distinct raw citizen numbers (no null among them): `raw`, `id_number` (null unless usable), `id_number_status`."""
    return normalize_id_numbers(distinct).rename({"id_number_raw": "raw"})


def name_map(distinct: pl.Series) -> pl.DataFrame:
    """For distinct raw names (no null among them): `raw`, `normalized` (null when nothing is left of it)."""
    return pl.DataFrame({"raw": distinct, "normalized": normalize_names(distinct)})


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
