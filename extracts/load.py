"""Load a drop into DuckDB: `raw.<stem>` as read, `stg.<stem>` typed, `stg.quarantine`.

Every row read ends in `stg.<stem>` or, when one of its values cannot be
typed or breaks a bound of the policy's `inputs:` section (an amount beyond
`max_line_amount` or negative, text longer than `max_text_length`, control
characters), in `stg.quarantine` (one line per bad cell, with file, row,
column, value and reason) — never dropped. The typing SQL is generated here
from the declarations; citizen numbers and names are normalized in the same
statement, through the maps `matching.normalize` builds from the extract's
distinct raw values, so each stg table is written once.

Each value is typed once: every row is typed into stg.<stem>, the reasons
are then read off the typed values beside the values as read, and the few
rows that have one are moved from stg.<stem> to stg.quarantine. Typing
reads raw.<stem> rather than the frame it was loaded from: DuckDB hands on a
stored column's repeated values as a dictionary and computes a function of
it once per distinct value of a block (a township, a month, an amount
repeat a lot), where from the frame it computes it for every row.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from hecha.config import load_policy
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.guards import InputPolicy, read_input_policy
from hecha.extracts.read import ExtractFile, Manifest, read_extract_file, read_header
from hecha.extracts.schema import Column, Extract
from hecha.matching.normalize import id_number_map, name_map
from hecha.storage.database import sql_literal

DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d")
MONTH_FORMATS = ("%Y-%m", "%Y%m", "%Y/%m", "%Y.%m", "%Y-%m-%d", "%Y%m%d")
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
# C0 controls but tab, line feed and carriage return (a quoted value may span lines), and DEL:
# a NUL or an escape in a name is a damaged export, and breaks every writer downstream.
CONTROL_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
# The same characters one by one, for polars to look for without a regular expression.
CONTROL_CHARACTER_LIST = [chr(code) for code in range(0x80) if re.fullmatch(CONTROL_CHARACTERS, chr(code))]
# Kinds kept as text in stg (a code outside its vocabulary too): their length is bounded by the policy.
TEXT_KINDS = ("text", "name", "id_number", "code")

QUARANTINE_DDL = """
create table if not exists stg.quarantine (
    source varchar,
    source_file varchar,
    source_row integer,
    column_name varchar,
    header varchar,
    value varchar,
    reason varchar
)
"""

# Which file each extract was read from, even when it holds no row (the checks on a whole drop name it).
EXTRACT_FILE_DDL = """
create table if not exists raw.extract_file (
    source varchar,
    source_file varchar,
    encoding varchar,
    rows_read integer
)
"""


@dataclass
class FileCounts:
    """What happened to one file's rows: read = staged + quarantined."""

    source: str
    file: str
    encoding: str | None
    rows_read: int
    rows_staged: int
    rows_quarantined: int
    values_quarantined: int
    ignored_headers: list[str]
    absent_columns: list[str]


