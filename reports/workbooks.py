"""Inspectors' workbooks: one .xlsx per township and one for the county, read from a run's database.

What belongs here: turning `chk.finding` (with `chk.finding_status`,
`chk.resolved` and `link.review`) into the workbooks township inspectors take
on household visits, and a plain HTML rendering of one sheet (for the
screenshot in docs/). What does not: reading a filled-in workbook back
(reports/feedback.py, whose header names and answer lists are used here so
writer and reader cannot drift), case history (reports/history.py).

Each workbook (`<乡镇>.xlsx`, and `全县.xlsx` for all townships; `workbook_stem`
gives a township whose name is not a safe file name, or is `全县`, a name of
its own with a hash of the real one):

- `汇总` — per check: findings, money, status counts, resolved since the last
  run; links to confirm; how to fill the workbook in.
- one sheet per check with findings to verify (sheet name = the check's
  Chinese name), sorted by money at stake, header in row 1 (row 2 under a
  warning, below), frozen, filtered, with the inspector's columns 核查结论
  (drop-down) and 核查说明, keyed by 案件编号 (= case_key).
- `待确认` — one table, header in row 1 (row 2 under a warning): findings whose identity link is
  uncertain (keyed by 案件编号, answered in 核查结论) and the uncertain links
  themselves (keyed by 关联编号 = `source:source_row:person_id`, answered in
  身份确认). One header row per sheet is what the feedback reader expects.
- `_meta` (hidden) — A1:B4 county / run_id / as_of / township.

When the operator let the run go on although too many citizen numbers in a
file could not be used (`record["inputs"]["unusable_ids_accepted"]`,
turned into lines by `override_warnings`), the summary opens with those
lines, one a row, and every answer sheet (check sheets, 待确认) with them in
row 1, its header moving to row 2: the feedback reader looks for the header
in the first five rows, and one banner row whatever the number of lines
keeps it there.

Times are shown on the county's clock (`local_time_text`: the policy's
`timezone`, Beijing time by default), never in UTC as the run record holds
them; reports/html_report.py uses the same function.

Citizen numbers are masked everywhere (first 6, eight asterisks, last 4):
number columns positionally, and every other text by `mask_text`, which also
catches numbers inside evidence and disability certificate numbers (the
citizen number plus two digits).

Extract text is only ever text: the workbook is opened with
`strings_to_formulas`, `strings_to_urls` and `strings_to_numbers` off, so a
name `=HYPERLINK(…)` is written as a string, and the only formulas are the
drop-down lists and the only links the summary's links to the book's own
sheets. XML-illegal control characters (a NUL byte in a name) become U+FFFD,
a cell holds at most Excel's 32,767 characters, and sheet names are cleaned,
cut to 31 characters and unique, so one bad value cannot stop the county's
workbooks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import openpyxl
import xlsxwriter
from openpyxl.utils import get_column_letter

from hecha.checks.catalogue import BY_CODE, CATALOGUE, describe_check
from hecha.extracts.declarations import BY_STEM
from hecha.reports.feedback import (
    CASE_KEY_HEADER,
    CONCLUSION_HEADER,
    CONCLUSIONS,
    LINK_DECISION_HEADER,
    LINK_DECISIONS,
    LINK_KEY_HEADER,
    META_SHEET,
    NOTE_HEADER,
)
from hecha.reports.history import STATUS_LABELS
from hecha.reports.run_tables import mask_id_number, mask_text, read_findings, read_resolved, records, table_columns

COUNTY_BOOK = "全县"
SUMMARY_SHEET = "汇总"
CONFIRM_SHEET = "待确认"
LINK_ANSWERS = tuple(LINK_DECISIONS)  # 是同一人 / 不是同一人
LISTED_STATUSES = ("new", "persisting", "recurred", "reopened")
DECISION_LABELS = {"linked_to_confirm": "已按此人关联，请确认", "review_only": "未关联，可能是此人"}
KIND_FINDING = "待确认发现"
KIND_LINK = "待确认身份关联"

SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
# Characters XML 1.0 does not allow (openpyxl's ILLEGAL_CHARACTERS_RE, plus surrogates and non-characters).
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_MAX = 32767  # characters (UTF-16 code units) Excel keeps in a cell
SHEET_NAME_MAX = 31
RESERVED_SHEET_NAMES = ("history",)  # Excel keeps "History" for itself

# File names: CJK ideographs (no compatibility ideographs, which Unicode normalisation changes), lower-case
# ASCII letters and digits, - and _. Upper case is left out because Windows does not tell Ab.xlsx from ab.xlsx.
FILE_NAME_SAFE = r"\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef\U00030000-\U000323af" r"a-z0-9_\-"
FILE_NAME_KEPT = re.compile(f"[{FILE_NAME_SAFE}]+")
FILE_NAME_UNSAFE_RUN = re.compile(f"[^{FILE_NAME_SAFE}A-Z]+")  # a hashed stem may keep upper case
HASHED_STEM = re.compile(r".*_[0-9a-f]{8}")  # the shape of a hashed stem, which a kept name must not have
FILE_STEM_MAX = 60
HASH_DIGITS = 8
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{port}{n}" for port in ("com", "lpt") for n in range(10))}

DEFAULT_TIMEZONE = "Asia/Shanghai"
ZONE_LABELS = {"Asia/Shanghai": "北京时间"}  # other zones are named as the policy names them
BEIJING = dt.timezone(dt.timedelta(hours=8))  # without a time zone database: China keeps UTC+8 all year

# (header, width in characters, kind) — kind picks the cell format.
PLACE_AND_PERSON: tuple[tuple[str, float, str], ...] = (
    ("乡镇", 12, "text"),
    ("村", 12, "text"),
    ("姓名", 9, "text"),
    ("身份证号", 21, "text"),
    ("证号", 23, "text"),
)
MONTHS_MONEY_EVIDENCE: tuple[tuple[str, float, str], ...] = (
    ("起始月份", 9, "text"),
    ("截止月份", 9, "text"),
    ("应追回金额", 12, "amount"),
    ("应补发金额", 12, "amount"),
    ("关联可信度", 10, "ratio"),
    ("证据", 60, "wrap"),
    ("上次核查结论", 12, "text"),
    ("上次核查说明", 20, "wrap"),
)
FINDING_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("状态", 15, "text"),
    *PLACE_AND_PERSON,
    *MONTHS_MONEY_EVIDENCE,
    (CONCLUSION_HEADER, 11, "choice"),
    (NOTE_HEADER, 30, "input"),
    (CASE_KEY_HEADER, 18, "key"),
)

CONFIRM_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("类别", 14, "text"),
    ("检查项目", 18, "text"),
    ("状态", 15, "text"),
    *PLACE_AND_PERSON,
    ("来源", 16, "text"),
    ("行号", 8, "integer"),
    ("候选人姓名", 10, "text"),
    ("候选人身份证号", 21, "text"),
    ("候选人村", 12, "text"),
    *MONTHS_MONEY_EVIDENCE,
    (CONCLUSION_HEADER, 11, "choice"),
    (LINK_DECISION_HEADER, 12, "choice"),
    (NOTE_HEADER, 30, "input"),
    (CASE_KEY_HEADER, 18, "key"),
    (LINK_KEY_HEADER, 34, "key"),
)

SUMMARY_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("检查项目", 22, "text"),
    ("发现（条）", 10, "integer"),
    ("其中待确认", 10, "integer"),
    ("应追回金额（元）", 16, "amount"),
    ("应补发金额（元）", 16, "amount"),
    (STATUS_LABELS["new"], 9, "integer"),
    (STATUS_LABELS["persisting"], 9, "integer"),
    (STATUS_LABELS["recurred"], 11, "integer"),
    (STATUS_LABELS["reopened"], 11, "integer"),
    ("核为不属实或已整改，不再列出", 14, "integer"),
    ("上次列出、本次已消除", 12, "integer"),
    ("检查说明", 80, "wrap"),
)

TOWNSHIP_COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("乡镇", 22, "text"),
    ("发现（条）", 10, "integer"),
    ("其中待确认", 10, "integer"),
    ("应追回金额（元）", 16, "amount"),
    ("应补发金额（元）", 16, "amount"),
    ("待确认身份关联", 10, "integer"),
)

CHOICES = {CONCLUSION_HEADER: CONCLUSIONS, LINK_DECISION_HEADER: LINK_ANSWERS}

GUIDE = (
    "填写说明",
    f"1. 各检查项目工作表按涉及金额（应追回＋应补发）从高到低排列；入户核实后在“{CONCLUSION_HEADER}”列下拉选择"
    f"{'／'.join(CONCLUSIONS)}，在“{NOTE_HEADER}”列写明核实情况。",
    f"2. “{CONFIRM_SHEET}”工作表：身份关联不确定的发现，请先核实是否为同一人再填写“{CONCLUSION_HEADER}”；"
    f"身份关联请在“{LINK_DECISION_HEADER}”列选择{'／'.join(LINK_ANSWERS)}。",
    f"3. 请勿修改“{CASE_KEY_HEADER}”“{LINK_KEY_HEADER}”列，不要增删工作表；可以排序、筛选，可用 Excel 或 WPS 保存后交回。",
    "4. 身份证号已隐去中间 8 位；完整号码见县级核查结果文件（限授权人员）。",
    "状态说明",
    f"{STATUS_LABELS['new']}：本次首次发现。",
    f"{STATUS_LABELS['persisting']}：上次已列出，本次仍存在（核为属实的，在问题消除前继续列出）。",
    f"{STATUS_LABELS['recurred']}：曾经消除或核为已整改，本次再次发现。",
    f"{STATUS_LABELS['reopened']}：曾核为不属实，但证据已经变化，重新列出请再次核实。",
    "核为不属实或已整改、证据未变化的，不再列出，只在本表计数。",
)


def write_workbooks(con: duckdb.DuckDBPyConnection, folder: Path, *, run_id: str, as_of: str, county: str | None,
                    policy: dict, warnings: list[str] | None = None) -> list[Path]:
    """Write `folder/<乡镇>.xlsx` for each township with findings and `folder/全县.xlsx`; return their paths.

    `warnings` (see `override_warnings`) open every book's summary and answer sheets.
    """
    warnings = [cell_text(mask_text(line)) for line in warnings or []]
    made_at = local_time_text(dt.datetime.now(dt.timezone.utc), policy.get("timezone"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    findings = read_findings(con)
    resolved = read_resolved(con)
    reviews = read_reviews(con)
    townships = sorted({row["township"] for row in findings if row["township"]})
    paths = []
    taken = {COUNTY_BOOK}
    for township in townships:
        stem = workbook_stem(township)
        if stem.lower() in taken:  # two hashed names 8 hex digits alike: the full hash tells them apart
            stem = workbook_stem(township, hash_digits=64)
        taken.add(stem.lower())
        path = folder / f"{stem}.xlsx"
        write_workbook(
            path,
            [row for row in findings if row["township"] == township],
            [row for row in resolved if row["township"] == township],
            [row for row in reviews if row["township"] == township],
            meta=(county, run_id, as_of, township),
            policy=policy,
            warnings=warnings,
            made_at=made_at,
        )
        paths.append(path)
    county_path = folder / f"{COUNTY_BOOK}.xlsx"
    write_workbook(county_path, findings, resolved, reviews, meta=(county, run_id, as_of, COUNTY_BOOK), policy=policy,
                   county_book=True, warnings=warnings, made_at=made_at)
    paths.append(county_path)
    return paths


def override_warnings(record: dict) -> list[str]:
    """The lines a run's outputs open with when the operator overrode the citizen-number gate; [] when not.

    One line per file and column in `record["inputs"]["unusable_ids_accepted"]`
    (`{"file", "column", "share", "bound"}`, shares as fractions), in the record's order.
    """
    accepted = ((record or {}).get("inputs") or {}).get("unusable_ids_accepted") or []
    lines = []
    for item in accepted:
        file = item.get("file") or "（未注明文件）"
        column = item.get("column") or "身份证号"
        share = item.get("share")
        unusable = "有部分号码无法使用" if share is None else f"有 {percent_text(share)} 的号码无法使用"
        bound = "" if item.get("bound") is None else f"（上限 {percent_text(item['bound'])}）"
        lines.append(f"注意：{file} {column} {unusable}{bound}，经操作人员确认仍然运行，结果可能不完整。")
    return lines


def percent_text(share: float) -> str:
    """0.054 → `5.4%`, 0.02 → `2%`: a fraction as a percentage with at most two decimals."""
    return f"{float(share) * 100:.2f}".rstrip("0").rstrip(".") + "%"


def county_zone(timezone: str | None) -> tuple[dt.tzinfo, str]:
    """The county's time zone and the name times carry: the policy's `timezone` (IANA), else Beijing time.

    A name the time zone database does not know falls back to Beijing time,
    labelled so: a time is never shown under a zone it is not in.
    """
    name = str(timezone or DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name), ZONE_LABELS.get(name, name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    try:
        return ZoneInfo(DEFAULT_TIMEZONE), ZONE_LABELS[DEFAULT_TIMEZONE]
    except ZoneInfoNotFoundError:
        return BEIJING, ZONE_LABELS[DEFAULT_TIMEZONE]


def local_time_text(value: object, timezone: str | None = None, *, pattern: str = "%Y-%m-%d %H:%M",
                    label: bool = True) -> str:
    """A time on the county's clock: `2026-11-29T17:33:00+00:00` → `2026-11-30 01:33（北京时间）`.

    `value` is an ISO 8601 text or a datetime; one without an offset is UTC,
    as the pipeline writes every time. Empty gives "", other text comes back
    as it is. With label=False the zone's name is left off (a chart label;
    say the zone once nearby).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    zone, name = county_zone(timezone)
    text = stamp.astimezone(zone).strftime(pattern)
    return f"{text}（{name}）" if label else text


