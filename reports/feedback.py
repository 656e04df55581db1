"""Inspectors' feedback: read a filled-in workbook and record what they found.

`import_feedback(FILE.xlsx, out)` reads every sheet with the columns 案件编号
and 核查结论 (the check sheets and 待确认), and the identity links on 待确认
(关联编号, 身份确认). Rows are found by their keys, never by position, so a
workbook re-saved by Excel or WPS, sorted or filtered, reads the same. The
whole workbook is validated first — a workbook from another county, an
unknown run, an unknown 案件编号, an illegal 核查结论 — and every problem is
reported with its sheet and row; nothing is recorded unless all is well.

Each disposition is recorded in `<out>/audit.duckdb` with who, when, which
run and the hash of the evidence the inspector saw, so a later run can tell
whether the evidence has changed since (see reports/history.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl

from reports.history import STATE, open_state

CONCLUSIONS = ("属实", "不属实", "已整改")
LINK_DECISIONS = {"是同一人": "same", "不是同一人": "different"}
CASE_KEY_HEADER = "案件编号"
CONCLUSION_HEADER = "核查结论"
NOTE_HEADER = "核查说明"
LINK_KEY_HEADER = "关联编号"
LINK_DECISION_HEADER = "身份确认"
META_SHEET = "_meta"


class FeedbackError(ValueError):
    """A workbook that cannot be recorded; the message lists every problem with its sheet and row."""


@dataclass
class FeedbackResult:
    file: str
    run_id: str
    township: str
    dispositions: dict[str, int] = field(default_factory=dict)  # conclusion → rows recorded
    link_decisions: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0  # rows already recorded with the same conclusion and note


@dataclass
class _Row:
    sheet: str
    row: int
    key: str
    value: str
    note: str | None = None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_workbook(path: Path) -> tuple[dict[str, str], list[_Row], list[_Row], list[str]]:
    """(meta, case rows, link rows, problems) as the workbook holds them; meta["author"] is its last author."""
    problems: list[str] = []
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as error:  # not a workbook at all
        raise FeedbackError(f"{path.name}: not a readable .xlsx workbook ({error})") from error
    meta: dict[str, str] = {"author": _text(book.properties.lastModifiedBy)}
    if META_SHEET in book.sheetnames:
        for label, value, *_ in book[META_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
            if label:
                meta[_text(label)] = _text(value)
    else:
        problems.append(f"{path.name}: no {META_SHEET} sheet — not a workbook hecha wrote")
    cases: list[_Row] = []
    links: list[_Row] = []
    for sheet in book.worksheets:
        if sheet.title == META_SHEET:
            continue
        header_row, columns = _header(sheet)
        if header_row is None:
            continue
        for number, values in enumerate(sheet.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
            cells = {name: _text(values[index]) if index < len(values) else "" for name, index in columns.items()}
            if CASE_KEY_HEADER in columns and cells.get(CONCLUSION_HEADER):
                cases.append(_Row(sheet.title, number, cells[CASE_KEY_HEADER], cells[CONCLUSION_HEADER], cells.get(NOTE_HEADER) or None))
            if LINK_KEY_HEADER in columns and cells.get(LINK_DECISION_HEADER):
                links.append(_Row(sheet.title, number, cells[LINK_KEY_HEADER], cells[LINK_DECISION_HEADER], cells.get(NOTE_HEADER) or None))
    return meta, cases, links, problems


def _header(sheet) -> tuple[int | None, dict[str, int]]:
    """The first row (of the first five) naming a key column, and its columns by header."""
    for number, values in enumerate(sheet.iter_rows(min_row=1, max_row=5, values_only=True), start=1):
        columns = {_text(value): index for index, value in enumerate(values) if _text(value)}
        if (CASE_KEY_HEADER in columns and CONCLUSION_HEADER in columns) or (LINK_KEY_HEADER in columns and LINK_DECISION_HEADER in columns):
            return number, columns
    return None, {}


def import_feedback(path: Path, out: Path, *, inspector: str | None = None) -> FeedbackResult:
    """Validate a filled-in workbook and record its dispositions and link decisions in `<out>/audit.duckdb`."""
    path, out = Path(path), Path(out)
    meta, cases, links, problems = read_workbook(path)
    run_id = meta.get("run_id", "")
    state = out / STATE
    if not state.exists():
        raise FeedbackError(f"{path.name}: {out} has no case history ({STATE}); import into the folder the run published to")
    with open_state(state) as con:
        run = con.execute("select run_dir from audit.run where run_id = ?", [run_id]).fetchall()
        if not run:
            problems.append(f"{path.name}: {META_SHEET} names run {run_id!r}, which {out} has not published")
        else:
            county = _run_county(Path(run[0][0]))
            if meta.get("county") != (county or ""):
                problems.append(f"{path.name}: workbook of county {meta.get('county')!r}, but run {run_id} is county {county!r}")
        known = dict(con.execute("select case_key, evidence_hash from audit.case_run where run_id = ?", [run_id]).fetchall())
        for row in cases:
            where = f"{path.name} sheet {row.sheet} row {row.row}"
            if row.value not in CONCLUSIONS:
                problems.append(f"{where}: 核查结论 {row.value!r} is not one of {'/'.join(CONCLUSIONS)}")
            if row.key not in known:
                problems.append(f"{where}: 案件编号 {row.key!r} is not a finding of run {run_id}")
        link_rows = []
        for row in links:
            where = f"{path.name} sheet {row.sheet} row {row.row}"
            if row.value not in LINK_DECISIONS:
                problems.append(f"{where}: 身份确认 {row.value!r} is not one of {'/'.join(LINK_DECISIONS)}")
                continue
            parts = row.key.split(":")
            if len(parts) != 3 or not parts[1].isdigit():
                problems.append(f"{where}: 关联编号 {row.key!r} is not source:row:person")
                continue
            link_rows.append((row, parts[0], int(parts[1]), parts[2]))
        signatures = _signatures(run[0][0] if run else None, link_rows, problems, path.name)
        if problems:
            raise FeedbackError("\n".join(problems))
        who = inspector or meta["author"] or "unknown"
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        result = FeedbackResult(path.name, run_id, meta.get("township", ""))
        for row in cases:
            latest = con.execute(
                "select conclusion, note from audit.disposition where case_key = ? order by recorded_at desc, source_row desc limit 1",
                [row.key],
            ).fetchall()
            if latest and latest[0] == (row.value, row.note):
                result.unchanged += 1
                continue
            con.execute(
                "insert into audit.disposition values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [row.key, row.value, row.note, who, now, run_id, known[row.key], path.name, row.sheet, row.row],
            )
            result.dispositions[row.value] = result.dispositions.get(row.value, 0) + 1
        for (row, source, _, person_id), signature in zip(link_rows, signatures):
            decision = LINK_DECISIONS[row.value]
            con.execute("delete from audit.link_decision where source = ? and record_signature = ? and person_id = ?",
                        [source, signature, person_id])
            con.execute("insert into audit.link_decision values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [source, signature, person_id, decision, who, now, run_id, path.name, row.row])
            result.link_decisions[decision] = result.link_decisions.get(decision, 0) + 1
    return result


def _run_county(run_dir: Path) -> str | None:
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return record.get("parameters", {}).get("county")


def _signatures(run_dir: str | None, link_rows: list, problems: list[str], file: str) -> list[str]:
    """The record signature of each decided row, as the run's linker wrote it in link.review."""
    if not link_rows or run_dir is None:
        return []
    con = duckdb.connect(str(Path(run_dir) / "hecha.duckdb"), read_only=True)
    try:
        signatures = []
        for row, source, source_row, person_id in link_rows:
            found = con.execute(
                "select record_signature from link.review where source = ? and source_row = ? and person_id = ? and role = 'subject'",
                [source, source_row, person_id],
            ).fetchall()
            if not found or not found[0][0]:
                problems.append(f"{file} sheet {row.sheet} row {row.row}: 关联编号 {row.key!r} is not a link to confirm of that run")
                signatures.append("")
                continue
            signatures.append(found[0][0])
        return signatures
    finally:
        con.close()


def link_decisions(state: Path) -> list[tuple[str, str, str, str]]:
    """(source, record signature, person_id, same/different) inspectors decided, latest per row and person."""
    if not Path(state).exists():
        return []
    with open_state(state, read_only=True) as con:
        return con.execute(
            """
            select source, record_signature, person_id, decision
            from audit.link_decision
            qualify row_number() over (partition by source, record_signature, person_id order by recorded_at desc) = 1
            order by source, record_signature, person_id
            """
        ).fetchall()
