"""Load a drop into DuckDB: `raw.<stem>` as read, `stg.<stem>` typed, `stg.quarantine`.

Every row read ends in `stg.<stem>` or, when one of its values cannot be
typed or breaks a bound of the policy's `inputs:` section (an amount beyond
`max_line_amount` or negative, text longer than `max_text_length`, control
characters), in `stg.quarantine` (one line per bad cell, with file, row,
column, value and reason) — never dropped. The typing SQL is generated here
from the declarations; identity normalisation (citizen numbers, names) is
applied to the staged tables afterwards by `matching.normalize`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from hecha.config import load_policy
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.guards import InputPolicy, read_input_policy
from hecha.extracts.read import ExtractFile, Manifest, read_extract_file, read_header
from hecha.extracts.schema import Column, Extract
from hecha.storage.database import sql_literal

DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d")
MONTH_FORMATS = ("%Y-%m", "%Y%m", "%Y/%m", "%Y.%m", "%Y-%m-%d", "%Y%m%d")
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]{1,2})?$"
# C0 controls but tab, line feed and carriage return (a quoted value may span lines), and DEL:
# a NUL or an escape in a name is a damaged export, and breaks every writer downstream.
CONTROL_CHARACTERS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
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


def trimmed(name: str) -> str:
    # stray spaces (ASCII and full-width) around values are export noise, not data
    return f"nullif(trim(replace(\"{name}\", '\u3000', ' ')), '')"


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


def problem_expression(column: Column, inputs: InputPolicy) -> str:
    """SQL: why the value of `column` sends its row to quarantine, NULL when it does not.

    The first reason that applies is given: control characters, then a value
    that cannot be typed, then a typed value outside the policy's bounds.
    """
    value = trimmed(column.name)
    header = column.header
    cases = [(f"regexp_matches(\"{column.name}\", '{CONTROL_CHARACTERS}')", f"{header} 含控制字符（如 NUL），导出文件可能已损坏")]
    if column.kind in REASONS:
        cases.append((f"{value} is not null and ({typed_expression(column)}) is null", REASONS[column.kind]))
    if column.kind == "amount":
        bound = format_amount(inputs.max_line_amount)
        cases.append((f"({typed_expression(column)}) < 0", f"{header} 为负数，应在 0 至 {bound} 元之间"))
        cases.append((
            f"({typed_expression(column)}) > {inputs.max_line_amount}",
            f"{header} 超过单行上限 {bound} 元（inputs.max_line_amount）",
        ))
    if column.kind in TEXT_KINDS:
        key, longest = inputs.text_bound(column)
        cases.append((f"length({value}) > {longest}", f"{header} 超过 {longest} 个字符（inputs.{key}）"))
    return "case " + " ".join(f"when {condition} then {sql_literal(reason)}" for condition, reason in cases) + " end"


def typing_select(extract: Extract, inputs: InputPolicy) -> str:
    """raw.<stem> → one row per raw row, typed values plus a `problem_<col>` reason (or NULL) per column."""
    values = []
    for column in extract.columns:
        expression = typed_expression(column)
        if column.kind == "id_number":
            values += [f"cast(null as varchar) as {column.name}", f"\"{column.name}\" as {column.name}_raw", f"cast(null as varchar) as {column.name}_status"]
        elif column.kind == "name":
            values += [f"cast(null as varchar) as {column.name}", f"\"{column.name}\" as {column.name}_raw"]
        else:
            values.append(f"{expression} as {column.name}")
    problems = [f"{problem_expression(c, inputs)} as problem_{c.name}" for c in extract.columns]
    return f"select source_file, source_row, {', '.join(values + problems)} from raw.{extract.stem}"


def stg_column_names(extract: Extract) -> list[str]:
    return ["source_file", "source_row"] + [name for c in extract.columns for name, _ in c.stg_columns]


def stg_ddl(extract: Extract) -> str:
    """The DuckDB definition of `stg.<stem>`, derived from the declaration."""
    columns = ["source_file varchar", "source_row integer"] + [f"{n} {t}" for c in extract.columns for n, t in c.stg_columns]
    return f"create or replace table stg.{extract.stem} ({', '.join(columns)})"


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


def load_raw(con: duckdb.DuckDBPyConnection, read: ExtractFile) -> None:
    con.register("raw_frame", read.frame.to_arrow())
    try:
        columns = ", ".join(f'"{c.name}"' for c in read.extract.columns)
        con.execute(
            f"create or replace table raw.{read.extract.stem} as "
            f"select {sql_literal(read.path.name)} as source_file, cast(source_row as integer) as source_row, {columns} "
            f"from raw_frame"
        )
    finally:
        con.unregister("raw_frame")
    con.execute("delete from raw.extract_file where source = ?", [read.extract.stem])
    con.execute("insert into raw.extract_file values (?, ?, ?, ?)", [read.extract.stem, read.path.name, read.encoding, read.frame.height])


def stage(con: duckdb.DuckDBPyConnection, extract: Extract, policy: dict | None = None) -> None:
    """Type raw.<stem> into stg.<stem>; rows with a value that cannot be typed or breaks a bound of
    `policy` (None: config/policy.yaml) go to stg.quarantine."""
    stem = extract.stem
    inputs = read_input_policy(policy)
    con.execute(f"create or replace temp table typed_rows as {typing_select(extract, inputs)}")
    problems = ", ".join(f"problem_{c.name}" for c in extract.columns)
    any_problem = f"coalesce({problems}) is not null"
    # the few rows with a problem, beside their values as read
    con.execute(
        f"create or replace temp table problem_rows as select raw.*, {problems} "
        f"from typed_rows inner join raw.{stem} as raw using (source_row) where {any_problem}"
    )
    for column in extract.columns:
        con.execute(
            f"insert into stg.quarantine select {sql_literal(stem)}, source_file, source_row, "
            f"{sql_literal(column.name)}, {sql_literal(column.header)}, \"{column.name}\", problem_{column.name} "
            f"from problem_rows where problem_{column.name} is not null"
        )
    con.execute(stg_ddl(extract))
    names = ", ".join(stg_column_names(extract))
    con.execute(f"insert into stg.{stem} select {names} from typed_rows where not ({any_problem}) order by source_row")
    con.execute("drop table typed_rows")
    con.execute("drop table problem_rows")


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


def load_drop(con: duckdb.DuckDBPyConnection, drop: Path, manifest: Manifest, extracts: tuple[Extract, ...] = EXTRACTS,
              *, policy: dict | None = None) -> list[dict]:
    """Read every extract of `drop` into raw/stg; return each file's counts (read = staged + quarantined).

    Every file is read (and its headers checked) before anything is loaded,
    so a drop with one unreadable file fails before doing any work. The
    bounds on values come from `policy` (None: config/policy.yaml).
    """
    policy = load_policy() if policy is None else policy
    read_input_policy(policy)  # a bad inputs section fails before any file is read
    for extract in extracts:  # a missing file or column is said before any file is read whole
        read_header(drop, extract, manifest)
    files = [read_extract_file(drop, extract, manifest) for extract in extracts]
    create_schemas(con, extracts)
    counts = []
    for read in files:
        load_raw(con, read)
        stage(con, read.extract, policy)
        file_counts = count_file(con, read)
        if file_counts.rows_read != file_counts.rows_staged + file_counts.rows_quarantined:
            raise AssertionError(f"{read.path.name}: rows lost between raw and stg")  # the invariant this module exists for
        counts.append(asdict(file_counts))
    return counts