def workbook_stem(township: str, *, hash_digits: int = HASH_DIGITS) -> str:
    """The file name (without .xlsx) of a township's workbook: its name when that is a safe file name.

    Safe: only the characters of FILE_NAME_SAFE, not starting with -, at most FILE_STEM_MAX characters,
    not `全县` (the county's book) nor a Windows device name (con, nul, com1…), no citizen number and
    not shaped like a hashed stem. Any other name becomes its safe characters (citizen numbers masked,
    other characters as _, cut short) followed by _ and the first 8 hex digits of the SHA-256 of the
    real name. The stem depends on the name alone, so it stays the same across runs, and a kept name
    never meets a hashed one (nor, upper case being hashed, one differing only in case); the
    township's real name is kept inside the book (title, summary, _meta).
    """
    shown = mask_text(township)
    if (
        shown == township
        and FILE_NAME_KEPT.fullmatch(township)
        and not township.startswith("-")
        and len(township) <= FILE_STEM_MAX
        and township not in (COUNTY_BOOK, *WINDOWS_DEVICES)
        and not HASHED_STEM.fullmatch(township)
    ):
        return township
    digest = hashlib.sha256(township.encode("utf-8", "surrogatepass")).hexdigest()[:hash_digits]
    prefix = FILE_NAME_UNSAFE_RUN.sub("_", shown).strip("_-")[: FILE_STEM_MAX - hash_digits - 1].rstrip("_-")
    return f"{prefix}_{digest}"


