"""Screens in the case history: each published screen of a payment batch, and the lines it stopped.

`hecha screen --batch FILE` publishes a screen into `<out>/screens/<screen_id>/`
(its `screen.json` record and `hecha.duckdb`, whose `screen.line` holds a
verdict per batch line). The folder's history (`<out>/audit.duckdb`, see
audit/history.py) keeps, declared in storage/tables.py:

- `audit.screen` — one row per screen: its month, the batch (name, SHA-256),
  the night run it was screened against, when and where it was published,
  its lines and yuan blocked, held and passed, counted from `screen.line`;
- `audit.screen_line` — one row per line it blocked or held: the verdict's
  `case_key` (inspectors' 核查结论 on the 拦截清单 are recorded by it in
  `audit.disposition`, as any workbook's), the reason, 项目, 证号, month,
  amount, township and payee — no names or citizen numbers, which stay in
  the screen's folder.

A screen is recorded when it is published, in the transaction that renames
its work folder into place (`record_screen_in`), as a run is
(flows/run.py `publish_run`): a reader finds a screen published and
recorded, or neither. A kill between the rename and the commit leaves a
published screen the history lacks; the next opening of the history for
writing records it (`record_unrecorded_screens`, called by `open_state`).
Recording a screen again changes nothing.

What a blocked line comes to — money prevented (阻止发放) once its verdict in
force is 属实 or 已整改 — is worked out with the other outcomes
(audit/outcomes.py, sql/outcomes/screen_history.sql).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from hecha.storage.database import connect
from hecha.storage.tables import AUDIT_SCREEN, AUDIT_SCREEN_LINE

SCREENS_FOLDER = "screens"  # <out>/screens/<screen_id>/
SCREEN_DATABASE = "hecha.duckdb"  # as a run's; not screen.duckdb: a catalog named `screen` clashes with the schema
SCREEN_RECORD = "screen.json"


def _published_at(record: dict) -> dt.datetime:
    """When the screen finished, in UTC without its zone, as the history keeps times (now, if the record does not say)."""
    finished = record.get("finished_at")
    moment = dt.datetime.fromisoformat(finished) if finished else dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:  # a naive stamp is UTC already
        return moment
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _batch_month(record: dict) -> dt.date | None:
    """The record's `month` (YYYY-MM) as the 1st of the month; None when it names none."""
    month = record.get("month")
    return dt.date.fromisoformat(f"{month}-01") if month else None


def is_recorded(con: duckdb.DuckDBPyConnection, screen_id: str) -> bool:
    """Whether the history open on `con` has recorded the screen `screen_id`."""
    return bool(con.execute("select count(*) from audit.screen where screen_id = ?", [screen_id]).fetchall()[0][0])


def record_screen_in(con: duckdb.DuckDBPyConnection, *, record: dict, screen_dir: Path, database: Path | None = None) -> None:
    """Add a screen to the history open on `con`: a row in audit.screen, its blocked and held lines in audit.screen_line.

    `con` is the history open for writing (`open_state`); the caller owns the
    transaction (`transaction`), so recording is all or nothing and can share
    it with the folder's rename. `record` is the screen's screen.json;
    `screen_dir` where the screen is published (`<out>/screens/<screen_id>`,
    kept in audit.screen). `database` is the screen's database to read — the
    work folder's, when the screen is recorded before its folder is renamed
    into place (default: `screen_dir/hecha.duckdb`). It is read through a
    connection of its own, read only: whoever wrote it must have closed it.
    The counts and yuan are those of its `screen.line`. A screen already
    recorded is left as it is.
    """
    screen_id = record["screen_id"]
    if is_recorded(con, screen_id):
        return
    screen_dir = Path(screen_dir)
    source = connect(Path(database) if database is not None else screen_dir / SCREEN_DATABASE, read_only=True)
    try:
        counts = source.execute(
            """
            select
                count(*),
                count(*) filter (where verdict = 'block'),
                count(*) filter (where verdict = 'hold'),
                count(*) filter (where verdict = 'pass'),
                coalesce(sum(amount) filter (where verdict = 'block'), 0),
                coalesce(sum(amount) filter (where verdict = 'hold'), 0),
                coalesce(sum(amount) filter (where verdict = 'pass'), 0)
            from screen.line
            """
        ).fetchall()[0]
        columns = ", ".join(name for name in AUDIT_SCREEN_LINE.column_names if name != "screen_id")
        lines = source.sql(
            f"select ? as screen_id, {columns} from screen.line where verdict in ('block', 'hold') order by source_row",
            params=[screen_id],
        ).to_arrow_table()
    finally:
        source.close()
    batch = record.get("batch") or {}
    con.execute(
        f"insert into audit.screen ({', '.join(AUDIT_SCREEN.column_names)}) values ({', '.join('?' * len(AUDIT_SCREEN.columns))})",
        [screen_id, _batch_month(record), record.get("county"), record.get("night_run"), batch.get("name"),
         batch.get("sha256"), _published_at(record), str(screen_dir), *counts],
    )
    con.register("screen_lines", lines)
    try:
        con.execute("insert into audit.screen_line by name select * from screen_lines")
    finally:
        con.unregister("screen_lines")


def record_screen(state: Path, screen_dir: Path) -> None:
    """Record a published screen folder in the history `state`, in one transaction (as `record_run` does a run)."""
    from hecha.audit.history import open_state, transaction  # history repairs screens on opening: imported here

    screen_dir = Path(screen_dir)
    record = json.loads((screen_dir / SCREEN_RECORD).read_text(encoding="utf-8"))
    with open_state(state) as con, transaction(con):
        record_screen_in(con, record=record, screen_dir=screen_dir)


def record_unrecorded_screens(con: duckdb.DuckDBPyConnection, out: Path) -> list[str]:
    """Record the published screens of `out/screens/` the history lacks (a kill between the rename and the commit).

    As `record_unrecorded_runs` does for runs, oldest first; a folder whose
    record or database cannot be read is left alone (it is no published
    screen). Returns the screen ids recorded.
    """
    from hecha.audit.history import transaction

    folder = Path(out) / SCREENS_FOLDER
    if not folder.is_dir():
        return []
    recorded = {screen_id for (screen_id,) in con.execute("select screen_id from audit.screen").fetchall()}
    repaired = []
    for screen_json in sorted(folder.glob(f"*/{SCREEN_RECORD}")):
        screen_dir = screen_json.parent
        if screen_dir.name in recorded or screen_dir.name.startswith(".") or not (screen_dir / SCREEN_DATABASE).exists():
            continue
        try:
            record = json.loads(screen_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("status") != "succeeded" or record.get("screen_id") != screen_dir.name:
            continue
        try:
            with transaction(con):
                record_screen_in(con, record=record, screen_dir=screen_dir)
        except duckdb.Error:  # not a screen database this version can read: nothing recorded of it
            continue
        repaired.append(screen_dir.name)
    return repaired