def format_list(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(sql_literal(f) for f in formats) + "]"


def as_read(name: str) -> str:
    """The raw text of column `name`, in SQL over `raw.<stem> as raw`."""
    return f'raw."{name}"'


def trimmed(name: str) -> str:
    # stray spaces (ASCII and full-width) around values are export noise, not data
    return f"nullif(trim(replace({as_read(name)}, '\u3000', ' ')), '')"


def typed_expression(column: Column) -> str:
    """SQL turning the raw text of `column` into its stg value (NULL when it cannot be typed)."""
    value = trimmed(column.name)
    if column.kind in ("text", "name", "id_number"):
        return value
    if column.kind in ("code", "flag", "grade"):
        cases = " ".join(f"when {sql_literal(k)} then {sql_value(v)}" for k, v in column.value_map.items())
        otherwise = value if column.kind == "code" else "null"  # unknown codes stay visible to validation
        return f"case {value} {cases} else {otherwise} end"
    if column.kind == "date":
        return f"cast(try_strptime({value}, {format_list(DATE_FORMATS)}) as date)"
    if column.kind == "month":
        return f"cast(date_trunc('month', try_strptime({value}, {format_list(MONTH_FORMATS)})) as date)"
    if column.kind == "amount":
        cleaned = f"replace({value}, ',', '')"
        return f"case when regexp_full_match({cleaned}, '{AMOUNT_PATTERN}') then try_cast({cleaned} as decimal(12,2)) end"
    if column.kind == "integer":
        return f"try_cast({value} as integer)"
    raise ValueError(f"no typing for kind {column.kind}")


def sql_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return sql_literal(str(value))


REASONS = {
    "flag": "不是“是/否”",
    "grade": "不是“一级…四级”",
    "date": "不是日期（YYYY-MM-DD 或 YYYYMMDD）",
    "month": "不是年月（YYYY-MM 或 YYYYMM）",
    "amount": "不是金额（元，最多两位小数）",
    "integer": "不是整数",
}


def format_amount(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def typed_value(name: str) -> str:
    """The stg value of column `name`, in SQL over `stg.<stem> as typed` (beside `raw`, row by row)."""
    return f'typed."{name}"'


def problem_expression(column: Column, inputs: InputPolicy, *, may_hold_control_characters: bool = True,
                       may_be_too_long: bool = True) -> str:
    """SQL: why the value of `column` sends its row to quarantine, NULL when it does not.

    The first reason that applies is given: control characters, then a value
    that cannot be typed, then a typed value outside the policy's bounds.
    Values are tested for control characters unless the column is known to
    hold none, and for their length unless it is known to hold none too long.
    The value as read is `raw."<col>"`, the value typed (as
    `typed_expression` gives it) `typed."<col>"`.
    """
    value = trimmed(column.name)
    header = column.header
    typed = typed_value(column.name)
    cases = []
    if may_hold_control_characters:
        cases.append((f"regexp_matches({as_read(column.name)}, '{CONTROL_CHARACTERS}')", f"{header} 含控制字符（如 NUL），导出文件可能已损坏"))
    if column.kind in REASONS:
        # nearly every value is typed: the typed value is tested first, so the text is trimmed only for the few that are not
        cases.append((f"{typed} is null and {value} is not null", REASONS[column.kind]))
    if column.kind == "amount":
        bound = format_amount(inputs.max_line_amount)
        cases.append((f"{typed} < 0", f"{header} 为负数，应在 0 至 {bound} 元之间"))
        cases.append((f"{typed} > {inputs.max_line_amount}", f"{header} 超过单行上限 {bound} 元（inputs.max_line_amount）"))
    if column.kind in TEXT_KINDS and may_be_too_long:
        key, longest = inputs.text_bound(column)
        # trimming only shortens a value: the cheap test on the value as read spares trimming every value
        too_long = f"length({as_read(column.name)}) > {longest} and length({value}) > {longest}"
        cases.append((too_long, f"{header} 超过 {longest} 个字符（inputs.{key}）"))
    if not cases:
        return "cast(null as varchar)"
    return "case " + " ".join(f"when {condition} then {sql_literal(reason)}" for condition, reason in cases) + " end"


def problem_select(extract: Extract, inputs: InputPolicy, without_control_characters: Collection[str] = (),
                   within_text_bounds: Collection[str] = ()) -> str:
    """The rows with a value that sends them to quarantine: the values as read plus a `problem_<col>` reason (or NULL)
    per column, in file order, and `staged_row`, the source_row of the stg row they were judged beside.

    The values as read come from raw.<stem>, the typed ones from stg.<stem>, which holds every row of the file
    typed, in the same order: the two are paired by position. A row whose `staged_row` is not its own source_row
    is returned too, so that rows staged out of order are seen (`stage` refuses them).
    `without_control_characters`: columns known to hold none, whose values need not be tested for them;
    `within_text_bounds`: columns known to hold no value longer than the policy allows, likewise.
    """
    reasons = {
        c.name: problem_expression(c, inputs, may_hold_control_characters=c.name not in without_control_characters,
                                   may_be_too_long=c.name not in within_text_bounds)
        for c in extract.columns
    }
    problems = ", ".join(f"{reason} as problem_{name}" for name, reason in reasons.items())
    read = ", ".join(as_read(c.name) for c in extract.columns)
    any_problem = f"coalesce({', '.join(f'problem_{c.name}' for c in extract.columns)}) is not null"
    return (
        f"with judged as (select raw.source_file, raw.source_row, {read}, {problems}, typed.source_row as staged_row "
        f"from raw.{extract.stem} as raw positional join stg.{extract.stem} as typed) "
        f"select * from judged where {any_problem} or source_row is distinct from staged_row order by source_row"
    )


def staging_select(extract: Extract) -> str:
    """raw.<stem> → stg.<stem>, every row, in file order.

    Citizen numbers and names are looked up in `id_number_map` and `name_map`
    (raw value → normalized, see `matching.normalize`): a number that is
    absent from the file (NULL) is `blank`.
    """
    values, joins = [], []
    for column in extract.columns:
        name, lookup = column.name, f"{column.name}_map"
        if column.kind == "id_number":
            joins.append(f"left join id_number_map as {lookup} on {as_read(name)} = {lookup}.raw")
            values += [f"{lookup}.id_number as {name}", f"{as_read(name)} as {name}_raw",
                       f"coalesce({lookup}.id_number_status, 'blank') as {name}_status"]
        elif column.kind == "name":
            joins.append(f"left join name_map as {lookup} on {as_read(name)} = {lookup}.raw")
            values += [f"{lookup}.normalized as {name}", f"{as_read(name)} as {name}_raw"]
        else:
            values.append(f"{typed_expression(column)} as {name}")
    return (
        f"select raw.source_file, raw.source_row, {', '.join(values)} from raw.{extract.stem} as raw {' '.join(joins)} "
        f"order by raw.source_row"
    )


def stg_columns(extract: Extract) -> list[tuple[str, str]]:
    """`stg.<stem>`'s columns and their types, derived from the declaration."""
    return [("source_file", "varchar"), ("source_row", "integer")] + [column for c in extract.columns for column in c.stg_columns]


def stg_column_names(extract: Extract) -> list[str]:
    return [name for name, _ in stg_columns(extract)]


def stg_ddl(extract: Extract) -> str:
    """The DuckDB definition of `stg.<stem>`."""
    return f"create or replace table stg.{extract.stem} ({', '.join(f'{n} {t}' for n, t in stg_columns(extract))})"


def create_schemas(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS) -> None:
    for schema in ("raw", "stg"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(QUARANTINE_DDL)
    con.execute(EXTRACT_FILE_DDL)
    write_vocabulary(con, extracts)


def write_vocabulary(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...]) -> None:
    """`stg.vocabulary`: code → Chinese label, so SQL that writes evidence text needs no Chinese literals.

    Code columns give their vocabularies (`active` → 在保), grade columns their grades (`1` → 一级).
    """
    rows = {
        (column.name, str(code)): label
        for extract in extracts
        for column in extract.columns_of_kind("code", "grade")
        for label, code in reversed(column.value_map.items())  # the first label declared wins
    }
    con.execute("create or replace table stg.vocabulary (column_name varchar, code varchar, label varchar)")
    con.executemany("insert into stg.vocabulary values (?, ?, ?)", [[c, k, v] for (c, k), v in sorted(rows.items())])


def raw_frame(read: ExtractFile) -> pl.DataFrame:
    """raw.<stem> as a frame: the file name, source_row and the declared columns as read."""
    return read.frame.select(
        pl.lit(read.path.name, dtype=pl.String).alias("source_file"),
        pl.col("source_row").cast(pl.Int32),
        *[pl.col(c.name) for c in read.extract.columns],
    )


# Rows per Arrow batch handed to DuckDB: it scans a registered table a batch per thread, so a frame
# in one piece would be read by one thread alone. DuckDB's row group size.
BATCH_ROWS = 122_880


def as_arrow(frame: pl.DataFrame) -> pa.Table:
    """`frame` as Arrow in batches of BATCH_ROWS, for DuckDB to scan in parallel (in order all the same).

    Text goes as Arrow string views, the form polars holds it in: handed over
    as it is, where plain Arrow strings would be a copy of every value.
    """
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), schema=table.schema)