def cell_text(value: object) -> str:
    """Text as a workbook can hold it: XML-illegal characters as U+FFFD, at most CELL_MAX UTF-16 units."""
    text = XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))
    if len(text) > CELL_MAX // 2 and len(text.encode("utf-16-le", "surrogatepass")) > 2 * CELL_MAX:
        text = text.encode("utf-16-le", "surrogatepass")[: 2 * CELL_MAX].decode("utf-16-le", "ignore")
    return text


def _shown(value: object) -> str:
    """Extract text as inspectors see it: citizen numbers masked, fit for a cell."""
    return cell_text(mask_text(value))


# ---------------------------------------------------------------------------------------------- reading


def read_reviews(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """link.review with the source row's name, raw number and township, and the candidate person.

    A row's township is its own (stg) township, else the candidate's; cremation rows carry none.
    """
    if not {"source", "source_row", "role", "person_id"} <= set(table_columns(con, "link", "review")):
        return []
    parts = []
    for source, role in con.execute("select distinct source, role from link.review order by 1, 2").fetchall():
        if not (source and IDENTIFIER.fullmatch(source) and role and IDENTIFIER.fullmatch(role)):
            continue
        columns = set(table_columns(con, "stg", source))
        if "source_row" not in columns:
            continue
        prefix = "head_" if role == "head" else ""

        def pick(name: str, prefix: str = prefix) -> str:
            return f"cast({prefix}{name} as varchar)" if f"{prefix}{name}" in columns else "cast(null as varchar)"

        township = "cast(township as varchar)" if "township" in columns else "cast(null as varchar)"
        parts.append(
            f"select '{source}' as source, '{role}' as role, source_row, {pick('name')} as name, "
            f"{pick('id_number_raw')} as id_number_raw, {township} as township from stg.{source}"
        )
    if not parts:
        parts.append(
            "select null::varchar as source, null::varchar as role, null::integer as source_row, null::varchar as name, "
            "null::varchar as id_number_raw, null::varchar as township where false"
        )
    if table_columns(con, "link", "person"):
        person = "link.person"
    else:
        person = "(select null::varchar as person_id, null::varchar as name, null::varchar as id_number, " \
                 "null::varchar as township, null::varchar as village where false)"
    return records(
        con,
        f"""
        with source_rows as (
            {" union all ".join(parts)}
        )
        select
            review.source, review.source_row, review.role, review.person_id, review.match_probability,
            review.confidence, review.decision, review.explanation,
            source_rows.name, source_rows.id_number_raw,
            coalesce(source_rows.township, person.township) as township,
            person.name as person_name, person.id_number as person_id_number, person.village as person_village
        from link.review as review
        left join source_rows
            on review.source = source_rows.source
            and review.source_row = source_rows.source_row
            and review.role = source_rows.role
        left join {person} as person
            on review.person_id = person.person_id
        order by review.source, review.source_row, review.person_id
        """,
    )


# ---------------------------------------------------------------------------------------------- writing


class _Formats:
    """The workbook's cell formats, by column kind."""

    def __init__(self, book: xlsxwriter.Workbook):
        base = {"border": 1, "border_color": "#BFBFBF", "valign": "top", "font_size": 10}
        self.header = book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True,
                                       "valign": "vcenter", "align": "center"})
        self.input_header = book.add_format({**base, "bold": True, "bg_color": "#FFD966", "text_wrap": True,
                                             "valign": "vcenter", "align": "center"})
        self.kinds = {
            "text": book.add_format(base),
            "wrap": book.add_format({**base, "text_wrap": True}),
            "amount": book.add_format({**base, "num_format": "0.00"}),
            "ratio": book.add_format({**base, "num_format": "0.00"}),
            "integer": book.add_format({**base, "num_format": "0"}),
            "choice": book.add_format({**base, "bg_color": "#FFF2CC", "locked": False}),
            "input": book.add_format({**base, "bg_color": "#FFF2CC", "text_wrap": True, "locked": False}),
            "key": book.add_format({**base, "font_color": "#7F7F7F"}),
        }
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"bold": True, "font_size": 11})
        self.note = book.add_format({"font_size": 10, "text_wrap": False})
        self.warning = book.add_format({"bold": True, "font_size": 11, "font_color": "#C00000"})
        self.link = book.add_format({**base, "font_color": "#0563C1", "underline": 1})
        self.total = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.total_amount = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00"})


