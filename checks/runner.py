"""Run the checks: materialise the shared `int` facts, then each check into `chk.finding`.

SQL files are plain SELECTs (see sql/); this module is the one place that
turns them into tables. Named parameters (`$as_of_month`) are bound from the
run parameters; each file gets only the ones it uses. The person columns of
the output contract (citizen number, name, township, village) are added here
from `link.person`, so check SQL stays about the rule.
"""

from __future__ import annotations

import datetime as dt
import time

import duckdb
import polars as pl

from hecha.checks.catalogue import BY_CODE, CATALOGUE
from hecha.checks.labels import install_labels
from hecha.config import policy_tables, run_parameters
from hecha.storage.layers import SQL_DIR, Layer, bind, build_layer, read_sql
from hecha.storage.secret import require_keyed_hash
from hecha.storage.tables import FINDING, ddl

def execute(con: duckdb.DuckDBPyConnection, statement: str, sql: str, parameters: dict[str, object], source: str) -> None:
    con.execute(statement, bind(sql, parameters, source))


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """sql/macros.sql, after cfg.label: its label macros read that table."""
    install_labels(con)
    con.execute(read_sql(SQL_DIR / "macros.sql"))


# Facts month by month kept as views, not tables: each would copy a million rows or more a night
# for readers that ask for a few (a person's months, one month, one subsidy's unpaid months).
INT_VIEWS = frozenset({"coverage_month", "certificate_month", "subsidy_month"})


def materialize_int(con: duckdb.DuckDBPyConnection, parameters: dict[str, object],
                    timings: dict[str, float] | None = None) -> list[str]:
    """The shared facts: sql/int/*.sql, each built after the tables it reads (the layer runner, as for `link`)."""
    return build_layer(con, Layer(schema="int", views=INT_VIEWS), parameters, timings)


PERSON_COLUMNS = ("id_number", "name", "township", "village")


def install_policy_tables(con: duckdb.DuckDBPyConnection, policy: dict) -> None:
    """`cfg.*`: the policy's tables (standards, grades), joined by SQL like any table."""
    con.execute("create schema if not exists cfg")
    for name, rows in policy_tables(policy).items():
        frame = pl.DataFrame(rows, infer_schema_length=None)
        con.register("policy_rows", frame.to_arrow())
        try:
            con.execute(f"create or replace table cfg.{name} as select * from policy_rows")
        finally:
            con.unregister("policy_rows")


FOUND = "found_finding"  # every check's rows before the person columns: one join with link.person for all checks


def run_checks(con: duckdb.DuckDBPyConnection, as_of: dt.date, policy: dict, codes: list[str] | None = None,
               timings: dict[str, float] | None = None) -> dict[str, int]:
    """Build int.*, run the chosen checks (all by default) into chk.finding; return findings per check.

    `timings`, when given, receives seconds per step: `int` (the shared facts), each check code and
    `person_columns` (link.person's columns added to every check's rows at once).
    Case keys are `case_key`, keyed with the deployment secret (storage/secret.py) installed on `con`.
    """
    require_keyed_hash(con)
    timings = {} if timings is None else timings
    started = time.perf_counter()
    unknown = [code for code in codes or [] if code not in BY_CODE]
    if unknown:
        raise KeyError(f"unknown check code(s): {', '.join(unknown)}; known: {', '.join(BY_CODE)}")
    parameters = run_parameters(as_of, policy)
    install_macros(con)
    install_policy_tables(con, policy)
    int_timings: dict[str, float] = {}
    materialize_int(con, parameters, int_timings)
    timings["int"] = time.perf_counter() - started
    timings |= int_timings
    con.execute("create schema if not exists chk")
    con.execute(ddl(FINDING))
    con.execute(f"create or replace temp table {FOUND} as select * from chk.finding limit 0")
    counts = {}
    for check in CATALOGUE:
        if codes and check.code not in codes:
            continue
        started = time.perf_counter()
        path = SQL_DIR / "checks" / f"{check.code}.sql"
        sql = read_sql(path)
        source = str(path.relative_to(SQL_DIR))
        # by name: the person columns a check names itself (about someone with no register person)
        # land in theirs, the others stay null until link.person's are added below
        execute(
            con,
            f"""
            insert into {FOUND} by name
            select *, link_confidence < $identity_review_threshold as needs_confirmation
            from ({sql})
            """,
            sql + " $identity_review_threshold",
            parameters,
            source,
        )
        counts[check.code] = con.execute(f"select count(*) from {FOUND} where check_code = ?", [check.code]).fetchall()[0][0]
        timings[check.code] = time.perf_counter() - started
    started = time.perf_counter()
    columns = ", ".join(
        f"coalesce(person.{name}, found.{name})" if name in PERSON_COLUMNS else f"found.{name}" for name in FINDING.column_names
    )
    con.execute(f"""
        insert into chk.finding
        select {columns}
        from {FOUND} as found
        left join link.person as person
            on found.person_id = person.person_id
    """)
    con.execute(f"drop table {FOUND}")
    timings["person_columns"] = time.perf_counter() - started
    return counts


def known_townships(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The townships of the household register, sorted: the names a campaign's scope may use."""
    return [name for (name,) in con.execute(
        "select distinct township from stg.household_register where township is not null order by township"
    ).fetchall()]


def keep_townships(con: duckdb.DuckDBPyConnection, townships: list[str] | None) -> dict[str, int]:
    """A campaign's scope: drop findings outside `townships` (None keeps all); return findings kept per check."""
    if townships:
        con.execute("delete from chk.finding where township is null or township <> all(?)", [list(townships)])
    return dict(con.execute("select check_code, count(*) from chk.finding group by check_code order by check_code").fetchall())
