"""Build one layer of tables (`link`, `int`) from its SQL files and Python steps, in dependency order.

A layer is a schema whose tables each come from one step: a SELECT in
`sql/<layer>/<table>.sql`, or a Python step — a pure function from frames to
one frame, for what SQL does badly (string similarity over candidate pairs,
EM) — or SQL generated from declarations. A step depends on every table of
the layer its SQL names (`link.exact`); the runner sorts the steps so each is
built after those it reads, binds the named parameters (`$link_threshold`)
each SQL file uses, and keeps every table, so a run's database shows how each
result was reached. Nothing here changes a connection setting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb
import polars as pl

from hecha.storage.tables import Table

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
COMMENT = re.compile(r"--[^\n]*")


@dataclass(frozen=True)
class PythonStep:
    """`table` = `build(**frames, **parameters)`; each frame is the result of its query in `reads`.

    Every query orders its rows by a unique key: a step sees the same frame
    whatever DuckDB's thread count. `parameters` names the run parameters the
    function takes as keyword arguments.
    """

    table: str
    reads: Mapping[str, str]
    build: Callable[..., pl.DataFrame]
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratedStep:
    """`table` from SQL written by code (a SELECT over every extract a declaration lists)."""

    table: str
    sql: str


@dataclass
class Layer:
    schema: str
    python_steps: tuple[PythonStep | GeneratedStep, ...] = ()
    given: dict[str, pl.DataFrame] = field(default_factory=dict)  # tables handed in (e.g. inspectors' decisions)
    # steps kept as views, not tables: unions and projections of other tables that would
    # only copy millions of rows (a reader pays for the columns and rows it uses)
    views: frozenset[str] = frozenset()
    # statements run before the first step (temp macros the layer's SQL calls)
    setup: tuple[str, ...] = ()
    # tables other stages read, declared once (storage/tables.py): built with exactly the declared columns and types
    declared: Mapping[str, Table] = field(default_factory=dict)


def read_sql(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sql_parameters(sql: str) -> list[str]:
    """The named parameters a SELECT uses (a header comment may name one without using it)."""
    return sorted(set(PARAMETER.findall(COMMENT.sub("", sql))))


def bind(sql: str, parameters: Mapping[str, object], source: str) -> dict[str, object]:
    """The parameters `sql` uses; a missing one is an error naming the file."""
    used = sql_parameters(sql)
    missing = [name for name in used if name not in parameters]
    if missing:
        raise KeyError(f"{source}: no value for parameter(s) {', '.join('$' + m for m in missing)}")
    return {name: parameters[name] for name in used}


def references(sql: str, schema: str) -> set[str]:
    return set(re.findall(rf"\b{schema}\.([a-z_][a-z0-9_]*)", COMMENT.sub("", sql)))


def sql_files(schema: str) -> dict[str, Path]:
    return {path.stem: path for path in sorted((SQL_DIR / schema).glob("*.sql"))}


def dependencies(layer: Layer) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each step's SQL (a Python step's: its queries), and the layer's tables each step reads."""
    files = sql_files(layer.schema)
    steps = {step.table: step for step in layer.python_steps}
    named = [step.table for step in layer.python_steps]
    clash = {table for table in named if named.count(table) > 1} | set(files) & set(steps) | set(layer.given) & (set(files) | set(steps))
    if clash:
        raise ValueError(f"{layer.schema}: built twice: {', '.join(sorted(clash))}")
    texts = {stem: read_sql(path) for stem, path in files.items()}
    for step in steps.values():
        texts[step.table] = step.sql if isinstance(step, GeneratedStep) else " ".join(step.reads.values())
    known = set(texts) | set(layer.given)
    graph = {table: (references(text, layer.schema) & known) - {table} for table, text in texts.items()}
    return texts, graph


def build_order(layer: Layer) -> list[str]:
    """The layer's tables in an order where every table is built after those it reads."""
    return list(TopologicalSorter(dependencies(layer)[1]).static_order())


