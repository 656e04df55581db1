"""Opening and attaching DuckDB files: one place that quotes, waits for locks and says why it failed.

Paths and names reach SQL only through `sql_literal` and `sql_identifier`:
a campaign called `q' as h0; copy …` or an out folder with an apostrophe is
a path like any other, never SQL. Every other statement passes values as
parameters (`?`, `$name`).

DuckDB locks a database file for one writing process at a time (readers in
other processes are refused too while it is open for writing). A feedback
import and a nightly run can meet on `audit.duckdb`: whoever comes second
waits up to `lock_timeout()` seconds, then gets one `DatabaseBusy` line
naming the file and, where DuckDB says it, the holder's PID.
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

LOCK_TIMEOUT_ENV = "HECHA_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 120.0  # seconds: a feedback import takes seconds, a record step well under a minute
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HOLDER_PID = re.compile(r"PID (\d+)")


class DatabaseBusy(RuntimeError):
    """A database file another process holds; the message is one line for the operator."""


def sql_literal(text: object) -> str:
    """A SQL string literal for `text` (a path, a name): quotes doubled; NUL refused."""
    value = str(text)
    if "\x00" in value:
        raise ValueError("a path or name with a NUL character cannot be used")
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A catalog, schema or table name: plain identifiers only (they come from code, not from users)."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def lock_timeout() -> float:
    """Seconds to wait for a locked database: `HECHA_LOCK_TIMEOUT`, else the default."""
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT)))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def is_lock_error(error: BaseException) -> bool:
    text = str(error)
    return "Could not set lock" in text or "Conflicting lock" in text


def _busy(path: Path, waited: float, error: BaseException) -> DatabaseBusy:
    holder = HOLDER_PID.search(str(error))
    who = f"another process (PID {holder.group(1)})" if holder else "another process"
    return DatabaseBusy(f"{path} is in use by {who}; waited {waited:.0f} s — try again when it has finished")


def with_lock_wait(path: Path, action, timeout: float | None = None):
    """Call `action()` (which opens `path`), retrying while the file is locked, up to `timeout` seconds."""
    timeout = lock_timeout() if timeout is None else timeout
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            return action()
        except (duckdb.IOException, duckdb.Error) as error:
            if not is_lock_error(error):
                raise
            waited = time.monotonic() - started
            if waited >= timeout:
                raise _busy(path, waited, error) from None
            time.sleep(min(delay, max(0.0, timeout - waited)))
            delay = min(delay * 2, 1.0)


def connect(path: Path, *, read_only: bool = False, timeout: float | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the database file `path`, waiting while another process holds it."""
    path = Path(path)
    return with_lock_wait(path, lambda: duckdb.connect(str(path), read_only=read_only), timeout)


def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, *, read_only: bool = False,
           timeout: float | None = None) -> None:
    """ATTACH the database file `path` as `alias`, waiting while another process holds it."""
    statement = f"attach {sql_literal(Path(path))} as {sql_identifier(alias)}{' (read_only)' if read_only else ''}"
    with_lock_wait(Path(path), lambda: con.execute(statement), timeout)


@contextmanager
def attached(con: duckdb.DuckDBPyConnection, path: Path, alias: str, *, read_only: bool = False,
             timeout: float | None = None):
    """`path` attached as `alias` for the block, detached after (attach and detach lie outside any transaction)."""
    attach(con, path, alias, read_only=read_only, timeout=timeout)
    try:
        yield alias
    finally:
        con.execute(f"detach {sql_identifier(alias)}")


def use(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    con.execute(f"use {sql_identifier(catalog)}")


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Column names of schema.table in the connection's own database ([] when it does not exist)."""
    return [
        name
        for (name,) in con.execute(
            """
            select column_name
            from information_schema.columns
            where table_catalog = current_database() and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
    ]


def records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """The rows `sql` returns, each a dict by column name."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]
