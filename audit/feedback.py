"""Inspectors' feedback: read a filled-in workbook and record what they found.

`import_feedback(FILE.xlsx, out)` reads every sheet with the columns 案件编号
and 核查结论 (the check sheets and 待确认), and the identity links on 待确认
(关联编号, 身份确认). There a source row's candidates follow its own line:
是同一人 on one candidate's line (`source:row:person`) records that person
as the same and every other candidate of the row as different; 都不是 on the
row's own line (`source:row:`) records them all as different; 不是同一人
rejects one candidate. Two candidates marked 是同一人 for one record, or
是同一人 beside 都不是, are refused naming both lines (`_link_choices`).
Rows are found by their keys, never by position, so a
workbook re-saved by Excel or WPS, sorted or filtered, reads the same. The
whole workbook is validated first — a workbook from another county, an
unknown run, an unknown 案件编号, an illegal 核查结论, a case answered twice
differently, another township's case, a formula where a value belongs — and
every problem is reported with its sheet and row (or cell); nothing is
recorded unless all is well. Messages never quote a citizen number or name:
what the inspector typed is masked.

A check sheet with money to recover also has 追回金额, the amount recovered on
the case so far. A row may give it with or without a 核查结论 (blank: nothing
to record); every amount is checked first (`recovery_problem`: a number in
yuan to the fen, not below 0, not above the most the case was found
overpaid) and recorded with the verdicts, in the same history and
transaction (`record_recovered`, audit.recovery).

The file is checked as a zip before openpyxl parses anything (size, parts,
unpacked size, compression ratio) and read in openpyxl's streaming mode with
a row limit per sheet: a returned workbook comes from outside and a small
file can unpack to gigabytes.

A screen's 拦截清单 (screen/outputs.py: `_meta` kind `screen`, its run_id the
screen id) is read the same way: its 案件编号 are the case keys of the lines
the screen blocked or held, checked against the screen's own folder
(`<out>/screens/<screen_id>/`: screen.json for the county, the database's
screen.line for the keys and their townships), and its 核查结论 recorded in
the out folder's history like any workbook's, with the fingerprints of the
line's evidence. `--out` is the nightly out folder the screen was published
under.

A province's county books of cross-county findings (province/publish.py:
`<out>/<run_id>/counties/<code>/`, `_meta` county = the county's code) are
imported with `--out` the province's out folder, like a county run's: the
run's record says `kind: province` and lists its counties; the book's
county must be one of them, and a book decides only the cases its county
pays (the run database's province.finding). The verdicts are recorded in the
province's history, `<out>/audit.duckdb`, which the next province
publication reads.

A workbook is checked against the history of the folder its run published
to (the nightly out folder, or a campaign's); what the inspectors decided is
recorded in the root out folder's history (`secret_root(out)/audit.duckdb`),
which nightly runs and every campaign read: a verdict given in a campaign
holds at night, and the other way round. Each disposition is recorded with
who, when, which run, and the fingerprints of the evidence and of its basis
the inspector saw, so a later run can tell whether what was judged has
changed since (see audit/history.py).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
from openpyxl.utils import get_column_letter

from hecha.audit.history import STATE, basis_hash_sql, evidence_hash_sql, open_state, transaction
from hecha.audit.outcomes import OUTCOME_DDL, RecoveryError, record_recovered, recovered_value, recovery_problem
from hecha.audit.screens import SCREEN_DATABASE, SCREEN_RECORD, SCREENS_FOLDER
from hecha.checks.labels import COUNTY_BOOK
from hecha.storage.database import attached
from hecha.storage.masking import mask_text
from hecha.storage.secret import CAMPAIGNS_FOLDER, secret_root

# Limits on a returned workbook, checked before openpyxl parses it. An .xlsx is a
# zip of XML parts and a small zip can unpack to gigabytes (a 1.2 MB file once took
# 2.45 GB of memory to open). The county workbook of a large county holds a few
# thousand findings: a few MB packed, tens of MB unpacked; the limits leave about
# ten times that.
MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB
MAX_UNPACKED_BYTES = 200 * MB  # declared sizes: Python's zipfile never unpacks more than a part declares
MAX_MEMBERS = 1000  # a workbook has about ten parts plus one or two per sheet
# The parts of a hecha workbook deflate about 5:1, a sheet of blank formatted rows
# perhaps 100:1; only a crafted part (one pattern repeated) comes near deflate's 1000:1.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECKED_ABOVE_BYTES = 1 * MB  # small parts may have any ratio: they cost nothing to unpack
# One row per finding or link to confirm; no sheet of a county's workbook comes near
# this, and reading stops here instead of walking a sheet padded to row 1,048,576.
MAX_ROWS_PER_SHEET = 100_000
META_ROWS = 20  # _meta holds four rows (reports/workbooks.py)

CONCLUSIONS = ("属实", "不属实", "已整改")
LINK_DECISIONS = {"是同一人": "same", "不是同一人": "different"}  # on a candidate's line
NONE_OF_THEM = "都不是"  # on a source row's own line: none of its candidates
CASE_KEY_HEADER = "案件编号"
CONCLUSION_HEADER = "核查结论"
NOTE_HEADER = "核查说明"
RECOVERED_HEADER = "追回金额"
LINK_KEY_HEADER = "关联编号"
LINK_DECISION_HEADER = "身份确认"
META_SHEET = "_meta"
# A screen's 拦截清单 (screen/outputs.py) says `kind` = screen in _meta; its run_id is the screen id.
SCREEN_KIND = "screen"
ANSWER_HEADERS = (CASE_KEY_HEADER, CONCLUSION_HEADER, NOTE_HEADER, RECOVERED_HEADER, LINK_KEY_HEADER, LINK_DECISION_HEADER)


class FeedbackError(ValueError):
    """A workbook that cannot be recorded; the message lists every problem with its sheet and row."""


@dataclass
class FeedbackResult:
    file: str
    run_id: str
    township: str
    dispositions: dict[str, int] = field(default_factory=dict)  # conclusion → rows recorded
    link_decisions: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0  # rows already recorded with the same conclusion and note (or the same 追回金额)
    recovered: dict[str, Decimal] = field(default_factory=dict)  # case_key → 追回金额 recorded


@dataclass
class _Row:
    sheet: str
    row: int
    key: str
    value: str  # "" on a case row giving only 追回金额
    note: str | None = None
    recovered: object = None  # 追回金额 as the cell holds it; None when blank


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _amount(value: object) -> object:
    """A 追回金额 cell's value as typed (validated later), None when blank."""
    if isinstance(value, str):
        value = value.strip()
    return None if value is None or value == "" else value


