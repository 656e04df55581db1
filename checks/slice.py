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
from hecha.storage.database import sql_identifier, sql_literal, use
from hecha.storage.layers import SQL_DIR
from hecha.storage.tables import FINDING, ddl

SLICE_CATALOG = "slice"
# What the checks group rows by, besides the person: a row sharing one of these with the slice joins it.
GROUP_KEYS = ("household_no", "case_no", "poor_household_no")
LINK_COLUMNS = ("person_id", "method", "confidence", "explanation")
# Beyond this share of rows changed (or moved), a night checks everyone: the slice would be most of the county.
MOST_CHANGED = 0.2


def key_columns(extract: Extract) -> list[tuple[str, str]]:
    """(column, kind) for every grouping key and citizen number of `extract`: what joins its rows to others."""
    columns = [(column.name, column.name) for column in extract.columns if column.name in GROUP_KEYS]
    return columns + [(column.name, "id_number") for column in extract.id_number_columns]


def row_key_select(extract: Extract, schema: str, rows: str | None = None) -> str:
    """(source, source_row, kind, value) for every grouping key and citizen number of `extract`'s rows in `schema`
    (of those `rows`, a table of (source, source_row), names)."""
    kept = "" if rows is None else f"semi join (select source_row from {rows} where source = '{extract.stem}') using (source_row) "
    return " union all ".join(
        f"select '{extract.stem}' as source, source_row, '{kind}' as kind, {name} as value "
        f"from {schema}.{sql_identifier(extract.stem)} {kept}where {name} is not null"
        for name, kind in key_columns(extract)
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


def row_number_sql(source: str, row: str) -> str:
    """A row of any extract as one BIGINT: the extract's place in EXTRACTS in the high bits, its row number below."""
    ranks = " ".join(f"when '{extract.stem}' then {index}" for index, extract in enumerate(EXTRACTS))
    return f"((case {source} {ranks} end)::bigint << 32 | {row})"


def graph_key_select(extract: Extract) -> str:
    """(row, key) for every grouping key and citizen number of `extract`'s rows, both as numbers (`row_number_sql`, a hash)."""
    return " union all ".join(
        f"select {row_number_sql(sql_literal(extract.stem), 'source_row')} as row, hash('{kind}', {name}::varchar) as key "
        f"from stg.{sql_identifier(extract.stem)} where {name} is not null"
        for name, kind in key_columns(extract)
    )


PERSON_KEYS = ("select person_id, 'id_number' as kind, id_number as value from link.person where id_number is not null "
               "union all select person_id, 'household_no', household_no from link.person where household_no is not null")


def close_slice(con: duckdb.DuckDBPyConnection, most: int | None = None) -> tuple[int, int]:
    """Grow `slice_person` and `slice_key` until no row joins (2. in the module's list), and make temp `slice_row`,
    the slice's rows; return the rounds taken and the persons reached.

    The closure runs on numbers, not text: each row, key and person is a
    BIGINT (keys and persons hashed), and each round joins only what the
    last round added. Two keys sharing a hash would only join more rows to
    the slice (still closed under every key), never fewer. Once more than
    `most` persons are reached it stops, the slice left unfinished: the
    whole tables will be checked.
    """
    con.execute(f"create or replace temp table graph_row_key as {' union all '.join(graph_key_select(e) for e in EXTRACTS)}")
    con.execute(
        f"create or replace temp table graph_row_person as select distinct {row_number_sql('source', 'source_row')} as row, "
        "hash(person_id) as person from link.person_record where person_id is not null"
    )
    con.execute(f"create or replace temp table graph_person_key as select hash(person_id) as person, "
                f"hash(kind, value::varchar) as key from ({PERSON_KEYS})")
    con.execute("create or replace temp table seen_person as select distinct hash(person_id) as person from slice_person")
    con.execute("create or replace temp table new_person as select * from seen_person")
    con.execute(
        "create or replace temp table seen_key as select distinct key from ("
        "select hash(kind, value::varchar) as key from slice_key "
        "union all select key from graph_person_key semi join seen_person using (person))"
    )
    con.execute("create or replace temp table new_key as select * from seen_key")
    con.execute("create or replace temp table seen_row (row bigint)")
    rounds = 0
    while most is None or count(con, "seen_person") <= most:
        rounds += 1
        con.execute(
            """
            create or replace temp table new_row as
            select row from graph_row_key semi join new_key using (key)
            union
            select row from graph_row_person semi join new_person using (person)
            except
            select row from seen_row
            """
        )
        if not count(con, "new_row"):
            break
        con.execute("insert into seen_row select row from new_row")
        con.execute(
            """
            create or replace temp table new_person as
            select distinct person from graph_row_person semi join new_row using (row)
            except select person from seen_person
            """
        )
        con.execute("insert into seen_person select person from new_person")
        con.execute(
            """
            create or replace temp table new_key as
            select distinct key from (
                select key from graph_row_key semi join new_row using (row)
                union all
                select key from graph_person_key semi join new_person using (person)
            )
            except select key from seen_key
            """
        )
        con.execute("insert into seen_key select key from new_key")
    persons = count(con, "seen_person")
    if most is not None and persons > most:
        return rounds, persons
    stems = "[" + ", ".join(f"'{extract.stem}'" for extract in EXTRACTS) + "]"
    con.execute(
        f"create or replace temp table slice_row as select {stems}[(row >> 32)::integer + 1] as source, "
        "(row & 4294967295)::integer as source_row from seen_row"
    )
    con.execute(
        """
        insert into slice_person
        select distinct person_id from link.person_record semi join slice_row using (source, source_row)
        where person_id is not null
        except select person_id from slice_person
        """
    )
    keys = " union all ".join(row_key_select(extract, "stg", "slice_row") for extract in EXTRACTS)
    con.execute(
        f"""
        insert into slice_key
        select distinct kind, value from (
            select kind, value from ({keys}) as row_key
            union all
            select kind, value from ({PERSON_KEYS}) as person_key semi join slice_person using (person_id)
        )
        except select kind, value from slice_key
        """
    )
    for table in ("graph_row_key", "graph_row_person", "graph_person_key", "seen_person", "new_person", "seen_key",
                  "new_key", "seen_row", "new_row"):
        con.execute(f"drop table {table}")
    return rounds, count(con, "slice_person")


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


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
        differs = " or ".join(f'now."{c}" is distinct from night."{c}"' for c in now if c not in ("source_file", "source_row"))
        # joined on the row number, not hashed on every column: a row present on one side only is a change too
        con.execute(
            f"""
            insert into changed_row
            select '{extract.stem}', source_row
            from raw.{name} as now
            full outer join {night}.raw.{name} as night using (source_row)
            where now.source_row is null or night.source_row is null or {differs}
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
    most = int(policy["incremental"]["max_slice_share"] * count(con, "link.person"))
    rounds, persons = close_slice(con, most)
    timings["slice"] = time.perf_counter() - started
    if persons > most:  # checking everyone costs less: the same findings, from the whole tables
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
