"""The output table declarations (storage/tables.py): the DDL they give creates what they declare."""

from __future__ import annotations

import duckdb
import pytest

from hecha.storage.tables import AUDIT_OUTCOME, BY_NAME, FINDING, TABLES, Table, TableColumn, ddl


def created_columns(con: duckdb.DuckDBPyConnection, table: Table) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        [table.schema, table.name],
    ).fetchall()


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.qualified_name)
def test_table_ddl_creates_the_declared_columns_in_order(table):
    con = duckdb.connect()
    con.execute(f"create schema {table.schema}")
    con.execute(ddl(table))
    declared = [(column.name, column.sql_type) for column in table.columns]
    assert [name for name, _ in created_columns(con, table)] == [name for name, _ in declared]
    # DuckDB spells some types its own way (double → DOUBLE, decimal(12, 2) → DECIMAL(12,2))
    assert [kind.lower().replace(" ", "") for _, kind in created_columns(con, table)] == [
        kind.lower().replace(" ", "") for _, kind in declared
    ]


def test_persistent_table_ddl_keeps_the_rows_a_history_holds():
    con = duckdb.connect()
    con.execute("create schema audit")
    con.execute(ddl(AUDIT_OUTCOME))
    con.execute("insert into audit.outcome (run_id, case_key) values ('r1', 'k1')")
    con.execute(ddl(AUDIT_OUTCOME))
    assert con.execute("select count(*) from audit.outcome").fetchall() == [(1,)]
    with pytest.raises(duckdb.ConstraintException):  # declared key: (run_id, case_key)
        con.execute("insert into audit.outcome (run_id, case_key) values ('r1', 'k1')")


def test_run_table_ddl_replaces_the_table():
    con = duckdb.connect()
    con.execute("create schema chk")
    con.execute(ddl(FINDING))
    con.execute("insert into chk.finding (check_code) values ('deceased_paid')")
    con.execute(ddl(FINDING))
    assert con.execute("select count(*) from chk.finding").fetchall() == [(0,)]


def test_every_declared_column_says_what_it_holds():
    missing = [f"{table.qualified_name}.{column.name}" for table in TABLES for column in table.columns if not column.description]
    assert missing == []
    assert len(BY_NAME) == len(TABLES)


def test_table_refuses_a_column_declared_twice():
    with pytest.raises(ValueError, match="declared twice"):
        Table("chk", "twice", "one row per nothing", (TableColumn("a", "varchar", "a"), TableColumn("a", "integer", "again")))