def check_archive(path: Path) -> None:
    """Refuse a file that is too large, not a zip, or a zip that unpacks to far more than a workbook."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise FeedbackError(f"{path.name}: cannot be read ({error.strerror})") from error
    if size > MAX_FILE_BYTES:
        raise FeedbackError(f"{path.name}: {size / MB:.1f} MB, larger than {MAX_FILE_BYTES // MB} MB; not a workbook hecha wrote")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise FeedbackError(f"{path.name}: not an .xlsx workbook (not a zip archive: an .xls file, or saved with a password?)") from error
    problems = []
    if len(members) > MAX_MEMBERS:
        problems.append(f"{path.name}: {len(members)} parts inside, more than {MAX_MEMBERS}; not a workbook hecha wrote")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        problems.append(f"{path.name}: unpacks to {unpacked / MB:.0f} MB, more than {MAX_UNPACKED_BYTES // MB} MB; not a workbook hecha wrote")
    for member in members:
        if member.file_size > RATIO_CHECKED_ABOVE_BYTES and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            ratio = member.file_size / max(member.compress_size, 1)
            problems.append(f"{path.name}: part {member.filename} unpacks to {ratio:.0f} times its packed size "
                            f"(more than {MAX_COMPRESSION_RATIO}); refused unread")
    if problems:
        raise FeedbackError("\n".join(problems))


def read_workbook(path: Path) -> tuple[dict[str, str], list[_Row], list[_Row], list[str]]:
    """(meta, case rows, link rows, problems) as the workbook holds them; meta["author"] is its last author.

    A formula in a key, answer or note column is a problem, never evaluated or
    skipped: its cached value may be stale or missing, so what the inspector
    saw is unknown.
    """
    check_archive(path)
    try:
        # read_only streams each sheet; data_only=False shows formulas as formulas
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # not a workbook at all
        raise FeedbackError(f"{path.name}: not a readable .xlsx workbook ({error})") from error
    try:
        return _read_book(book, path.name)
    finally:
        book.close()


def _read_book(book, file: str) -> tuple[dict[str, str], list[_Row], list[_Row], list[str]]:
    problems: list[str] = []
    meta: dict[str, str] = {"author": _text(book.properties.lastModifiedBy)}
    if META_SHEET in book.sheetnames:
        for label, value, *_ in book[META_SHEET].iter_rows(min_row=1, max_row=META_ROWS, max_col=2, values_only=True):
            if label:
                meta[_text(label)] = _text(value)
    else:
        problems.append(f"{file}: no {META_SHEET} sheet — not a workbook hecha wrote")
    cases: list[_Row] = []
    links: list[_Row] = []
    for sheet in book.worksheets:
        if sheet.title == META_SHEET:
            continue
        sheet.reset_dimensions()  # a wrong declared size would pad every row and the sheet's end to it
        header_row, columns = _header(sheet)
        if header_row is None:
            continue
        answers = [(name, columns[name]) for name in ANSWER_HEADERS if name in columns]
        for number, row in _numbered_rows(sheet, header_row + 1, file, problems):
            formulas = [(name, index) for name, index in answers if index < len(row) and _is_formula(row[index])]
            for name, index in formulas:
                problems.append(f"{file} sheet {sheet.title} cell {get_column_letter(index + 1)}{number}: "
                                f"{name} is a formula; type the value")
            if formulas:
                continue
            cells = {name: _text(row[index].value) if index < len(row) else "" for name, index in columns.items()}
            recovered_index = columns.get(RECOVERED_HEADER)
            recovered = _amount(row[recovered_index].value) if recovered_index is not None and recovered_index < len(row) else None
            if CASE_KEY_HEADER in columns and (cells.get(CONCLUSION_HEADER) or recovered is not None):
                cases.append(_Row(sheet.title, number, cells[CASE_KEY_HEADER], cells.get(CONCLUSION_HEADER, ""),
                                  cells.get(NOTE_HEADER) or None, recovered))
            if LINK_KEY_HEADER in columns and cells.get(LINK_DECISION_HEADER):
                links.append(_Row(sheet.title, number, cells[LINK_KEY_HEADER], cells[LINK_DECISION_HEADER], cells.get(NOTE_HEADER) or None))
    return meta, cases, links, problems


def _numbered_rows(sheet, first: int, file: str, problems: list[str]) -> Iterator[tuple[int, tuple]]:
    """The sheet's rows from `first` with their numbers; past MAX_ROWS_PER_SHEET the workbook is refused."""
    for number, row in enumerate(sheet.iter_rows(min_row=first), start=first):
        if number > MAX_ROWS_PER_SHEET:
            problems.append(f"{file} sheet {sheet.title}: more than {MAX_ROWS_PER_SHEET} rows; not a workbook hecha wrote")
            raise FeedbackError("\n".join(problems))
        yield number, row


