"""Re-run the checks for the persons a change touches, and keep the night's findings for everyone else.

Every check is about one person, one household or one case: the findings of
a person whose rows, links and household are as they were last night are
last night's. When rows change between nights (an event file of deaths, a
night's changed rows), only the persons they touch need the checks again:

1. **the change**: the rows added, replaced or removed, and every row whose
   link (person, method, confidence, explanation) differs from the night's;
   their persons on both sides, and the persons whose `link.person` row
   differs;
2. **the slice**: closed over what the checks group by — every row sharing
   a household (户号), a case or certificate number (低保证号, 供养证号,
   残疾人证号, a ledger line's 证号), a poverty household (户编号) or a
   citizen number with a row of the slice, and every row of a person in it,
   until nothing more joins;
3. **the checks** run unchanged (sql/int, sql/checks) on a copy of the
   slice's rows in a catalog of their own;
4. **the findings**: the night's, less those about the slice's persons and
   numbers, plus the slice's.

When the slice holds more than the policy's `incremental.max_slice_share` of
the county's persons, the checks run on the whole tables instead: the same
findings, at less cost.

The tests compare the result with a full run on the changed drop, finding
for finding (tests/integration/test_event.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import duckdb

from hecha.checks.catalogue import CATALOGUE
from hecha.checks.runner import install_macros, run_checks
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.schema import Extract
from hecha.storage.database import sql_identifier, use
from hecha.storage.layers import SQL_DIR
from hecha.storage.tables import FINDING, ddl

SLICE_CATALOG = "slice"
# What the checks group rows by, besides the person: a row sharing one of these with the slice joins it.
GROUP_KEYS = ("household_no", "case_no", "poor_household_no")
LINK_COLUMNS = ("person_id", "method", "confidence", "explanation")
# Beyond this share of rows changed (or moved), a night checks everyone: the slice would be most of the county.
MOST_CHANGED = 0.2


def row_key_select(extract: Extract, schema: str) -> str:
    """(source, source_row, kind, value) for every grouping key and citizen number of `extract`'s rows in `schema`."""
    columns = [(column.name, column.name) for column in extract.columns if column.name in GROUP_KEYS]
    columns += [(column.name, "id_number") for column in extract.id_number_columns]
    return " union all ".join(
        f"select '{extract.stem}' as source, source_row, '{kind}' as kind, {name} as value "
        f"from {schema}.{sql_identifier(extract.stem)} where {name} is not null"
        for name, kind in columns
    )


def changed_persons(con: duckdb.DuckDBPyConnection, night: str, changed_rows: str) -> None:
    """temp `slice_person`, `slice_key`: who and what the change touches (1. in the module's list).

    `night` is the attached catalog of the night's database; `changed_rows` a
    SELECT of (source, source_row) for rows added, replaced or removed.
    """
    differs = " or ".join(f"night.{column} is distinct from now.{column}" for column in LINK_COLUMNS)
    con.execute(
        f"""
        create or replace temp table changed_record as
        select source, source_row, night.person_id as night_person, now.person_id as person
        from {night}.link.person_record as night
        full outer join link.person_record as now using (source, source_row, role)
        where {differs}
        union all
        select records.source, records.source_row, null, records.person_id
        from link.person_record as records
        semi join ({changed_rows}) as changed using (source, source_row)
        """
    )
    person_columns = [name for (name,) in con.execute("select column_name from (describe link.person)").fetchall()]
    person_differs = " or ".join(f"night.{column} is distinct from now.{column}" for column in person_columns)
    con.execute(
        f"""
        create or replace temp table slice_person as
        select night_person as person_id from changed_record where night_person is not null
        union
        select person from changed_record where person is not null
        union
        select person_id
        from {night}.link.person as night
        full outer join link.person as now using (person_id)
        where {person_differs}
        """
    )
    keys = " union all ".join(row_key_select(extract, schema) for schema in (f"{night}.stg", "stg") for extract in EXTRACTS)
    con.execute(
        f"""
        create or replace temp table slice_key as
        select distinct kind, value from ({keys}) as row_key
        semi join ({changed_rows}) as changed using (source, source_row)
        """
    )


