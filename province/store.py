"""What a county run exports to the province's shared store, and how the cross-county stage reads it back.

A county's published run (`<run_dir>/hecha.duckdb`, `<run_dir>/run.json`) is
exported as three Parquet tables and a record, through fsspec, so the store
may be a local folder or any URL fsspec knows (`memory://`, `s3://…`):

    <store>/<county>/paid.parquet       what the county pays, one row per ledger line and person share
    <store>/<county>/event.parquet      the deaths and move-outs it records (register rows, cremation records)
    <store>/<county>/register.parquet   every register row with a valid citizen number
    <store>/<county>/export.json        {"county", "run_id", "as_of", "exported_at", "rows": {table: n}}

The columns of each table are declared below (`PAID`, `EVENT`, `REGISTER`);
the rows come from `sql/province/export_<table>.sql`, run against the run's
database opened read-only. Every table starts with `county` and ends with
`export_id`, the export the row belongs to (`<run_id>/<exported_at>`).
`id_number` is the normalized 18-character number, null unless valid (GB
11643 check, as matching/id_number.py judges it); `pinyin` is the name's
toneless pinyin (matching/names.py), so the province compares names as the
county linker does without spelling millions of names again; `sex` is `M`/`F`.

Written so a reader never sees half an export: the tables are written under
`<county>/.incoming-<token>/`, moved into place one by one, and `export.json`
comes last. A reader (`load_exports`) checks that every row's `export_id` and
each table's row count are those `export.json` names; while a county is being
exported again the two disagree, and the reader waits
(`province.export_wait_seconds`) for the new export to be complete. Reading
views over the files (a local store), it checks again at the end
(`verify_exports`) that nothing changed while it read. What
does not belong here: the checks that read the tables (province/cross.py,
sql/province/cross_*.sql).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import duckdb
import fsspec
import polars as pl
from fsspec.implementations.local import LocalFileSystem

from hecha.matching.id_number import normalize_id_numbers
from hecha.matching.names import name_pinyin
from hecha.storage.database import attach, sql_literal, use
from hecha.storage.files import make_private_dir, restrict_file
from hecha.storage.layers import SQL_DIR, drop_other, read_sql
from hecha.storage.tables import Table, TableColumn

COUNTY_CODE = re.compile(r"\d{6}")
RECORD = "export.json"
INCOMING = ".incoming-"
# Columns the export adds to what its SQL selects: the county, the name's pinyin, the export's id.
ADDED_COLUMNS = frozenset({"county", "pinyin", "export_id"})
SCHEMA = "province"
RUN_CATALOG = "county_run"  # the county run's database, attached read-only while it is exported

COUNTY = TableColumn("county", "varchar", "the county whose export the row is (6-digit division code)")
EXPORT_ID = TableColumn("export_id", "varchar", "the export the row belongs to: `<run_id>/<exported_at>` of its export.json")
ID_NUMBER = TableColumn("id_number", "varchar", "normalized 18-character citizen number; null unless valid")
NAME = TableColumn("name", "varchar", "name, normalized as staged (simplified, one middle dot)")
PINYIN = TableColumn("pinyin", "varchar", "the name's toneless pinyin (matching/names.py `name_pinyin`)")
SEX = TableColumn("sex", "varchar", "`M` / `F`")
BIRTH_DATE = TableColumn("birth_date", "date", "date of birth")

PAID = Table(
    SCHEMA, "paid", "one row per ledger line of the county's window and person it pays for",
    (
        COUNTY,
        TableColumn("person_id", "varchar", "the county's own person id (link.person)"),
        ID_NUMBER, NAME, PINYIN, SEX, BIRTH_DATE,
        TableColumn("township", "varchar", "the person's register township (null: not in the register)"),
        TableColumn("village", "varchar", "the person's register village or community"),
        TableColumn("in_register", "boolean", "whether the county's register holds the person"),
        TableColumn("person_status", "varchar", "the register's 人员状态 (`normal`, `dead`, `moved_out`)"),
        TableColumn("status_date", "date", "the register's 变动日期"),
        TableColumn("death_month", "date", "the death month the county itself knows (register or a linked cremation)"),
        TableColumn("move_out_month", "date", "the move-out month the county itself knows"),
        TableColumn("paid_month", "date", "the month paid for (the 1st)"),
        TableColumn("programme", "varchar", "`dibao`, `tekun`, `living_subsidy`, `care_subsidy`"),
        TableColumn("programme_label", "varchar", "the 项目 as the ledger writes it (低保金 …)"),
        TableColumn("case_no", "varchar", "the 证号 the line pays against"),
        TableColumn("amount", "decimal(18,6)", "the person's share of the line, yuan (低保金: line / covered count)"),
        TableColumn("line_amount", "decimal(12,2)", "the whole line, yuan"),
        TableColumn("covered_count", "bigint", "the members the line is shared between (1 but for 低保金)"),
        TableColumn("link_confidence", "double", "how sure the county's link of the line to the person is, 0 to 1"),
        TableColumn("case_start_month", "date", "when the case began: its roster's start month, else its first ledger month"),
        TableColumn("ledger_row", "integer", "the line's row in the county's payments extract"),
        EXPORT_ID,
    ),
    description="What a county pays (sql/province/export_paid.sql).",
)

EVENT = Table(
    SCHEMA, "event", "one row per register row saying 死亡 or 迁出, and per cremation record, of the county",
    (
        COUNTY,
        TableColumn("source", "varchar", "`household_register` or `cremation`"),
        TableColumn("source_row", "integer", "the row's number in that extract"),
        TableColumn("record_no", "varchar", "the cremation record's 火化编号 (null for a register row)"),
        ID_NUMBER, NAME, PINYIN, SEX,
        TableColumn("birth_date", "date", "the register's date of birth (null for a cremation record)"),
        TableColumn("age_at_death", "integer", "the cremation record's 年龄 (often 虚岁)"),
        TableColumn("event_kind", "varchar", "`death` or `moved_out`"),
        TableColumn("event_date", "date", "the register's 变动日期, or the cremation's 死亡日期"),
        TableColumn("township", "varchar", "the register row's township"),
        TableColumn("village", "varchar", "the register row's village or community"),
        TableColumn("address", "varchar", "the cremation record's 户籍地址, free text"),
        TableColumn("funeral_home", "varchar", "the cremation record's 殡仪馆"),
        TableColumn("event_month", "date", "the month of event_date (the 1st)"),
        EXPORT_ID,
    ),
    description="The deaths and move-outs a county records (sql/province/export_event.sql).",
)

REGISTER = Table(
    SCHEMA, "register", "one row per distinct register record of the county with a valid citizen number",
    (
        COUNTY, ID_NUMBER, NAME, PINYIN, SEX, BIRTH_DATE,
        TableColumn("township", "varchar", "the register row's township"),
        TableColumn("village", "varchar", "the register row's village or community"),
        TableColumn("person_status", "varchar", "the register's 人员状态 (`normal`, `dead`, `moved_out`)"),
        EXPORT_ID,
    ),
    description="Who a county's register holds (sql/province/export_register.sql).",
)

EXPORT_TABLES: tuple[Table, ...] = (PAID, EVENT, REGISTER)

COUNTY_EXPORT = Table(
    SCHEMA, "county_export", "one row per county the cross-county stage read",
    (
        COUNTY,
        TableColumn("run_id", "varchar", "the county run the export came from"),
        TableColumn("as_of", "varchar", "that run's as_of month, YYYY-MM"),
        TableColumn("exported_at", "varchar", "when the export was written (UTC, ISO 8601)"),
        *(TableColumn(f"{table.name}_rows", "bigint", f"rows of its {table.name} table") for table in EXPORT_TABLES),
    ),
    description="The exports a cross-county stage read (province/store.py `load_exports`).",
)


class ExportError(RuntimeError):
    """A run that cannot be exported, or a store that cannot be read; the message is one line."""


# ---------------------------------------------------------------------------------------------- writing


def export_county(run_dir: Path, store: str) -> dict:
    """Write the county run `run_dir`'s export to `<store>/<county>/`; return its export.json.

    `run_dir` is a published run folder (`hecha.duckdb` and a `run.json`
    saying `succeeded`); `store` a local folder or an fsspec URL. The export
    replaces the county's previous one; a reader sees the old or the new.
    The rows stay in DuckDB from the run's database to the Parquet file: only
    the distinct numbers and names visit Python (a ~1M county's ledger shares
    are millions of rows).
    """
    run_dir = Path(run_dir)
    record = read_run_record(run_dir)
    con = duckdb.connect()  # stages each table in memory; the run's database is read through a read-only attachment
    try:
        attach(con, run_dir / "hecha.duckdb", RUN_CATALOG, read_only=True)
        use(con, RUN_CATALOG)

        def stage(table: Table) -> str:
            name = f"memory.main.export_{table.name}"
            con.execute(f"create or replace table {name} as {read_sql(SQL_DIR / 'province' / f'export_{table.name}.sql')}")
            selected = {row[0] for row in con.execute(f"select column_name from (describe {name})").fetchall()}
            expected = set(table.column_names) - ADDED_COLUMNS
            if selected != expected:
                raise ValueError(f"sql/province/export_{table.name}.sql yields {sorted(selected ^ expected)} "
                                 f"unlike the declaration of {table.qualified_name}")
            return name

        return write_export(store, record["county"], record["run_id"], record["as_of"],
                            {table.name: partial(stage, table) for table in EXPORT_TABLES}, con=con)
    finally:
        con.close()


def write_export(store: str, county: str, run_id: str, as_of: str | None,
                 rows: Mapping[str, pl.DataFrame | Callable[[], str]], con: duckdb.DuckDBPyConnection | None = None) -> dict:
    """Write one county's export from its tables' rows (by table name); return its export.json.

    A table's rows are a frame, or a function that stages them in `con` and
    names the relation (called when the table is written: one table at a
    time). Each holds a table's declared columns but `county`, `pinyin` and
    `export_id`, which are added here (a declared column it lacks is null);
    `id_number` is kept only where valid. The tables go to a folder of their
    own first, then replace the county's one by one, export.json last.
    """
    if not COUNTY_CODE.fullmatch(str(county)):
        raise ExportError(f"not a 6-digit county code: {county!r}")
    exported_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    export_id = f"{run_id}/{exported_at}"
    fs, root = fsspec.core.url_to_fs(store)
    folder = f"{root.rstrip('/')}/{county}"
    incoming = f"{folder}/{INCOMING}{secrets.token_hex(8)}"
    make_folder(fs, root)
    make_folder(fs, folder)
    make_folder(fs, incoming)
    counts: dict[str, int] = {}
    own = con is None
    con = duckdb.connect() if own else con
    try:
        if not is_local(fs):
            con.register_filesystem(fs)
        for table in EXPORT_TABLES:
            path = f"{incoming}/{table.name}.parquet"
            given = rows[table.name]
            counts[table.name] = write_table(con, table, given() if callable(given) else given,
                                             duckdb_path(fs, path), county, export_id)
            restrict(fs, path)
    except BaseException:
        fs.rm(incoming, recursive=True)
        raise
    finally:
        if own:
            con.close()
    export = {"county": county, "run_id": run_id, "as_of": as_of, "exported_at": exported_at, "rows": counts}
    with fs.open(f"{incoming}/{RECORD}", "w", encoding="utf-8") as handle:
        handle.write(json.dumps(export, ensure_ascii=False, indent=2) + "\n")
    restrict(fs, f"{incoming}/{RECORD}")
    # the tables first, the record last: until it is moved, a reader finds tables that are not the
    # record's (their export_id or rows differ) and waits
    for table in EXPORT_TABLES:
        move(fs, f"{incoming}/{table.name}.parquet", f"{folder}/{table.name}.parquet")
    move(fs, f"{incoming}/{RECORD}", f"{folder}/{RECORD}")
    fs.rm(incoming, recursive=True)
    return export


def write_table(con: duckdb.DuckDBPyConnection, table: Table, rows: pl.DataFrame | str, path: str, county: str,
                export_id: str) -> int:
    """One table's rows, completed (county, number, pinyin, export id), written as Parquet to `path` (as DuckDB names it).

    `rows`: a frame, or the name of a relation in `con` holding them. The
    number is judged and the name spelled once per distinct value (Python),
    and joined back in DuckDB.
    """
    if isinstance(rows, pl.DataFrame):
        unknown = sorted(set(rows.columns) - set(table.column_names))
        if unknown:
            raise ValueError(f"{table.qualified_name}: undeclared column(s) {', '.join(unknown)}")
        rows = rows.with_columns(pl.lit(None).alias(column) for column in table.column_names
                                 if column not in rows.columns and column not in ADDED_COLUMNS)
        con.register("export_frame", rows.to_arrow())
        source, present = "export_frame", set(rows.columns)
    else:
        source = rows
        present = {row[0] for row in con.execute(f"select column_name from (describe {source})").fetchall()}
    try:
        numbers = con.sql(f"select distinct cast(id_number as varchar) as id_number from {source} "
                              "where id_number is not null").pl()["id_number"] if "id_number" in present else None
        names = con.sql(f"select distinct cast(name as varchar) as name from {source} where name is not null").pl()["name"]
        con.register("export_valid", valid_numbers(numbers).to_arrow() if numbers is not None else
                     pl.DataFrame({"id_number": []}, schema={"id_number": pl.String}).to_arrow())
        con.register("export_pinyin", pl.DataFrame({"name": names, "pinyin": name_pinyin(names)}).to_arrow())

        def value(column: TableColumn) -> str:
            if column.name == "county":
                return sql_literal(county)
            if column.name == "export_id":
                return sql_literal(export_id)
            if column.name == "pinyin":
                return "spelled.pinyin"
            if column.name == "id_number":
                return "valid.id_number"
            return f"source.{column.name}" if column.name in present else "null"

        columns = ", ".join(f"cast({value(column)} as {column.sql_type}) as {column.name}" for column in table.columns)
        number_join = ("left join export_valid as valid on cast(source.id_number as varchar) = valid.id_number"
                       if "id_number" in present else "left join export_valid as valid on false")
        written = con.execute(
            f"copy (select {columns} from {source} as source {number_join} "
            f"left join export_pinyin as spelled on cast(source.name as varchar) = spelled.name) "
            f"to {sql_literal(path)} (format parquet, compression zstd)"
        ).fetchall()  # COPY answers with the rows it wrote
        return int(written[0][0])
    finally:
        for name in ("export_frame", "export_valid", "export_pinyin"):
            with contextlib.suppress(Exception):
                con.unregister(name)


def read_run_record(run_dir: Path) -> dict:
    """The county, run id and as_of of a published run; anything else is an `ExportError` naming the file."""
    path = run_dir / "run.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: no run record; expected a published hecha run folder") from None
    except (OSError, ValueError) as error:
        raise ExportError(f"{path}: cannot be read as a run record ({type(error).__name__})") from None
    if record.get("status") != "succeeded":
        raise ExportError(f"{path}: status {record.get('status')!r}; only a succeeded run is exported")
    parameters = record.get("parameters") or {}
    county = parameters.get("county")
    if not isinstance(county, str) or not COUNTY_CODE.fullmatch(county):
        raise ExportError(f"{path}: parameters.county is {county!r}; expected the 6-digit county code (manifest.yaml county:)")
    if not (run_dir / "hecha.duckdb").is_file():
        raise ExportError(f"{run_dir / 'hecha.duckdb'}: no run database (removed by retention?); export a newer run")
    return {"county": county, "run_id": record.get("run_id") or run_dir.name, "as_of": parameters.get("as_of")}


def valid_numbers(numbers: pl.Series) -> pl.DataFrame:
    """Of distinct texts, those that are valid 18-character numbers (a person outside the register may hold any text)."""
    judged = normalize_id_numbers(numbers)
    return judged.filter(pl.col("id_number_status") == "valid").select(pl.col("id_number_raw").alias("id_number"))


# ---------------------------------------------------------------------------------------------- the store


def is_local(fs) -> bool:
    return isinstance(fs, LocalFileSystem)


def duckdb_path(fs, path: str) -> str:
    """How DuckDB names `path`: a local path as it is, any other through its protocol (the fs registered)."""
    return path if is_local(fs) else fs.unstrip_protocol(path)


def make_folder(fs, folder: str) -> None:
    if is_local(fs):
        make_private_dir(Path(folder))  # the exports hold citizen numbers: owner-only, like a run's folder
    else:
        fs.makedirs(folder, exist_ok=True)


def restrict(fs, path: str) -> None:
    if is_local(fs):
        restrict_file(Path(path))


def move(fs, source: str, target: str) -> None:
    """Replace `target` by `source` (a rename on a local disk; object stores replace an object whole)."""
    fs.mv(source, target)


# ---------------------------------------------------------------------------------------------- reading


def read_record(fs, root: str, county: str) -> dict:
    path = f"{root.rstrip('/')}/{county}/{RECORD}"
    try:
        record = json.loads(fs.cat_file(path).decode("utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: no export of county {county} in the store") from None
    except (OSError, ValueError) as error:
        raise ExportError(f"{path}: cannot be read as an export record ({type(error).__name__})") from None
    if record.get("county") != county or not isinstance(record.get("rows"), dict):
        raise ExportError(f"{path}: not an export record of county {county}")
    return record


def load_exports(con: duckdb.DuckDBPyConnection, store: str, counties: list[str], wait_seconds: float,
                 materialize: bool | None = None) -> list[dict]:
    """`province.paid`, `province.event`, `province.register` and `province.county_export` from the counties' exports.

    The tables are checked against each county's export.json (every row's
    export_id, every table's rows); a county being exported meanwhile shows
    tables of two exports, and the read is repeated until it is whole, for up
    to `wait_seconds`. `materialize`: copy each file once into a table (the
    default for a remote store, read once over the network), or keep views
    over the files (the default for a local one: no copy of tens of millions
    of rows; `verify_exports` then checks at the end that no file changed
    while the stage read it). Returns the export records read.
    """
    counties = sorted(set(counties))
    bad = [county for county in counties if not COUNTY_CODE.fullmatch(str(county))]
    if bad:
        raise ExportError(f"not a 6-digit county code: {bad[0]!r}")
    fs, root = fsspec.core.url_to_fs(store)
    if not is_local(fs):
        con.register_filesystem(fs)
    materialize = not is_local(fs) if materialize is None else materialize
    con.execute(f"create schema if not exists {SCHEMA}")
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        records = [read_record(fs, root, county) for county in counties]
        for table in EXPORT_TABLES:
            read_table(con, fs, root, table, counties, materialize)
        torn = torn_exports(con, records)
        if not torn:
            break
        if time.monotonic() >= deadline:
            raise ExportError(f"{root.rstrip('/')}/{torn[0]}: the export is being replaced and was not complete "
                              f"after {wait_seconds:.0f} s; run the cross-county stage again when it is")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    write_county_exports(con, records)
    return records


def verify_exports(con: duckdb.DuckDBPyConnection, store: str, records: list[dict]) -> None:
    """Refuse a result read from exports that changed since `load_exports` (views read the files at every query).

    A county exported again meanwhile has another export.json, or files of
    another export in place: either way what the stage read may mix two
    exports, and nothing it found is kept.
    """
    fs, root = fsspec.core.url_to_fs(store)
    changed = [r["county"] for r in records if read_record(fs, root, r["county"]) != r] or torn_exports(con, records)
    if changed:
        raise ExportError(f"{root.rstrip('/')}/{changed[0]}: the export changed while the cross-county stage read it; "
                          "run the stage again")


def read_table(con: duckdb.DuckDBPyConnection, fs, root: str, table: Table, counties: list[str], materialize: bool) -> None:
    columns = ", ".join(table.column_names)
    kind = "table" if materialize else "view"
    drop_other(con, table.qualified_name, kind)
    if not counties:
        con.execute(f"create or replace {kind} {table.qualified_name} as "
                    f"select {', '.join(f'cast(null as {c.sql_type}) as {c.name}' for c in table.columns)} limit 0")
        return
    paths = ", ".join(sql_literal(duckdb_path(fs, f"{root.rstrip('/')}/{county}/{table.name}.parquet")) for county in counties)
    con.execute(f"create or replace {kind} {table.qualified_name} as select {columns} from read_parquet([{paths}])")


def torn_exports(con: duckdb.DuckDBPyConnection, records: list[dict]) -> list[str]:
    """The counties whose tables, as read, are not all of the export their export.json names."""
    expected = pl.DataFrame(
        [{"county": r["county"], "export_id": f"{r['run_id']}/{r['exported_at']}", "table_name": table.name,
          "rows": int(r["rows"].get(table.name, -1))} for r in records for table in EXPORT_TABLES],
        schema={"county": pl.String, "export_id": pl.String, "table_name": pl.String, "rows": pl.Int64},
    )
    found = pl.concat([
        con.sql(f"select county, export_id, '{table.name}' as table_name, count(*) as found_rows "
                f"from {table.qualified_name} group by county, export_id").pl().cast({"found_rows": pl.Int64})
        for table in EXPORT_TABLES
    ])
    per_table = found.group_by("county", "table_name").agg(
        pl.col("export_id").n_unique().alias("exports"), pl.col("export_id").first(), pl.col("found_rows").sum()
    )
    compared = expected.join(per_table, on=["county", "table_name"], how="left", suffix="_found")
    torn = compared.filter(
        (pl.col("rows") != pl.col("found_rows").fill_null(0))
        | (pl.col("exports").fill_null(0) > 1)
        | (pl.col("export_id_found").is_not_null() & (pl.col("export_id_found") != pl.col("export_id")))
    )
    return sorted(set(torn["county"].to_list()))


def write_county_exports(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    rows = [
        {"county": r["county"], "run_id": r["run_id"], "as_of": r.get("as_of"), "exported_at": r["exported_at"],
         **{f"{table.name}_rows": int(r["rows"][table.name]) for table in EXPORT_TABLES}}
        for r in records
    ]
    frame = pl.DataFrame(rows, schema={column.name: (pl.Int64 if column.sql_type == "bigint" else pl.String)
                                       for column in COUNTY_EXPORT.columns})
    con.register("county_export_rows", frame.to_arrow())
    try:
        con.execute(f"create or replace table {COUNTY_EXPORT.qualified_name} as "
                    f"select * from county_export_rows order by county")
    finally:
        con.unregister("county_export_rows")