def _is_formula(cell) -> bool:
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))


def _header(sheet) -> tuple[int | None, dict[str, int]]:
    """The first row (of the first five) naming a key column, and its columns by header."""
    for number, values in enumerate(sheet.iter_rows(min_row=1, max_row=5, values_only=True), start=1):
        columns = {_text(value): index for index, value in enumerate(values) if _text(value)}
        if (CASE_KEY_HEADER in columns and CONCLUSION_HEADER in columns) or (LINK_KEY_HEADER in columns and LINK_DECISION_HEADER in columns):
            return number, columns
    return None, {}


def _check_answered_alike(rows: list[_Row], key_header: str, answer: str, same, problems: list[str], file: str) -> None:
    """A key answered on two rows (two sheets, or twice on one) must be answered alike; it is then recorded once.

    Otherwise the row recorded last would win, and sorting the sheet would
    change the outcome.
    """
    by_key: dict[str, list[_Row]] = {}
    for row in rows:
        if row.key:  # a row without a key is reported as such
            by_key.setdefault(row.key, []).append(row)
    for key, group in by_key.items():
        if len({same(row) for row in group}) > 1:
            places = " and ".join(f"sheet {row.sheet} row {row.row}" for row in group)
            problems.append(f"{file} {places}: {key_header} {mask_text(key)!r} has a different {answer} on each; keep one")