def unchanged_steps(con: duckdb.DuckDBPyConnection, layer: Layer, changed: Collection[str]) -> set[str]:
    """The steps the catalog holds that read none of the `changed` tables (`stg.cremation`), directly or through
    another step, nor a table handed in (rewritten at every build): built again, each would be as it is."""
    texts, graph = dependencies(layer)
    touched = set(layer.given)
    for table in TopologicalSorter(graph).static_order():
        text = COMMENT.sub("", texts.get(table, ""))
        if graph.get(table, set()) & touched or any(re.search(rf"\b{re.escape(name)}\b", text) for name in changed):
            touched.add(table)
    held = {name for (name,) in con.execute(
        "select table_name from duckdb_tables() where schema_name = ? and not temporary "
        "union select view_name from duckdb_views() where schema_name = ? and not temporary", [layer.schema, layer.schema]
    ).fetchall()}
    return (set(texts) - touched) & held


def declared_select(con: duckdb.DuckDBPyConnection, table: Table, sql: str, parameters: Mapping[str, object]) -> str:
    """`sql` projected onto `table`'s declared columns and types; a SELECT whose columns differ is an error."""
    found = [column[0] for column in con.execute(f"select * from ({sql}) limit 0", parameters).description]
    if found != list(table.column_names):
        raise ValueError(f"{table.qualified_name}: the step yields columns {found}, the declaration {list(table.column_names)}")
    columns = ", ".join(f"cast({column.name} as {column.sql_type}) as {column.name}" for column in table.columns)
    return f"select {columns} from ({sql})"


def write_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, declared: Table | None = None) -> None:
    view = f"frame_{table.replace('.', '_')}"
    con.register(view, frame.to_arrow())
    try:
        sql = f"select * from {view}"
        if declared is not None:
            sql = declared_select(con, declared, sql, {})
        con.execute(f"create or replace table {table} as {sql}")
    finally:
        con.unregister(view)


def drop_other(con: duckdb.DuckDBPyConnection, name: str, kind: str) -> None:
    """Drop `name` if a previous build made it the other kind (a view where a table now goes, or back)."""
    schema, table = name.split(".")
    other = "table" if kind == "view" else "view"
    found = con.execute(
        f"select count(*) from duckdb_{other}s() where schema_name = ? and {other}_name = ? and not internal", [schema, table]
    ).fetchall()[0][0]
    if found:
        con.execute(f"drop {other} {name}")


def build_layer(con: duckdb.DuckDBPyConnection, layer: Layer, parameters: Mapping[str, object],
                timings: dict[str, float] | None = None, changed: Collection[str] | None = None) -> list[str]:
    """Create every table of `layer` (replacing what a previous build left); return the tables in build order.

    `changed`: the catalog already holds this layer built from the same
    inputs but for these tables (an event run's copy of the night, one
    extract changed: `stg.cremation`); the steps that read none of them
    (`unchanged_steps`) are left as they are. None: every step is built.
    """
    schema = layer.schema
    keep = set() if changed is None else unchanged_steps(con, layer, changed)
    con.execute(f"create schema if not exists {schema}")
    for statement in layer.setup:
        con.execute(statement)
    for table, frame in layer.given.items():
        write_frame(con, f"{schema}.{table}", frame)
    files = sql_files(schema)
    steps = {step.table: step for step in layer.python_steps}
    frames: dict[str, pl.DataFrame] = {}  # a query several steps read is read once: no table changes once built
    built = []
    for table in build_order(layer):
        if table in layer.given or table in keep:
            continue
        started = time.perf_counter()
        name = f"{schema}.{table}"
        kind = "view" if table in layer.views else "table"
        declared = layer.declared.get(table)
        if table in files or isinstance(steps.get(table), GeneratedStep):
            sql = read_sql(files[table]) if table in files else steps[table].sql
            values = bind(sql, parameters, f"{schema}/{table}.sql")
            if declared is not None:
                sql = declared_select(con, declared, sql, values)
            drop_other(con, name, kind)
            con.execute(f"create or replace {kind} {name} as {sql}", values)
        else:
            step = steps[table]
            for query in step.reads.values():
                if query not in frames:
                    frames[query] = con.sql(query).pl()
            inputs = {argument: frames[query] for argument, query in step.reads.items()}
            values = {key: parameters[key] for key in step.parameters}
            write_frame(con, name, step.build(**inputs, **values), declared)
        built.append(table)
        if timings is not None:
            timings[name] = time.perf_counter() - started
    return built