def _write_cell(sheet, row: int, col: int, value: object, kind: str, formats: _Formats) -> None:
    fmt = formats.kinds[kind]
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif kind in ("amount", "ratio"):
        sheet.write_number(row, col, round(float(value), 2 if kind == "amount" else 4), fmt)
    elif kind == "integer":
        sheet.write_number(row, col, int(value), fmt)
    elif kind == "key":
        sheet.write_string(row, col, cell_text(value), fmt)  # the import key is not masked
    else:
        sheet.write_string(row, col, _shown(value), fmt)


def _write_table(sheet, first_row: int, columns, rows: list[tuple], formats: _Formats, *, validate: bool = True) -> int:
    """Header at first_row, then rows; drop-downs on choice columns; return the last row written."""
    for col, (header, width, kind) in enumerate(columns):
        sheet.set_column(col, col, width)
        sheet.write_string(first_row, col, header, formats.input_header if kind in ("choice", "input") else formats.header)
    for offset, values in enumerate(rows, start=1):
        for col, ((_, _, kind), value) in enumerate(zip(columns, values)):
            _write_cell(sheet, first_row + offset, col, value, kind, formats)
    last_row = first_row + len(rows)
    if validate and rows:
        for col, (header, _, kind) in enumerate(columns):
            if kind == "choice":
                options = CHOICES[header]
                sheet.data_validation(first_row + 1, col, last_row, col, {
                    "validate": "list",
                    "source": list(options),
                    "input_title": header,
                    "input_message": "请选择：" + "／".join(options),
                    "error_title": header,
                    "error_message": f"{header}只能是：" + "、".join(options),
                    "error_type": "stop",
                })
    return last_row