def _plain_name(name: str) -> bool:
    """Whether `name` (from a workbook) is one plain folder name: no separator, not hidden, not `..`."""
    return bool(name) and Path(name).name == name and not name.startswith(".") and not {"\\", "\x00"} & set(name)


def run_folder(out: Path, run_id: str) -> Path:
    """The folder that published run `run_id`: `out`, or, given the nightly folder, the campaign under it that did.

    The run id comes from the workbook: it names a folder only when it is one
    plain folder name (no separator, not hidden, not `..`).
    """
    out = Path(out)
    if not _plain_name(run_id) or (out / run_id).is_dir():
        return out
    for campaign in sorted((out / CAMPAIGNS_FOLDER).glob("*")):
        if (campaign / run_id).is_dir():
            return campaign
    return out


def screen_folder(out: Path, screen_id: str) -> Path | None:
    """The folder that published screen `screen_id` (`<out>/screens/<screen_id>/`, holding its record), None if none did.

    The id comes from the workbook: it names a folder only when it is one plain folder name.
    """
    folder = Path(out) / SCREENS_FOLDER / screen_id
    return folder if _plain_name(screen_id) and (folder / SCREEN_RECORD).is_file() else None


def _screen_cases(folder: Path | None, meta: dict[str, str], out: Path, file: str,
                  problems: list[str]) -> tuple[dict[str, tuple[str | None, str | None]], dict[str, str | None]]:
    """The case keys a screen listed, with the fingerprints of their evidence and basis, and the township of each.

    Read from the screen's own folder: its record (the county) and its
    database's screen.line, whose blocked and held lines carry a case_key.
    """
    screen_id = meta.get("run_id", "")
    if folder is None:
        problems.append(f"{file}: {META_SHEET} names screen {screen_id!r}, which {out} has not published "
                        f"(no {SCREENS_FOLDER}/{screen_id}/{SCREEN_RECORD})")
        return {}, {}
    record = json.loads((folder / SCREEN_RECORD).read_text(encoding="utf-8"))
    if meta.get("county") != (record.get("county") or ""):
        problems.append(f"{file}: workbook of county {meta.get('county')!r}, but screen {screen_id} is county {record.get('county')!r}")
    database = folder / SCREEN_DATABASE if (folder / SCREEN_DATABASE).is_file() else None
    if database is None:
        problems.append(f"{file}: screen {screen_id} keeps no database ({SCREEN_DATABASE}) to check its lines against")
        return {}, {}
    con = duckdb.connect()
    try:
        # read only, on a connection of its own: a published screen's database is never written
        with attached(con, database, "screened", read_only=True):
            rows = con.execute(
                f"select case_key, {evidence_hash_sql('evidence')}, {basis_hash_sql('evidence')}, township "
                "from screened.screen.line where case_key is not null"
            ).fetchall()
    finally:
        con.close()
    return {key: (evidence, basis) for key, evidence, basis, _ in rows}, {key: township for key, _, _, township in rows}