def load_raw(con: duckdb.DuckDBPyConnection, read: ExtractFile) -> None:
    con.register("raw_frame", as_arrow(raw_frame(read)))
    try:
        columns = ", ".join(f'"{c.name}"' for c in read.extract.columns)
        con.execute(
            f"create or replace table raw.{read.extract.stem} as select source_file, source_row, {columns} from raw_frame"
        )
    finally:
        con.unregister("raw_frame")
    con.execute("delete from raw.extract_file where source = ?", [read.extract.stem])
    con.execute("insert into raw.extract_file values (?, ?, ?, ?)", [read.extract.stem, read.path.name, read.encoding, read.frame.height])


def stage(con: duckdb.DuckDBPyConnection, extract: Extract, policy: dict | None = None, *,
          without_control_characters: Collection[str] = (), within_text_bounds: Collection[str] = ()) -> None:
    """Type raw.<stem> into stg.<stem>, citizen numbers and names normalized; rows with a value that cannot
    be typed or breaks a bound of `policy` (None: config/policy.yaml) go to stg.quarantine instead.

    `without_control_characters` names the columns known to hold no control character (see
    `columns_without_control_characters`); the values of every other column are tested for them.
    `within_text_bounds` names the text columns known to hold no value beyond the policy's bound (see
    `columns_within_text_bounds`); the values of every other text column are measured.
    """
    stem = extract.stem
    inputs = read_input_policy(policy)
    con.execute(stg_ddl(extract))
    with identity_maps(con, extract):
        # every row typed once, in file order; the few with a problem are moved out below
        con.execute(f"insert into stg.{stem} {staging_select(extract)}")
    con.execute(
        f"create or replace temp table problem_rows as "
        f"{problem_select(extract, inputs, without_control_characters, within_text_bounds)}"
    )
    unordered = con.execute("select count(*) from problem_rows where source_row is distinct from staged_row").fetchall()[0][0]
    if unordered:
        raise AssertionError(f"stg.{stem}: {unordered} rows staged out of file order")
    for column in extract.columns:
        con.execute(
            f"insert into stg.quarantine select {sql_literal(stem)}, source_file, source_row, "
            f"{sql_literal(column.name)}, {sql_literal(column.header)}, \"{column.name}\", problem_{column.name} "
            f"from problem_rows where problem_{column.name} is not null"
        )
    if con.execute("select count(*) from problem_rows").fetchall()[0][0]:
        con.execute(f"delete from stg.{stem} where source_row in (select source_row from problem_rows)")
    con.execute("drop table problem_rows")