def _prepare(sheet, columns, last_row: int, header_row: int = 0) -> None:
    """Frozen header (and banner) rows, filter over the table, printed landscape with them on every page."""
    sheet.freeze_panes(header_row + 1, 0)
    sheet.autofilter(header_row, 0, last_row, len(columns) - 1)
    sheet.set_row(header_row, 30)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(0, header_row)
    sheet.fit_to_pages(1, 0)


def _answer_sheet(book, name: str, columns, rows: list[tuple], formats: _Formats, warnings: Sequence[str]) -> None:
    """A sheet inspectors answer on: the warnings in one banner row when there are any, then the table."""
    sheet = book.add_worksheet(name)
    header_row = 0
    if warnings:  # one row, so the header stays within the rows the feedback reader searches
        sheet.write_string(0, 0, cell_text(" ".join(warnings)), formats.warning)
        header_row = 1
    last_row = _write_table(sheet, header_row, columns, rows, formats)
    _prepare(sheet, columns, last_row, header_row)


def _month(value) -> str:
    return f"{value:%Y-%m}" if value is not None else ""


def _check_name(code: str) -> str:
    return BY_CODE[code].name_zh if code in BY_CODE else code


def _finding_values(row: dict) -> tuple:
    return (
        STATUS_LABELS.get(row["status"], row["status"]),
        row["township"],
        row["village"],
        row["name"],
        mask_id_number(row["id_number"]),
        row["case_no"],
        _month(row["period_start"]),
        _month(row["period_end"]),
        row["overpaid_amount"],
        row["backpay_amount"],
        row["link_confidence"],
        row["evidence"],
        row["previous_conclusion"],
        row["previous_note"],
        None,
        None,
        row["case_key"],
    )