def import_feedback(path: Path, out: Path, *, inspector: str | None = None) -> FeedbackResult:
    """Validate a filled-in workbook and record its dispositions and link decisions in the root's `audit.duckdb`.

    `out` is the folder the workbook's run published to, as `hecha feedback
    import BOOK --out DIR` passes it (default `out`): the nightly out folder,
    or a campaign's `<out>/campaigns/<name>/`. Given the nightly folder, a
    campaign workbook's run is looked for among its campaigns too
    (`run_folder`), so `--out out` serves every workbook. The workbook is
    validated against that folder's history (its run, the run's cases and
    their townships); the verdicts and link decisions are recorded, in one
    transaction, in the root out folder's history (`secret_root(out)`),
    which nightly runs and every campaign read.
    """
    path = Path(path)
    meta, cases, links, problems = read_workbook(path)
    case_counties: dict[str, str] | None = None  # a province run's: the county that pays each case
    run_id = meta.get("run_id", "")
    township = meta.get("township", "")
    if not township:
        problems.append(f"{path.name}: {META_SHEET} names no township; import the workbook hecha wrote for a township or {COUNTY_BOOK}")
    screen_dir = screen_folder(Path(out), run_id)
    run_dir = None
    if screen_dir is not None or meta.get("kind") == SCREEN_KIND:  # a screen's 拦截清单
        out = Path(out)
        known, case_townships = _screen_cases(screen_dir, meta, out, path.name, problems)
        of_what = f"a line screen {run_id} blocked or held"
        problems += [f"{path.name} sheet {row.sheet} row {row.row}: {LINK_DECISION_HEADER} on a screen's workbook, "
                     "which has no identity links to confirm" for row in links]
        links = []
    else:
        out = run_folder(Path(out), run_id)
        state = out / STATE
        if not state.exists():
            raise FeedbackError(f"{path.name}: {out} has no case history ({STATE}); import into the folder the run published to")
        with open_state(state) as con:
            run = con.execute("select run_dir from audit.run where run_id = ?", [run_id]).fetchall()
            if not run:
                problems.append(f"{path.name}: {META_SHEET} names run {run_id!r}, which {out} has not published")
            else:
                run_dir = run[0][0]
                province = _province_counties(Path(run_dir))
                if province is not None:  # a county's book of a province's cross findings
                    if meta.get("county") not in province:
                        problems.append(f"{path.name}: workbook of county {meta.get('county')!r}, but province run {run_id} "
                                        f"covers {', '.join(province) or 'no county'}")
                    case_counties = _province_case_counties(Path(run_dir))
                else:
                    county = _run_county(Path(run_dir))
                    if meta.get("county") != (county or ""):
                        problems.append(f"{path.name}: workbook of county {meta.get('county')!r}, but run {run_id} is county {county!r}")
            # the fingerprints of the evidence and of its basis, as the inspector saw them in that run
            known = {key: (evidence, basis) for key, evidence, basis in con.execute(
                "select case_key, evidence_hash, basis_hash from audit.case_run where run_id = ?", [run_id]).fetchall()}
            case_townships = _case_townships(con, run_dir, run_id) if township != COUNTY_BOOK else {}
        of_what = f"run {run_id}"
    _check_answered_alike(cases, CASE_KEY_HEADER, f"{CONCLUSION_HEADER}, {NOTE_HEADER} or {RECOVERED_HEADER}",
                          lambda row: (row.value, row.note, _text(row.recovered)), problems, path.name)
    for row in cases:
        where = f"{path.name} sheet {row.sheet} row {row.row}"
        if row.value and row.value not in CONCLUSIONS:
            problems.append(f"{where}: 核查结论 {mask_text(row.value)!r} is not one of {'/'.join(CONCLUSIONS)}")
        if row.key not in known:
            problems.append(f"{where}: 案件编号 {mask_text(row.key)!r} is not a finding of {of_what}")
        elif case_counties is not None and case_counties.get(row.key) != meta.get("county"):
            # a province's cross finding is decided by the county that pays it, in its own books
            owner = case_counties.get(row.key)
            problems.append(f"{where}: 案件编号 {row.key!r} is a case {f'of county {owner}' if owner else 'of no county'}, "
                            f"not of {meta.get('county')}; only that county's workbooks may decide it")
        elif township and township != COUNTY_BOOK and case_townships.get(row.key) != township:
            # a township decides its own cases; the county workbook decides all
            owner = case_townships.get(row.key)
            problems.append(f"{where}: 案件编号 {row.key!r} is a case {f'of {owner}' if owner else 'with no township'}, "
                            f"not of {township}; only its township's workbook or the county's ({COUNTY_BOOK}) may decide it")
    _check_answered_alike(links, LINK_KEY_HEADER, LINK_DECISION_HEADER, lambda row: row.value, problems, path.name)
    link_rows = []
    for row in links:
        where = f"{path.name} sheet {row.sheet} row {row.row}"
        if row.value not in (*LINK_DECISIONS, NONE_OF_THEM):
            problems.append(f"{where}: 身份确认 {mask_text(row.value)!r} is not one of {'/'.join((*LINK_DECISIONS, NONE_OF_THEM))}")
            continue
        if not row.key:
            problems.append(f"{where}: 身份确认 on a line without 关联编号; answer on the candidate's line")
            continue
        parts = row.key.split(":")
        if len(parts) != 3 or not parts[1].isdigit():
            problems.append(f"{where}: 关联编号 {mask_text(row.key)!r} is not source:row:person")
            continue
        if row.value == NONE_OF_THEM and parts[2]:
            problems.append(f"{where}: {NONE_OF_THEM} goes on the line of the row itself, not on a candidate's "
                            f"(关联编号 {mask_text(row.key)!r}); here choose 不是同一人")
            continue
        if row.value != NONE_OF_THEM and not parts[2]:
            problems.append(f"{where}: on the line of the row itself (关联编号 {mask_text(row.key)!r}) choose {NONE_OF_THEM}; "
                            f"{row.value} goes on a candidate's line")
            continue
        link_rows.append((row, parts[0], int(parts[1]), parts[2]))
    signatures = _signatures(run_dir, link_rows, problems, path.name)
    link_rows, signatures = _link_choices(run_dir, link_rows, signatures, problems, path.name)
    # checked against the history they are recorded in, as record_recovered checks them
    problems += _recovery_problems(secret_root(out) / STATE, [row for row in cases if row.recovered is not None and row.key in known],
                                   path.name)
    if problems:
        raise FeedbackError("\n".join(problems))
    who = inspector or meta["author"] or "unknown"
    first_rows: dict[str, _Row] = {}
    for row in cases:
        first_rows.setdefault(row.key, row)  # rows of one key are alike by now: record it once
    verdicts = [row for row in first_rows.values() if row.value]
    recoveries = [row for row in first_rows.values() if row.recovered is not None]
    with open_state(secret_root(out) / STATE) as con, transaction(con):
        result = _record(con, path.name, run_id, township, who, verdicts, known, link_rows, signatures)
        _record_recoveries(con, path.name, run_id, who, recoveries, result)
        return result