def close_slice(con: duckdb.DuckDBPyConnection) -> int:
    """Grow `slice_person` and `slice_key` until no row joins (2. in the module's list); return the rounds taken."""
    con.execute(f"create or replace temp table row_key as {' union all '.join(row_key_select(e, 'stg') for e in EXTRACTS)}")
    con.execute(
        "create or replace temp table row_person as "
        "select distinct source, source_row, person_id from link.person_record where person_id is not null"
    )
    rounds = 0
    while True:
        rounds += 1
        before = con.execute("select (select count(*) from slice_person), (select count(*) from slice_key)").fetchall()[0]
        con.execute(
            """
            create or replace temp table slice_row as
            select source, source_row from row_key semi join slice_key using (kind, value)
            union
            select source, source_row from row_person semi join slice_person using (person_id)
            """
        )
        con.execute(
            """
            insert into slice_person
            select distinct person_id from row_person semi join slice_row using (source, source_row)
            except select person_id from slice_person
            """
        )
        con.execute(
            """
            insert into slice_key
            select distinct kind, value from (
                select kind, value from row_key semi join slice_row using (source, source_row)
                union all
                select 'id_number', id_number from link.person semi join slice_person using (person_id) where id_number is not null
                union all
                select 'household_no', household_no from link.person semi join slice_person using (person_id)
                where household_no is not null
            )
            except select kind, value from slice_key
            """
        )
        after = con.execute("select (select count(*) from slice_person), (select count(*) from slice_key)").fetchall()[0]
        if after == before:
            return rounds


def copy_slice(con: duckdb.DuckDBPyConnection) -> None:
    """The slice's rows, links and persons, into the `slice` catalog (in memory) under the names the checks read."""
    con.execute(f"attach ':memory:' as {SLICE_CATALOG}")
    home = con.execute("select current_database()").fetchall()[0][0]
    for schema in ("stg", "link"):
        con.execute(f"create schema {SLICE_CATALOG}.{schema}")
    for extract in EXTRACTS:
        name = sql_identifier(extract.stem)
        con.execute(
            f"create table {SLICE_CATALOG}.stg.{name} as select rows.* from {home}.stg.{name} as rows "
            f"semi join (select source_row from slice_row where source = '{extract.stem}') as kept using (source_row)"
        )
    con.execute(f"create table {SLICE_CATALOG}.stg.vocabulary as select * from {home}.stg.vocabulary")
    for table in ("person_record", "number_repair"):
        con.execute(f"create table {SLICE_CATALOG}.link.{table} as select rows.* from {home}.link.{table} as rows "
                    f"semi join slice_row using (source, source_row)")
    con.execute(f"create table {SLICE_CATALOG}.link.person as select * from {home}.link.person semi join slice_person using (person_id)")