def _confirm_finding_values(row: dict) -> tuple:
    (status, township, village, name, id_number, case_no, start, end, overpaid, backpay, confidence, evidence,
     previous, previous_note, _, _, case_key) = _finding_values(row)
    return (KIND_FINDING, _check_name(row["check_code"]), status, township, village, name, id_number, case_no,
            None, None, None, None, None, start, end, overpaid, backpay, confidence, evidence, previous, previous_note,
            None, None, None, case_key, None)


def _confirm_link_values(row: dict) -> tuple:
    source = row["source"]
    explanation = "；".join(part for part in (DECISION_LABELS.get(row["decision"], row["decision"]), row["explanation"]) if part)
    return (KIND_LINK, None, None, row["township"], None, row["name"], mask_id_number(row["id_number_raw"]), None,
            BY_STEM[source].title if source in BY_STEM else source, row["source_row"], row["person_name"],
            mask_id_number(row["person_id_number"]), row["person_village"], None, None, None, None,
            row["confidence"], explanation, None, None, None, None, None, None,
            f"{source}:{row['source_row']}:{row['person_id'] or ''}")


def _ordered_codes(codes: set[str]) -> list[str]:
    known = [check.code for check in CATALOGUE if check.code in codes]
    return known + sorted(codes - set(known))