def _recovery_problems(history: Path, rows: list[_Row], file: str) -> list[str]:
    """Why each row's 追回金额 cannot be recorded in `history` (audit.duckdb), with its sheet and row."""
    if not rows:
        return []
    with open_state(history, read_only=True) as con:
        found = [(row, recovery_problem(con, row.key, row.recovered)) for row in rows]
    return [f"{file} sheet {row.sheet} row {row.row}: {mask_text(problem)}" for row, problem in found if problem]


def _record_recoveries(con: duckdb.DuckDBPyConnection, file: str, run_id: str, who: str, rows: list[_Row],
                       result: FeedbackResult) -> None:
    """Record each row's 追回金额 in the history open on `con` (the caller's transaction), unless it is already the latest."""
    for statement in OUTCOME_DDL:
        con.execute(statement)
    for row in rows:
        latest = con.execute("select recovered_amount from audit.recovery where case_key = ? order by recorded_at desc limit 1",
                             [row.key]).fetchall()
        where = f"{file} sheet {row.sheet} row {row.row}"
        try:
            if latest and latest[0][0] == recovered_value(row.recovered):
                result.unchanged += 1
                continue
            result.recovered[row.key] = record_recovered(con, row.key, row.recovered, who, run_id, where)
        except RecoveryError as error:  # validated above; the history changed in between
            raise FeedbackError(f"{where}: {mask_text(str(error))}") from error