def rules_fingerprint() -> str:
    """sha256 of the code and SQL that turn a drop into findings (extracts, matching, checks, sql, storage, config).

    A night keeps the last run's findings only when this is the same: after an
    upgrade, or a changed rule, the night is a full rebuild.
    """
    import importlib

    folders = [Path(importlib.import_module(f"hecha.{name}").__file__).parent
               for name in ("extracts", "matching", "checks", "storage", "config")] + [SQL_DIR]
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".sql", ".yaml") and "__pycache__" not in path.parts:
                digest.update(f"{folder.name}/{path.relative_to(folder)}".encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def patch_ledger_shares(con: duckdb.DuckDBPyConnection) -> None:
    """`int.person_month_paid` (the outcomes read it after the checks): the slice's lines in place of the night's."""
    if not con.execute("select count(*) from duckdb_tables() where database_name = current_database() "
                       "and schema_name = 'int' and table_name = 'person_month_paid'").fetchall()[0][0]:
        return
    con.execute(
        """
        delete from int.person_month_paid
        where person_id in (select person_id from slice_person)
            or ledger_row in (select source_row from slice_row where source = 'payments')
        """
    )
    con.execute(f"insert into int.person_month_paid select * from {SLICE_CATALOG}.int.person_month_paid")


def carry_night(con: duckdb.DuckDBPyConnection, night: str) -> None:
    """The night's findings and ledger shares, into this run's catalog: what the slice's replace rows of."""
    con.execute("create schema if not exists chk")
    con.execute(ddl(FINDING))
    con.execute(f"insert into chk.finding select * from {night}.chk.finding")
    con.execute("create schema if not exists int")
    con.execute(f"create or replace table int.person_month_paid as select * from {night}.int.person_month_paid")


def changed_source_rows(con: duckdb.DuckDBPyConnection, night: str) -> int | None:
    """temp `changed_row`: each row, in any extract, read differently from the night's (added, changed, removed);
    their count, or None when an extract's columns differ from the night's (then only a full run will do).

    Rows are compared as read (raw), every column but the file's name, at the same row number: a row
    removed from the middle of a file moves every row after it, and each of those is a change.
    """
    con.execute("create or replace temp table changed_row (source varchar, source_row integer)")
    for extract in EXTRACTS:
        name = sql_identifier(extract.stem)
        now = [c for (c,) in con.execute(f"select column_name from (describe raw.{name})").fetchall()]
        then = [c for (c,) in con.execute(f"select column_name from (describe {night}.raw.{name})").fetchall()]
        if now != then:
            return None
        columns = ", ".join(f'"{c}"' for c in now if c != "source_file")
        con.execute(
            f"""
            insert into changed_row
            select distinct '{extract.stem}', source_row from (
                (select {columns} from raw.{name} except all select {columns} from {night}.raw.{name})
                union all
                (select {columns} from {night}.raw.{name} except all select {columns} from raw.{name})
            )
            """
        )
    return con.execute("select count(*) from changed_row").fetchall()[0][0]


def screen_slice(con: duckdb.DuckDBPyConnection, night: str, changed_rows: str, as_of: dt.date, policy: dict,
                 timings: dict[str, float] | None = None) -> dict:
    """Replace `chk.finding` (the night's, copied) with the findings of a full run on the changed tables; figures.

    `night`: the attached catalog of the night's database; `changed_rows`: a
    SELECT of (source, source_row) for the rows that changed since. The
    current catalog holds the changed stg and link tables and the night's chk.
    """
    timings = {} if timings is None else timings
    started = time.perf_counter()
    changed_persons(con, night, changed_rows)
    rounds = close_slice(con)
    timings["slice"] = time.perf_counter() - started
    persons, county = con.execute("select (select count(*) from slice_person), (select count(*) from link.person)").fetchall()[0]
    if persons > policy["incremental"]["max_slice_share"] * county:  # checking everyone costs less: the same findings, from the whole tables
        con.execute("drop table if exists chk.finding")
        counts = run_checks(con, as_of, policy, timings=timings)
        return {"persons": persons, "rows": None, "rounds": rounds, "sliced": False, "night_findings": None,
                "night_findings_kept": 0, "slice_findings": sum(counts.values()), "findings": sum(counts.values()),
                "findings_by_check": counts}
    copy_slice(con)
    home = con.execute("select current_database()").fetchall()[0][0]
    use(con, SLICE_CATALOG)
    try:
        counts = run_checks(con, as_of, policy, timings=timings)
    finally:
        use(con, home)
    started = time.perf_counter()
    night_findings = con.execute("select count(*) from chk.finding").fetchall()[0][0]
    con.execute(
        """
        delete from chk.finding
        where person_id in (select person_id from slice_person)
            or (person_id is null and id_number in (select value from slice_key where kind = 'id_number'))
        """
    )
    kept = con.execute("select count(*) from chk.finding").fetchall()[0][0]
    con.execute(f"insert into chk.finding select * from {SLICE_CATALOG}.chk.finding")
    patch_ledger_shares(con)
    con.execute(f"detach {SLICE_CATALOG}")
    install_macros(con)  # the writers read the run's database with them, as after a full run
    timings["merge"] = time.perf_counter() - started
    figures = con.execute(
        "select (select count(*) from slice_person), (select count(*) from slice_row), (select count(*) from chk.finding)"
    ).fetchall()[0]
    found = dict(con.execute("select check_code, count(*) from chk.finding group by 1").fetchall())
    return {
        "persons": figures[0], "rows": figures[1], "rounds": rounds, "sliced": True, "night_findings": night_findings,
        "night_findings_kept": kept, "slice_findings": sum(counts.values()), "findings": figures[2],
        "findings_by_check": {check.code: found.get(check.code, 0) for check in CATALOGUE},
    }