def _sheet_name_cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units (Excel counts a CJK extension B character twice)."""
    while len(text.encode("utf-16-le", "surrogatepass")) > 2 * limit:
        text = text[:-1]
    return text


def _sheet_names(codes: list[str]) -> dict[str, str]:
    """A valid, unique sheet name per check: its Chinese name cleaned and cut to 31 characters.

    Excel compares sheet names without case and refuses []:*?/\\, a leading or trailing apostrophe,
    names over 31 characters and "History".
    """
    taken = {name.lower() for name in (SUMMARY_SHEET, CONFIRM_SHEET, META_SHEET, *RESERVED_SHEET_NAMES)}
    names = {}
    for code in codes:
        cleaned = SHEET_NAME_FORBIDDEN.sub("_", _shown(_check_name(code))).strip("'") or "检查项目"
        base = _sheet_name_cut(cleaned, SHEET_NAME_MAX).strip("'")
        name, number = base, 2
        while name.lower() in taken:
            suffix = f"({number})"
            name, number = _sheet_name_cut(base, SHEET_NAME_MAX - len(suffix)).rstrip("'") + suffix, number + 1
        taken.add(name.lower())
        names[code] = name
    return names


def _money(rows: list[dict], column: str) -> float:
    return round(sum(row[column] or 0.0 for row in rows), 2)


def write_workbook(path: Path, findings: list[dict], resolved: list[dict], reviews: list[dict], *,
                   meta: tuple[str | None, str, str, str], policy: dict, county_book: bool = False,
                   warnings: Sequence[str] = (), made_at: str = "") -> Path:
    """One workbook for one township (or, with county_book, the county) from rows already read and sorted.

    The county book adds a table by township; a township called 全县 still gets a township's book.
    `warnings` open the summary and the answer sheets; `made_at` is when, as the summary says it.
    """
    county, run_id, as_of, township = meta
    meta = (county, run_id, as_of, _shown(township))  # the real name, masked and fit for a cell
    shown = [row for row in findings if row["status"] != "suppressed"]
    listed = [row for row in shown if not row["needs_confirmation"]]
    to_confirm = [row for row in shown if row["needs_confirmation"]]
    codes = _ordered_codes({row["check_code"] for row in findings} | {row["check_code"] for row in resolved})
    sheet_names = _sheet_names([code for code in codes if any(row["check_code"] == code for row in listed)])

    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    try:
        book.set_properties({"title": f"社会救助核查工作簿（{meta[3]}）", "author": "hecha",
                             "comments": cell_text(f"run {run_id}")})
        formats = _Formats(book)
        summary = book.add_worksheet(SUMMARY_SHEET)
        _write_summary(summary, formats, findings, resolved, reviews, codes, sheet_names, meta, policy, county_book,
                       warnings=warnings, made_at=made_at)

        for code, name in sheet_names.items():
            rows = [_finding_values(row) for row in listed if row["check_code"] == code]
            _answer_sheet(book, name, FINDING_COLUMNS, rows, formats, warnings)

        rows = [_confirm_finding_values(row) for row in to_confirm] + [_confirm_link_values(row) for row in reviews]
        _answer_sheet(book, CONFIRM_SHEET, CONFIRM_COLUMNS, rows, formats, warnings)

        meta_sheet = book.add_worksheet(META_SHEET)
        for row, (label, value) in enumerate(zip(("county", "run_id", "as_of", "township"), meta)):
            meta_sheet.write_string(row, 0, label)
            if value:
                meta_sheet.write_string(row, 1, cell_text(value))
        meta_sheet.hide()
        summary.activate()
    finally:
        book.close()
    return path


def _write_summary(sheet, formats: _Formats, findings, resolved, reviews, codes, sheet_names, meta, policy,
                   county_book: bool, *, warnings: Sequence[str] = (), made_at: str = "") -> None:
    county, run_id, as_of, township = meta
    for row, line in enumerate(warnings):
        sheet.write_string(row, 0, line, formats.warning)
    top = len(warnings)
    sheet.write_string(top, 0, f"社会救助数据核查工作簿　{township}", formats.title)
    made = f"　生成时间：{made_at}" if made_at else ""
    sheet.write_string(top + 1, 0, cell_text(f"县（区）代码：{county or '未注明'}　数据截至：{as_of}　运行编号：{run_id}{made}"),
                       formats.note)
    header_row = top + 3
    rows = []
    for code in codes:
        of_check = [row for row in findings if row["check_code"] == code]
        shown = [row for row in of_check if row["status"] != "suppressed"]
        check = BY_CODE.get(code)
        description = "\n".join(line.strip() for line in describe_check(check, policy)[1:]) if check else ""
        rows.append((
            _check_name(code),
            len(shown),
            sum(1 for row in shown if row["needs_confirmation"]),
            _money(shown, "overpaid_amount"),
            _money(shown, "backpay_amount"),
            *(sum(1 for row in shown if row["status"] == status) for status in LISTED_STATUSES),
            sum(1 for row in of_check if row["status"] == "suppressed"),
            sum(1 for row in resolved if row["check_code"] == code),
            description,
        ))
    last_row = _write_table(sheet, header_row, SUMMARY_COLUMNS, rows, formats, validate=False)
    for offset, code in enumerate(codes, start=1):
        if code in sheet_names:  # the check's name links to its sheet
            quoted = sheet_names[code].replace("'", "''")  # an apostrophe inside a quoted sheet name is doubled
            sheet.write_url(header_row + offset, 0, f"internal:'{quoted}'!A1", formats.link,
                            string=_shown(_check_name(code)), tip="打开该检查项目的工作表")
    total_row = last_row + 1
    sheet.write_string(total_row, 0, "合计", formats.total)
    for col, (_, _, kind) in enumerate(SUMMARY_COLUMNS[1:-1], start=1):
        value = sum(row[col] for row in rows)
        if kind == "amount":
            sheet.write_number(total_row, col, round(value, 2), formats.total_amount)
        else:
            sheet.write_number(total_row, col, value, formats.total)
    sheet.write_blank(total_row, len(SUMMARY_COLUMNS) - 1, None, formats.total)

    row = total_row + 2
    sheet.write_string(row, 0, f"待确认身份关联：{len(reviews)} 条；身份关联不确定的发现："
                               f"{sum(1 for item in findings if item['needs_confirmation'] and item['status'] != 'suppressed')} 条"
                               f"（见“{CONFIRM_SHEET}”工作表）", formats.subtitle)
    row += 2
    if county_book:
        def town_of(item: dict) -> str:
            return item["township"] or "（未注明乡镇）"

        towns = sorted({town_of(item) for item in findings} | {town_of(item) for item in reviews})
        town_rows = []
        for town in towns:
            shown = [item for item in findings if town_of(item) == town and item["status"] != "suppressed"]
            town_rows.append((town, len(shown), sum(1 for item in shown if item["needs_confirmation"]),
                              _money(shown, "overpaid_amount"), _money(shown, "backpay_amount"),
                              sum(1 for item in reviews if town_of(item) == town)))
        sheet.write_string(row, 0, "分乡镇", formats.subtitle)
        row = _write_table(sheet, row + 1, TOWNSHIP_COLUMNS, town_rows, formats, validate=False) + 2
        for col, (_, width, _) in enumerate(SUMMARY_COLUMNS):  # the township table reset some widths
            sheet.set_column(col, col, width)
    for line in GUIDE:
        sheet.write_string(row, 0, line, formats.subtitle if line in ("填写说明", "状态说明") else formats.note)
        row += 1
    sheet.set_row(header_row, 30)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


# ---------------------------------------------------------------------------------------------- HTML rendering


def _css_color(color) -> str | None:
    rgb = getattr(color, "rgb", None)
    if isinstance(rgb, str) and len(rgb) == 8 and color.type == "rgb":
        return f"#{rgb[2:]}"
    return None


def _filled(cell) -> str | None:
    return _css_color(cell.fill.fgColor) if cell.fill is not None and cell.fill.fill_type == "solid" else None


def _bordered(cell) -> bool:
    return bool(cell.border is not None and cell.border.top is not None and cell.border.top.style)


def _display(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if cell.number_format == "0.00":
            return f"{value:.2f}"
        if cell.number_format == "0":
            return f"{value:.0f}"
    return str(value)


def render_sheet_html(path: Path, sheet: str, *, max_rows: int | None = None) -> str:
    """One sheet of a written workbook as a plain HTML page (inline CSS), for a PNG screenshot.

    Cell fills, bold and wrapping come from the workbook, so the header row
    looks as it does in Excel; widths follow the column widths; cells with a
    drop-down show ▾.
    """
    book = openpyxl.load_workbook(Path(path))
    try:
        ws = book[sheet]
        widths = {}
        for dimension in ws.column_dimensions.values():
            if dimension.width and dimension.min:
                for index in range(dimension.min, (dimension.max or dimension.min) + 1):
                    widths[index] = dimension.width
        drop_downs = [validation.sqref for validation in ws.data_validations.dataValidation if validation.type == "list"]
        last_col = ws.max_column
        last_row = ws.max_row if max_rows is None else min(ws.max_row, max_rows)
        pixels = [round(widths.get(index, 8.43) * 7 + 5) for index in range(1, last_col + 1)]
        cols = "".join(f'<col style="width:{width}px">' for width in pixels)
        body = []
        for cells in ws.iter_rows(min_row=1, max_row=last_row, max_col=last_col):
            tds = []
            skip = 0
            for position, cell in enumerate(cells):
                if skip:
                    skip -= 1
                    continue
                styles = []
                fill = _filled(cell)
                if fill:
                    styles.append(f"background:{fill}")
                if cell.font is not None and cell.font.bold:
                    styles.append("font-weight:bold")
                color = _css_color(cell.font.color) if cell.font is not None and cell.font.color is not None else None
                if color:
                    styles.append(f"color:{color}")
                wrap = cell.alignment is not None and cell.alignment.wrap_text
                if wrap:
                    styles.append("white-space:pre-wrap")
                if cell.alignment is not None and cell.alignment.horizontal == "center":
                    styles.append("text-align:center")
                elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    styles.append("text-align:right")
                if _bordered(cell):
                    styles.append("border:1px solid #bfbfbf")
                span = 1
                if isinstance(cell.value, str) and not wrap:
                    # text runs on over empty plain cells to its right, as Excel shows it
                    for neighbour in cells[position + 1:]:
                        if neighbour.value is not None or _filled(neighbour) or _bordered(neighbour):
                            break
                        span += 1
                    skip = span - 1
                text = html.escape(_display(cell))
                if not text and any(cell.coordinate in ranges for ranges in drop_downs):
                    text = '<span class="dd">▾</span>'
                style = f' style="{";".join(styles)}"' if styles else ""
                colspan = f' colspan="{span}"' if span > 1 else ""
                tds.append(f"<td{colspan}{style}>{text}</td>")
            body.append(f"<tr>{''.join(tds)}</tr>")
        letters = "".join(f"<th>{get_column_letter(index)}</th>" for index in range(1, last_col + 1))
    finally:
        book.close()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(Path(path).stem)} — {html.escape(sheet)}</title>"
        "<style>"
        "body{margin:12px;font-family:'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',"
        "'WenQuanYi Micro Hei',sans-serif;font-size:12px;color:#000;background:#fff}"
        "h1{font-size:14px;font-weight:normal;margin:0 0 8px;color:#444}"
        "table{border-collapse:collapse;table-layout:fixed}"
        "td{padding:2px 4px;vertical-align:top;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
        "thead th{background:#f3f3f3;color:#666;font-weight:normal;border:1px solid #d4d4d4;padding:1px 4px}"
        ".dd{color:#999;float:right}"
        "</style></head><body>"
        f"<h1>{html.escape(Path(path).name)} · 工作表“{html.escape(sheet)}”</h1>"
        f'<table style="width:{sum(pixels)}px"><colgroup>{cols}</colgroup>'
        f"<thead><tr>{letters}</tr></thead><tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table></body></html>\n"
    )