@contextmanager
def identity_maps(con: duckdb.DuckDBPyConnection, extract: Extract) -> Iterator[None]:
    """`id_number_map` and `name_map` over the distinct raw values of the extract's citizen-number and name columns."""
    maps = {"id_number_map": id_number_map(raw_values(con, extract, "id_number")),
            "name_map": name_map(raw_values(con, extract, "name"))}
    for view, frame in maps.items():
        con.register(view, frame.to_arrow())
    try:
        yield
    finally:
        for view in maps:
            con.unregister(view)


def raw_values(con: duckdb.DuckDBPyConnection, extract: Extract, kind: str) -> pl.Series:
    """The distinct non-null values as read of the extract's columns of `kind` (empty when it has none)."""
    selects = [f"select {as_read(c.name)} as value from raw.{extract.stem} as raw" for c in extract.columns_of_kind(kind)]
    if not selects:
        return pl.Series("value", [], dtype=pl.String)
    return con.sql(f"select distinct value from ({' union all '.join(selects)}) where value is not null").pl()["value"]


def columns_without_control_characters(read: ExtractFile) -> list[str]:
    """The file's columns in which no value holds a control character.

    Found in one vectorised pass over the text as read (polars looks for the
    characters themselves in a tenth of the time DuckDB's regular expression
    takes), so staging tests value by value only the columns that hold one:
    nearly always none.
    """
    names = [column.name for column in read.extract.columns]
    holding = read.frame.select(pl.col(names).str.contains_any(CONTROL_CHARACTER_LIST).any()).row(0)
    return [name for name, holds in zip(names, holding) if not holds]


