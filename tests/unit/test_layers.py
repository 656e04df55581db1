"""The layer runner: steps in dependency order, declared tables exactly as declared, nothing left changed."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from hecha.storage.layers import GeneratedStep, Layer, PythonStep, build_layer, build_order
from hecha.storage.tables import Table, TableColumn


def doubled(rows: pl.DataFrame, factor: int) -> pl.DataFrame:
    return rows.select((pl.col("n") * factor).alias("n"))


STEPS = (
    # declared before what it reads: the runner orders by what each step names
    PythonStep("doubled", {"rows": "select n from scratch.numbers order by n"}, doubled, parameters=("factor",)),
    GeneratedStep("numbers", "select * from range(1, 4) as t(n)"),
    GeneratedStep("total", "select sum(n) as n from scratch.doubled"),
)


def test_steps_are_built_after_the_tables_they_read_and_every_table_stays():
    con = duckdb.connect()
    built = build_layer(con, Layer("scratch", STEPS), {"factor": 10})
    assert built.index("numbers") < built.index("doubled") < built.index("total")
    assert con.execute("select n from scratch.total").fetchall() == [(60,)]
    assert con.execute("select count(*) from duckdb_tables() where schema_name = 'scratch'").fetchall() == [(3,)]


def test_a_declared_table_gets_the_declared_types_and_other_columns_are_refused():
    declared = Table("scratch", "numbers", "one row per number", (TableColumn("n", "double", "a number"),))
    con = duckdb.connect()
    build_layer(con, Layer("scratch", STEPS, declared={"numbers": declared}), {"factor": 1})
    assert con.execute("select data_type from duckdb_columns() where table_name = 'numbers'").fetchall() == [("DOUBLE",)]
    wrong = Table("scratch", "numbers", "one row per number", (TableColumn("m", "double", "a number"),))
    with pytest.raises(ValueError, match="scratch.numbers"):
        build_layer(con, Layer("scratch", STEPS, declared={"numbers": wrong}), {"factor": 1})


def test_a_view_step_stays_a_view_and_a_rebuild_may_change_its_kind():
    con = duckdb.connect()
    build_layer(con, Layer("scratch", STEPS, views=frozenset({"total"})), {"factor": 2})
    assert con.execute("select count(*) from duckdb_views() where view_name = 'total'").fetchall() == [(1,)]
    build_layer(con, Layer("scratch", STEPS), {"factor": 2})
    assert con.execute("select count(*) from duckdb_views() where view_name = 'total'").fetchall() == [(0,)]
    assert con.execute("select n from scratch.total").fetchall() == [(12,)]


def test_after_a_change_only_the_steps_reading_the_changed_table_are_built_again():
    con = duckdb.connect()
    con.execute("create table base as select * from range(1, 4) as t(n)")
    con.execute("create table other as select 5 as n")
    steps = (*STEPS, GeneratedStep("from_other", "select n from other"), GeneratedStep("both", "select n from scratch.from_other union all select n from base"))
    build_layer(con, Layer("scratch", steps), {"factor": 10})
    con.execute("delete from scratch.numbers where n = 3")  # a kept step is left as it is
    con.execute("update other set n = 6")
    con.execute("update base set n = n + 100")
    built = build_layer(con, Layer("scratch", steps), {"factor": 10}, changed=["other"])
    assert {"numbers", "doubled", "total"}.isdisjoint(built) and {"from_other", "both"} <= set(built)
    assert con.execute("select count(*) from scratch.numbers").fetchall() == [(2,)]
    assert con.execute("select n from scratch.total").fetchall() == [(60,)]
    assert con.execute("select n from scratch.both order by n").fetchall() == [(6,), (101,), (102,), (103,)]


def test_a_step_built_twice_or_a_cycle_is_refused():
    with pytest.raises(ValueError, match="built twice"):
        build_order(Layer("scratch", (*STEPS, GeneratedStep("numbers", "select 1 as n"))))
    cycle = (GeneratedStep("a", "select * from scratch.b"), GeneratedStep("b", "select * from scratch.a"))
    with pytest.raises(Exception, match="cycle"):
        build_order(Layer("scratch", cycle))


def test_building_a_layer_changes_no_setting_of_the_connection():
    con = duckdb.connect()
    before = con.execute("select name, value from duckdb_settings() order by name").fetchall()
    build_layer(con, Layer("scratch", STEPS), {"factor": 3})
    assert con.execute("select name, value from duckdb_settings() order by name").fetchall() == before