def _record(con: duckdb.DuckDBPyConnection, file: str, run_id: str, township: str, who: str, rows: list[_Row],
            known: dict[str, tuple[str | None, str | None]], link_rows: list, signatures: list[str]) -> FeedbackResult:
    """Write a validated workbook's dispositions and link decisions into the history open on `con` (the caller's transaction)."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    result = FeedbackResult(file, run_id, township)
    for row in rows:
        evidence_hash, basis_hash = known[row.key]
        latest = con.execute(
            "select conclusion, note, evidence_hash, basis_hash from audit.disposition where case_key = ? "
            "order by recorded_at desc, source_row desc limit 1",
            [row.key],
        ).fetchall()
        # the same words about other facts (a reopened case marked 不属实 again) are a new verdict
        if latest and latest[0] == (row.value, row.note, evidence_hash, basis_hash):
            result.unchanged += 1
            continue
        con.execute(
            "insert into audit.disposition (case_key, conclusion, note, inspector, recorded_at, run_id, evidence_hash, basis_hash, "
            "source_file, source_sheet, source_row) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row.key, row.value, row.note, who, now, run_id, evidence_hash, basis_hash, file, row.sheet, row.row],
        )
        result.dispositions[row.value] = result.dispositions.get(row.value, 0) + 1
    decided = set()
    for (row, source, _, person_id), signature in zip(link_rows, signatures):
        if (source, signature, person_id) in decided:  # the same link on two rows (or two rows of one record), answered alike
            continue
        decided.add((source, signature, person_id))
        decision = LINK_DECISIONS[row.value]
        con.execute("delete from audit.link_decision where source = ? and record_signature = ? and person_id = ?",
                    [source, signature, person_id])
        con.execute("insert into audit.link_decision values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [source, signature, person_id, decision, who, now, run_id, file, row.row])
        result.link_decisions[decision] = result.link_decisions.get(decision, 0) + 1
    return result


def _province_counties(run_dir: Path) -> list[str] | None:
    """The counties a province run covers (its run.json says `kind: province`, province/publish.py); None for a county's run."""
    try:
        record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("kind") != "province":
        return None
    return [str(code) for code in record.get("parameters", {}).get("counties") or []]


def _province_case_counties(run_dir: Path) -> dict[str, str]:
    """The county that pays each cross finding of a province run (its database's province.finding); none if it is gone."""
    database = run_dir / "hecha.duckdb"
    if not database.exists():
        return {}
    run = duckdb.connect(str(database), read_only=True)
    try:
        return dict(run.execute("select case_key, county from province.finding").fetchall())
    finally:
        run.close()


def _run_county(run_dir: Path) -> str | None:
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return record.get("parameters", {}).get("county")


def _case_townships(con: duckdb.DuckDBPyConnection, run_dir: str | None, run_id: str) -> dict[str, str | None]:
    """The township of each finding of the run, as its workbooks were split (the history's, if the run's database is gone)."""
    database = Path(run_dir) / "hecha.duckdb" if run_dir else None
    if database is not None and database.exists():
        run = duckdb.connect(str(database), read_only=True)
        try:
            return dict(run.execute("select case_key, township from chk.finding").fetchall())
        finally:
            run.close()
    return dict(con.execute(
        "select case_key, township from audit.case where case_key in (select case_key from audit.case_run where run_id = ?)", [run_id]
    ).fetchall())


def _signatures(run_dir: str | None, link_rows: list, problems: list[str], file: str) -> list[str]:
    """The record signature of each decided row, as the run's linker wrote it in link.review (any candidate's, on the row's own line)."""
    if not link_rows or run_dir is None:
        return []
    con = duckdb.connect(str(Path(run_dir) / "hecha.duckdb"), read_only=True)
    try:
        signatures = []
        for row, source, source_row, person_id in link_rows:
            found = con.execute(
                "select record_signature from link.review where source = ? and source_row = ? and role = 'subject' "
                "and (person_id = ? or ? = '') order by record_signature limit 1",
                [source, source_row, person_id, person_id],
            ).fetchall()
            if not found or not found[0][0]:
                problems.append(f"{file} sheet {row.sheet} row {row.row}: 关联编号 {mask_text(row.key)!r} is not a link to confirm of that run")
                signatures.append("")
                continue
            signatures.append(found[0][0])
        return signatures
    finally:
        con.close()