def columns_within_text_bounds(read: ExtractFile, inputs: InputPolicy) -> list[str]:
    """The file's text columns in which no value as read is longer than the policy allows.

    Measured in bytes, which polars knows without reading the text: a value
    has at least as many bytes as characters, so a column whose longest value
    has no more bytes than the bound allows characters holds none too long,
    and staging measures value by value only the others.
    """
    columns = read.extract.columns_of_kind(*TEXT_KINDS)
    if not columns or read.frame.height == 0:
        return [column.name for column in columns]
    longest = read.frame.select(pl.col(column.name).str.len_bytes().max() for column in columns).row(0)
    return [
        column.name for column, most in zip(columns, longest) if most is None or most <= inputs.text_bound(column)[1]
    ]


def count_file(con: duckdb.DuckDBPyConnection, read: ExtractFile) -> FileCounts:
    stem = read.extract.stem
    staged = con.execute(f"select count(*) from stg.{stem}").fetchall()[0][0]
    rows_q, values_q = con.execute(
        "select count(distinct source_row), count(*) from stg.quarantine where source = ?", [stem]
    ).fetchall()[0]
    return FileCounts(
        source=stem,
        file=read.path.name,
        encoding=read.encoding,
        rows_read=read.frame.height,
        rows_staged=staged,
        rows_quarantined=rows_q,
        values_quarantined=values_q,
        ignored_headers=read.ignored_headers,
        absent_columns=read.absent_columns,
    )


def read_ahead(drop: Path, extracts: tuple[Extract, ...], manifest: Manifest) -> Iterator[ExtractFile]:
    """The drop's files read in order, each one read in a second thread while the caller loads the one before.

    Parsing a file (polars, the workbook's XML) and typing the one before it
    (DuckDB) then share the machine's cores; a file that cannot be read
    raises when its turn comes, as it would read in order.
    """
    if not extracts:
        return
    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(read_extract_file, drop, extracts[0], manifest)
        for following in extracts[1:]:
            read, upcoming = upcoming.result(), reader.submit(read_extract_file, drop, following, manifest)
            yield read
        yield upcoming.result()


def load_drop(con: duckdb.DuckDBPyConnection, drop: Path, manifest: Manifest, extracts: tuple[Extract, ...] = EXTRACTS,
              *, policy: dict | None = None) -> list[dict]:
    """Read every extract of `drop` into raw/stg; return each file's counts (read = staged + quarantined).

    Every file's header is checked before any file is read whole, so a drop
    missing a file or a column fails before doing any work; then each file
    is read into raw and typed into stg in turn, the next one read while
    this one is typed (so two files' rows at most are held in memory). The
    bounds on values come from `policy` (None: config/policy.yaml).
    """
    policy = load_policy() if policy is None else policy
    inputs = read_input_policy(policy)  # a bad inputs section fails before any file is read
    for extract in extracts:  # a missing file or column is said before any file is read whole
        read_header(drop, extract, manifest)
    create_schemas(con, extracts)
    counts = []
    for read in read_ahead(drop, extracts, manifest):
        extract = read.extract
        load_raw(con, read)
        stage(con, extract, policy, without_control_characters=columns_without_control_characters(read),
              within_text_bounds=columns_within_text_bounds(read, inputs))
        file_counts = count_file(con, read)
        if file_counts.rows_read != file_counts.rows_staged + file_counts.rows_quarantined:
            raise AssertionError(f"{read.path.name}: rows lost between raw and stg")  # the invariant this module exists for
        counts.append(asdict(file_counts))
    return counts