def _link_choices(run_dir: str | None, link_rows: list, signatures: list[str], problems: list[str],
                  file: str) -> tuple[list, list[str]]:
    """The answers on 待确认 as one decision per candidate: (row, source, source_row, person_id) and signatures.

    An inspector chooses among a record's candidates (its signature: the rows
    of one record are decided together). 是同一人 on one candidate makes every
    other candidate of that row, as the run listed them in link.review,
    `different`; 都不是 makes them all `different`. Two candidates marked
    是同一人, or one marked 是同一人 beside 都不是 or beside 不是同一人 for the
    same person, cannot all hold: refused, naming both lines. The implied
    decisions carry the line that implied them.
    """
    if not link_rows or run_dir is None or len(signatures) != len(link_rows):
        return link_rows, signatures
    by_record: dict[tuple[str, str], list] = {}
    for link, signature in zip(link_rows, signatures):
        if signature:  # a line the run did not list is reported as such
            by_record.setdefault((link[1], signature), []).append(link)
    con = duckdb.connect(str(Path(run_dir) / "hecha.duckdb"), read_only=True)
    try:
        candidates = {}
        for (source, _), lines in by_record.items():
            for source_row in {link[2] for link in lines}:
                candidates[source, source_row] = [person for (person,) in con.execute(
                    "select distinct person_id from link.review where source = ? and source_row = ? and role = 'subject' "
                    "and person_id is not null order by person_id", [source, source_row]).fetchall()]
    finally:
        con.close()

    def where(row: _Row) -> str:
        return f"sheet {row.sheet} row {row.row}"

    chosen_rows, chosen_signatures = [], []
    for (source, signature), lines in by_record.items():
        same = {link[3]: link[0] for link in lines if link[0].value == "是同一人"}
        if len(same) > 1:
            first, second = list(same.values())[:2]
            problems.append(f"{file} {where(first)} and {where(second)}: 是同一人 marked for two candidates of one record "
                            f"(关联编号 {mask_text(first.key)!r} and {mask_text(second.key)!r}); mark one, or {NONE_OF_THEM}")
            continue
        if same:
            ((person, row),) = same.items()
            against = [link[0] for link in lines if link[0].value == NONE_OF_THEM
                       or (link[0].value == "不是同一人" and link[3] == person)]
            if against:
                problems.append(f"{file} {where(row)} and {where(against[0])}: 是同一人 (关联编号 {mask_text(row.key)!r}) "
                                f"beside {against[0].value} (关联编号 {mask_text(against[0].key)!r}) for one record; keep one")
                continue
        for row, _, source_row, person in lines:
            if row.value == NONE_OF_THEM or row.value == "是同一人":
                rejected = [other for other in candidates[source, source_row] if other != person]
                implied = _Row(row.sheet, row.row, row.key, "不是同一人", row.note)
                chosen_rows += [(implied, source, source_row, other) for other in rejected]
                chosen_signatures += [signature] * len(rejected)
            if row.value != NONE_OF_THEM:
                chosen_rows.append((row, source, source_row, person))
                chosen_signatures.append(signature)
    # the chosen person first: a record's rows decided alike are recorded once, the choice before what it implies
    order = sorted(range(len(chosen_rows)), key=lambda i: chosen_rows[i][0].value != "是同一人")
    return [chosen_rows[i] for i in order], [chosen_signatures[i] for i in order]


def link_decisions(state: Path) -> list[tuple[str, str, str, str]]:
    """(source, record signature, person_id, same/different) inspectors decided, latest per row and person.

    `state` is the history of the folder a run works in. Decisions are
    recorded in the root out folder's history (`secret_root`), shared by
    nightly runs and every campaign; a campaign's own history may hold
    decisions recorded before they were shared, which count too.
    """
    state = Path(state)
    root = secret_root(state.parent) / STATE
    rows = []
    for history in [root] if root.resolve() == state.resolve() else [root, state]:
        if not history.exists():
            continue
        with open_state(history, read_only=True) as con:
            rows += con.execute("select source, record_signature, person_id, decision, recorded_at from audit.link_decision").fetchall()
    latest: dict[tuple[str, str, str], str] = {}
    for source, signature, person_id, decision, _ in sorted(rows, key=lambda row: row[4] or dt.datetime.min):
        latest[(source, signature, person_id)] = decision
    return sorted((*key, decision) for key, decision in latest.items())
