"""Inspectors' workbooks: one .xlsx per township and one for the county, read from a run's database.

What belongs here: turning `chk.finding` (with `chk.finding_status`,
`chk.resolved` and `link.review`) into the workbooks township inspectors take
on household visits, and a plain HTML rendering of one sheet (for the
screenshot in docs/). What does not: reading a filled-in workbook back
(audit/feedback.py, whose header names and answer lists are used here so
writer and reader cannot drift), case history (audit/history.py).

Each workbook (`<乡镇>.xlsx`, and `全县.xlsx` for all townships; `workbook_stem`
gives a township whose name is not a safe file name, or is `全县`, a name of
its own with a hash of the real one):

- `汇总` — per check: findings, money, status counts, resolved since the last
  run; links to confirm; how to fill the workbook in; the confidence bands.
- one sheet per check with findings to verify (sheet name = the check's
  Chinese name), sorted by money at stake, header in row 1 (row 2 under a
  warning, below), frozen, filtered, with the inspector's columns 核查结论
  (drop-down) and 核查说明, keyed by 案件编号 (= case_key). The columns a
  household visit needs come first (village, name, masked number, case
  numbers, months, money, evidence, 核查结论, 核查说明) and are the sheet's
  print area; the office's columns (乡镇, 关联可信度, last verdict, 案件编号)
  follow on screen only.
- `待确认` — one table, header in row 1 (row 2 under a warning): findings whose identity link is
  uncertain (keyed by 案件编号, answered in 核查结论) and the uncertain links
  themselves, a block per source row: the row's own line as the extract wrote
  it, then one line per candidate (best first) with the candidate's name,
  masked number, sex, birth year (never the birth date beside a masked
  number: it is the hidden digits), 户号, 户籍地, status, its share of the
  row's posterior as a percentage and a band, and what agrees and disagrees.
  A candidate's line is keyed by 关联编号 = `source:source_row:person_id` and
  answered in 身份确认 (是同一人 / 不是同一人); with several candidates the
  row's own line is keyed `source:source_row:` and offers 都不是. One header
  row per sheet is what the feedback reader expects.
- `_meta` (hidden) — A1:B4 county / run_id / as_of / township (`write_meta_sheet`).
- `核查成效` (the county's book only, after `汇总`) — per check, what the
  inspectors measured and what the findings changed: findings, 属实 / 不属实
  and their rates, cases open past `outcomes.verdict_deadline_days`, money
  stopped a month, recovered and back-paid, read from `chk.outcome_summary`
  (audit/outcomes.py `read_outcome_summary`, which the report reads too);
  without that table, a line saying there are none yet. Below it, once a
  screen has stopped a payment, 发放前拦截: per screen verdict and reason,
  the payments screens blocked or held, their verdicts, the yuan involved
  and the yuan prevented (阻止发放: blocked and confirmed 属实 or 已整改),
  from `chk.prevented_summary` (`prevented_summary`, as the report reads it).

A check sheet whose findings have money to recover adds 追回金额 after
核查结论: the amount recovered so far, a number ≥ 0 (data validation), which
the feedback import records (audit/feedback.py).


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

Printing (`_print_setup`): every sheet prints on A4 landscape with margins,
the sheet's name in the page header and page numbers in the footer, its
header row (and banner) repeated on every page, one page wide, at a scale
that keeps the 10 pt cells at 8 pt or more; the evidence column takes the
width the other printed columns leave (`fit_columns`). Each row's height is
set from the lines its cells wrap into (`text_lines`, CJK counting double),
since neither xlsxwriter nor Excel sizes rows when a file is opened.

A screen's 拦截清单 (screen/outputs.py) is built from the same pieces — cell
formats, lines, answer sheets with their drop-downs, printing, `_meta` — so
the officers' books of a payment batch look, mask and print as these do.

A finding is listed twice, in its township's book and in the county's: its
line (the cells masked and worded, the row's height) is made once a run
(`_Lines`), and the books share it.

Citizen numbers are masked everywhere (first 6, eight asterisks, last 4):
number columns positionally, and every other text by `mask_text`, which also
catches numbers inside evidence; a disability certificate number keeps its
category and grade digits, a 建档立卡户编号 stays readable. Evidence is shown
as `inspector_evidence` words it (no source row numbers, no link weights, a
confidence band), and 证号 lists each number once.

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
import functools
import hashlib
import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import openpyxl
import xlsxwriter
from openpyxl.utils import get_column_letter

from hecha.audit.feedback import (
    CASE_KEY_HEADER,
    CONCLUSION_HEADER,
    CONCLUSIONS,
    LINK_DECISION_HEADER,
    LINK_DECISIONS,
    LINK_KEY_HEADER,
    META_SHEET,
    NONE_OF_THEM,
    NOTE_HEADER,
    RECOVERED_HEADER,
)
from hecha.audit.outcomes import outcome_totals, prevented_summary, prevented_totals, read_outcome_summary
from hecha.checks.catalogue import BY_CODE, Check, describe_check
from hecha.checks.labels import COUNTY_BOOK, STATUS_LABELS
from hecha.extracts.declarations import BY_STEM, PERSON_STATUS, SEX
from hecha.reports.run_tables import (
    confidence_band,
    confidence_bands_text,
    evidence_in_words,
    percent_text,
    read_findings,
    read_resolved,
    shown_case_numbers,
)
from hecha.storage.database import records, table_columns
from hecha.storage.masking import mask_id_number, mask_text

SUMMARY_SHEET = "汇总"
OUTCOME_SHEET = "核查成效"
CONFIRM_SHEET = "待确认"
LINK_ANSWERS = tuple(LINK_DECISIONS)  # 是同一人 / 不是同一人, on a candidate's line
ROW_ANSWERS = (NONE_OF_THEM,)  # on the line of a source row with several candidates
LISTED_STATUSES = ("new", "persisting", "recurred", "reopened")
DECISION_LABELS = {"linked_to_confirm": "已按此人关联，请确认", "review_only": "未关联，可能是此人"}
KIND_FINDING = "待确认发现"
KIND_CANDIDATE = "候选人"  # 候选人1, 候选人2 … by rank
SEX_LABELS = {code: label for label, code in SEX.items()}
# The register's 正常 is 在册 to an inspector; a person the register does not hold is said so.
PERSON_STATUS_LABELS = {code: label for label, code in PERSON_STATUS.items()} | {"normal": "在册"}
NOT_IN_REGISTER = "户籍无此人"

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

class Column(NamedTuple):
    """A workbook column: header, width in characters (None: the printed page's remaining width), cell kind.

    `printed`: whether the column is in the sheet's print area. Printed columns
    come first, so the print area is one block: what a household visit needs.
    """

    header: str
    width: float | None
    kind: str  # picks the cell format
    printed: bool = True


EVIDENCE_HEADER = "证据"
CONFIDENCE_HEADER = "关联可信度"

FINDING_COLUMNS: tuple[Column, ...] = (
    Column("状态", 8, "text"),
    Column("村", 8, "text"),
    Column("姓名", 7, "text"),
    Column("身份证号", 19, "text"),  # 130534********0213 on one line
    Column("证号", 10, "text"),
    Column("起始月份", 8, "text"),
    Column("截止月份", 8, "text"),
    Column("应追回金额", 9, "amount"),
    Column("应补发金额", 9, "amount"),
    Column(EVIDENCE_HEADER, None, "text"),
    Column(CONCLUSION_HEADER, 7, "choice"),
    Column(NOTE_HEADER, 16, "input"),
    # on screen only: the same for every row of a township's book, or for the office
    Column("乡镇", 12, "text", printed=False),
    Column(CONFIDENCE_HEADER, 8, "text", printed=False),
    Column("上次核查结论", 10, "text", printed=False),
    Column("上次核查说明", 20, "text", printed=False),
    Column(CASE_KEY_HEADER, 18, "key", printed=False),
)

# Beside 核查结论 on a check sheet with money to recover (`with_recovered_column`).
RECOVERED_COLUMN = Column(RECOVERED_HEADER, 9, "amount_input")

# 姓名 and 身份证号 are the finding's person, or the source row to identify (on each line of its block, so a
# sorted or filtered line still says which row it is about); 候选人姓名 and 候选人身份证号 the candidate.
# 性别 … 人员状态 are the line's own record: on a row's line what the extract wrote, on a candidate's line
# what the register holds, so the block reads down each column. A birth year, never a date (see above).
CONFIRM_COLUMNS: tuple[Column, ...] = (
    Column("类别", 6, "text"),
    Column("检查项目", 7, "text"),
    Column("村", 6, "text"),
    Column("姓名", 6, "text"),
    Column("身份证号", 19, "text"),
    Column("证号", 9, "text"),
    Column("候选人姓名", 6, "text"),
    Column("候选人身份证号", 19, "text"),
    Column("性别", 4, "text"),
    Column("出生年份", 5, "text"),
    Column("户号", 7, "text"),
    Column("户籍地", 8, "text"),
    Column("人员状态", 5, "text"),
    Column("应追回金额", 8, "amount"),
    Column("同一人概率", 5, "text"),
    Column(CONFIDENCE_HEADER, 4, "text"),
    Column(EVIDENCE_HEADER, None, "text"),
    Column(CONCLUSION_HEADER, 5, "choice"),
    Column(LINK_DECISION_HEADER, 5, "choice"),
    Column(NOTE_HEADER, 8, "input"),
    # on screen only; the period is in the evidence, the source row is the office's
    Column("状态", 10, "text", printed=False),
    Column("乡镇", 12, "text", printed=False),
    Column("起始月份", 9, "text", printed=False),
    Column("截止月份", 9, "text", printed=False),
    Column("应补发金额", 8, "amount", printed=False),  # the evidence states it; the page has no room left
    Column("来源", 16, "text", printed=False),
    Column("行号", 8, "integer", printed=False),
    Column("上次核查结论", 10, "text", printed=False),
    Column("上次核查说明", 20, "text", printed=False),
    Column(CASE_KEY_HEADER, 18, "key", printed=False),
    Column(LINK_KEY_HEADER, 34, "key", printed=False),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("检查项目", 14, "text"),
    Column("发现（条）", 7, "integer"),
    Column("其中待确认", 7, "integer"),
    Column("应追回金额（元）", 10, "amount"),
    Column("应补发金额（元）", 10, "amount"),
    Column(STATUS_LABELS["new"], 7, "integer"),
    Column(STATUS_LABELS["persisting"], 7, "integer"),
    Column(STATUS_LABELS["recurred"], 7, "integer"),
    Column(STATUS_LABELS["reopened"], 8, "integer"),
    Column(f"{STATUS_LABELS['suppressed']}，不再列出", 9, "integer"),
    Column("上次列出、本次已消除", 8, "integer"),
    Column("检查说明", None, "text"),
)

TOWNSHIP_COLUMNS: tuple[Column, ...] = (  # below the summary table, in its columns
    Column("乡镇", None, "text"),
    Column("发现（条）", None, "integer"),
    Column("其中待确认", None, "integer"),
    Column("应追回金额（元）", None, "amount"),
    Column("应补发金额（元）", None, "amount"),
    Column("待确认身份关联", None, "integer"),
)

# The 核查成效 table (county book and report): chk.outcome_summary's field under each column.
OUTCOME_FIELDS: tuple[tuple[str, Column], ...] = (
    # each header and the longest check name on one line, the table well within an A4 page at 100%;
    # counts are of cases (条), as the notes under the table say
    ("check_code", Column("检查项目", 22, "text")),
    ("findings", Column("发现", 6, "integer")),
    ("true_count", Column("属实", 6, "integer")),
    ("not_true_count", Column("不属实", 7, "integer")),
    ("rectified_count", Column("已整改", 7, "integer")),
    ("true_rate", Column("属实率", 7, "rate")),
    ("not_true_rate", Column("不属实率", 8, "rate")),
    ("open_past_deadline", Column("超期未核查", 11, "integer")),
    ("monthly_stopped_amount", Column("每月已停发（元）", 15, "amount")),
    ("recovered_amount", Column("已追回（元）", 12, "amount")),
    ("backpay_paid", Column("已补发（元）", 12, "amount")),
)
NO_RATE = "—"  # no 属实 or 不属实 yet: nothing measured

# 发放前拦截 (below the 核查成效 table, in its columns): chk.prevented_summary's field under each column.
PREVENTED_TITLE = "发放前拦截"
PREVENTED_FIELDS: tuple[tuple[str, Column], ...] = (
    ("reason", Column("拦截原因", 22, "text")),
    ("verdict_label", Column("处理", 6, "text")),
    ("lines", Column("笔数", 6, "integer")),
    ("true_count", Column("属实", 7, "integer")),
    ("not_true_count", Column("不属实", 7, "integer")),
    ("rectified_count", Column("已整改", 7, "integer")),
    ("no_verdict_count", Column("待核查", 8, "integer")),
    ("true_rate", Column("属实率", 11, "rate")),
    ("amount", Column("涉及金额（元）", 15, "amount")),
    ("prevented_amount", Column("阻止发放（元）", 12, "amount")),
)

CHOICES = {CONCLUSION_HEADER: CONCLUSIONS, LINK_DECISION_HEADER: LINK_ANSWERS}
CONFIRM_EVIDENCE_MIN_WIDTH = 28  # 待确认 prints the candidates' facts beside the evidence: it gets less room

# Printing. Cells are set in FONT_SIZE points; a sheet printed at scale s shows FONT_SIZE * s points, and
# inspectors read printed lists on household visits: never below MIN_PRINTED_SIZE. The columns a sheet
# prints are chosen to fit one A4 landscape page wide at PRINT_SCALE, the evidence taking what is left
# (at least EVIDENCE_MIN_WIDTH characters).
FONT_SIZE = 10
MIN_PRINTED_SIZE = 8
PRINT_SCALE = 0.85
EVIDENCE_MIN_WIDTH = 40
PAPER_A4 = 9
A4_LONG_SIDE_POINTS = 841.89
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.7, "bottom": 0.6}  # inches, as Excel's page setup takes them
HEADER_MARGIN = 0.3
PRINTABLE_POINTS = A4_LONG_SIDE_POINTS - 72 * (MARGINS["left"] + MARGINS["right"])
PRINT_HEADER_MAX = 200  # characters of the page header's title (Excel allows 255 in all)

# Row heights. xlsxwriter (like Excel's file format) leaves a row's height to whoever opens the file, and
# neither Excel on open nor LibreOffice grows rows for wrapped text the file did not size: each row's
# height is set here, from the lines its cells wrap into (`text_lines`). LINE_POINTS is a line of 10 pt
# text in the CJK fonts Excel, WPS and LibreOffice fall back to (等线 and 宋体 about 1.3 em, WenQuanYi 1.15 em).
LINE_POINTS = 13.5
ROW_PADDING_POINTS = 3
MAX_ROW_POINTS = 409  # Excel's limit
# CJK punctuation that may not start a line and brackets that may not end one: they travel with a neighbour.
NO_LINE_START = set("，。、；：！？）》」』】〉”’…—·%)]}.,;:!?")
NO_LINE_END = set("（《「『【〈“‘([{")


def guide_lines(policy: dict) -> list[str]:
    """The summary's instructions: filling the book in, the statuses, the confidence bands (policy thresholds)."""
    bands = confidence_bands_text(policy.get("identity"))
    return [
        "填写说明",
        f"1. 各检查项目工作表按涉及金额（应追回＋应补发）从高到低排列；入户核实后在“{CONCLUSION_HEADER}”列下拉选择"
        f"{'／'.join(CONCLUSIONS)}，在“{NOTE_HEADER}”列写明核实情况。",
        f"2. “{CONFIRM_SHEET}”工作表：身份关联不确定的发现，请先核实是否为同一人再填写“{CONCLUSION_HEADER}”；"
        f"身份关联不确定的记录，先列记录本身，下面逐行列出每一名候选人及其同一人概率：是其中一人的，在该候选人行的"
        f"“{LINK_DECISION_HEADER}”列选“{LINK_ANSWERS[0]}”（只能选一人）；都不是的，在记录行选“{NONE_OF_THEM}”；"
        f"也可在某一候选人行选“{LINK_ANSWERS[1]}”只排除此人。",
        f"3. 请勿修改“{CASE_KEY_HEADER}”“{LINK_KEY_HEADER}”列，不要增删工作表；可以排序、筛选，可用 Excel 或 WPS 保存后交回。",
        "4. 身份证号已隐去中间 8 位；完整号码见县级核查结果文件（限授权人员）。建档立卡户编号、低保证号等不隐去，"
        "残疾人证号只隐去其中的身份证号部分。",
        f"5. 打印：每个工作表横向 A4，每页重复表头，只打印入户核实需要的列（至“{NOTE_HEADER}”为止），"
        f"“{CONCLUSION_HEADER}”“{NOTE_HEADER}”留空供现场填写。",
        f"6. 有应追回金额的检查项目另有“{RECOVERED_HEADER}”列：填写该线索至今已追回的累计金额（元，最多两位小数），"
        f"不超过应追回金额；可与“{CONCLUSION_HEADER}”一并填写，也可单独填写，留空表示未填报。",
        "状态说明",
        f"{STATUS_LABELS['new']}：本次首次发现。",
        f"{STATUS_LABELS['persisting']}：上次已列出，本次仍存在（核为属实的，在问题消除前继续列出）。",
        f"{STATUS_LABELS['recurred']}：曾经消除或核为已整改，本次再次发现。",
        f"{STATUS_LABELS['reopened']}：曾核为不属实，但核查依据（关联的记录、事件及日期、名册事实）已经变化，重新列出请再次核实。",
        f"{STATUS_LABELS['suppressed']}：不再列出，只在本表计数；仅多发放了月份或金额，不算依据变化。",
        *(["关联可信度说明", *bands] if bands else []),
    ]


GUIDE_HEADINGS = ("填写说明", "状态说明", "关联可信度说明")


def write_workbooks(con: duckdb.DuckDBPyConnection, folder: Path, *, run_id: str, as_of: str, county: str | None,
                    policy: dict, warnings: list[str] | None = None, checks: Mapping[str, Check] | None = None) -> list[Path]:
    """Write `folder/<乡镇>.xlsx` for each township with findings and `folder/全县.xlsx`; return their paths.

    `warnings` (see `override_warnings`) open every book's summary and answer sheets. `checks`: the
    catalogue entries of the codes the findings carry, in sheet order (the county catalogue when not given;
    a province's cross-county checks give their own, province/publish.py).
    """
    warnings = [cell_text(mask_text(line)) for line in warnings or []]
    made = dt.datetime.now(dt.timezone.utc)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    findings = read_findings(con)
    resolved = read_resolved(con)
    reviews = read_reviews(con)
    outcomes = read_outcome_summary(con)
    prevented = prevented_summary(con)
    townships = sorted({row["township"] for row in findings if row["township"]})
    checks = BY_CODE if checks is None else checks
    lines = _Lines(policy.get("identity"), checks)
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
            made=made,
            lines=lines,
            checks=checks,
        )
        paths.append(path)
    county_path = folder / f"{COUNTY_BOOK}.xlsx"
    write_workbook(county_path, findings, resolved, reviews, meta=(county, run_id, as_of, COUNTY_BOOK), policy=policy,
                   county_book=True, warnings=warnings, made=made, outcomes=outcomes, lines=lines, prevented=prevented,
                   checks=checks)
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


# What a source row says about its person, as read_reviews selects it: (field, stg column for the person on
# the row, stg column for the household head on it (None: the row says nothing of the head's), type).
ROW_FIELDS = (
    ("name", "name", "head_name", "varchar"),
    ("id_number_raw", "id_number_raw", "head_id_number_raw", "varchar"),
    ("township", "township", "township", "varchar"),
    ("row_village", "village", "village", "varchar"),
    ("row_sex", "sex", None, "varchar"),
    ("row_birth_date", "birth_date", None, "date"),
    ("row_age_at_death", "age_at_death", None, "integer"),
    ("row_death_date", "death_date", None, "date"),
    ("row_address", "address", None, "varchar"),
    ("row_household_no", "household_no", None, "varchar"),
)
PERSON_FIELDS = (
    ("name", "varchar"), ("id_number", "varchar"), ("sex", "varchar"), ("birth_date", "date"), ("household_no", "varchar"),
    ("township", "varchar"), ("village", "varchar"), ("person_status", "varchar"), ("status_date", "date"),
    ("in_register", "boolean"),
)
REVIEW_FIELDS = (("match_probability", "double"), ("confidence", "double"), ("decision", "varchar"), ("explanation", "varchar"))


def read_reviews(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """link.review: a line per candidate of each uncertain source row, with what the row and the candidate say.

    Each line holds the source row as its extract wrote it (name, raw number,
    township, and for the person on the row sex, birth date, age at death,
    death date, address, 户号: `row_*`) and the candidate as link.person
    holds them (`person_*`), the candidate's share of the row's posterior
    (`confidence`), its rank among the row's candidates (1 = the best) and
    their number. A row's township is its own (stg), else its best
    candidate's, so a row's candidates stay together in one township's book.
    Columns a database lacks read as null.
    """
    review_columns = set(table_columns(con, "link", "review"))
    if not {"source", "source_row", "role", "person_id"} <= review_columns:
        return []

    def column_or_null(columns: set[str], name: str | None, kind: str, alias: str, table: str) -> str:
        return f"cast({table}.{name} as {kind}) as {alias}" if name in columns else f"cast(null as {kind}) as {alias}"

    parts = []
    for source, role in con.execute("select distinct source, role from link.review order by 1, 2").fetchall():
        if not (source and IDENTIFIER.fullmatch(source) and role and IDENTIFIER.fullmatch(role)):
            continue
        columns = set(table_columns(con, "stg", source))
        if "source_row" not in columns:
            continue
        fields = ", ".join(
            column_or_null(columns, head if role == "head" else subject, kind, alias, "rows")
            for alias, subject, head, kind in ROW_FIELDS
        )
        parts.append(f"select '{source}' as source, '{role}' as role, rows.source_row, {fields} from stg.{source} as rows")
    if not parts:
        fields = ", ".join(f"cast(null as {kind}) as {alias}" for alias, _, _, kind in ROW_FIELDS)
        parts.append(f"select null::varchar as source, null::varchar as role, null::integer as source_row, {fields} where false")
    person_columns = set(table_columns(con, "link", "person"))
    if person_columns:
        fields = ", ".join(column_or_null(person_columns, name, kind, name, "persons") for name, kind in PERSON_FIELDS)
        person = f"(select persons.person_id, {fields} from link.person as persons)"
    else:
        fields = ", ".join(f"cast(null as {kind}) as {name}" for name, kind in PERSON_FIELDS)
        person = f"(select null::varchar as person_id, {fields} where false)"
    review_fields = ", ".join(column_or_null(review_columns, name, kind, name, "review") for name, kind in REVIEW_FIELDS)
    candidates = "partition by review.source, review.source_row, review.role"
    by_share = f"{candidates} order by review.confidence desc nulls last, review.person_id"
    return records(
        con,
        f"""
        with source_rows as (
            {" union all ".join(parts)}
        ),
        review as (
            select review.source, review.source_row, review.role, review.person_id, {review_fields}
            from link.review as review
        )
        select
            review.source, review.source_row, review.role, review.person_id, review.match_probability,
            review.confidence, review.decision, review.explanation,
            row_number() over ({by_share}) as candidate_rank,
            count(*) over ({candidates}) as candidate_count,
            source_rows.name, source_rows.id_number_raw,
            coalesce(source_rows.township, first_value(person.township) over ({by_share})) as township,
            source_rows.row_village, source_rows.row_sex, year(source_rows.row_birth_date) as row_birth_year,
            source_rows.row_age_at_death, source_rows.row_death_date, source_rows.row_address, source_rows.row_household_no,
            person.name as person_name, person.id_number as person_id_number, person.sex as person_sex,
            year(person.birth_date) as person_birth_year, person.household_no as person_household_no,
            person.township as person_township, person.village as person_village,
            person.person_status, person.status_date as person_status_date, person.in_register as person_in_register
        from review
        left join source_rows
            on review.source = source_rows.source
            and review.source_row = source_rows.source_row
            and review.role = source_rows.role
        left join {person} as person
            on review.person_id = person.person_id
        order by review.source, review.source_row, review.role, candidate_rank
        """,
    )


def review_rows(reviews) -> set[tuple]:
    """The source rows among `reviews` (each listed with one or more candidates)."""
    return {(row["source"], row["source_row"], row["role"]) for row in reviews}


# ---------------------------------------------------------------------------------------------- writing


class _Formats:
    """The workbook's cell formats, by column kind."""

    def __init__(self, book: xlsxwriter.Workbook):
        base = {"border": 1, "border_color": "#BFBFBF", "valign": "top", "font_size": FONT_SIZE}
        self.header = book.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True,
                                       "valign": "vcenter", "align": "center"})
        self.input_header = book.add_format({**base, "bold": True, "bg_color": "#FFD966", "text_wrap": True,
                                             "valign": "vcenter", "align": "center"})
        self.kinds = {
            "text": book.add_format({**base, "text_wrap": True}),
            "amount": book.add_format({**base, "num_format": "0.00"}),
            "amount_input": book.add_format({**base, "num_format": "0.00", "bg_color": "#FFF2CC", "locked": False}),
            "rate": book.add_format({**base, "num_format": "0.0%", "align": "right"}),
            "integer": book.add_format({**base, "num_format": "0"}),
            "choice": book.add_format({**base, "bg_color": "#FFF2CC", "locked": False}),
            "input": book.add_format({**base, "bg_color": "#FFF2CC", "text_wrap": True, "locked": False}),
            "key": book.add_format({**base, "font_color": "#7F7F7F"}),
        }
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"bold": True, "font_size": 11})
        self.note = book.add_format({"font_size": FONT_SIZE, "text_wrap": True, "valign": "top"})
        self.warning = book.add_format({"bold": True, "font_size": 11, "font_color": "#C00000", "text_wrap": True,
                                        "valign": "top"})
        self.link = book.add_format({**base, "font_color": "#0563C1", "underline": 1, "text_wrap": True})
        self.total = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.total_amount = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00"})
        self.total_rate = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.0%",
                                           "align": "right"})


# ---------------------------------------------------------------------------------------------- layout


def display_width(text: str) -> int:
    """Width of `text` in characters of a column: CJK and other wide characters count 2, the rest 1.

    East Asian "ambiguous" characters (…, —, →, “) count 2: the CJK fonts cells fall back to draw them wide.
    """
    if text.isascii():
        return len(text)
    return sum(map(character_width, text))


@functools.cache  # keyed by one character: bounded by the characters extracts use
def character_width(character: str) -> int:
    """2 for a wide character (East Asian wide, full-width or ambiguous), else 1."""
    return 2 if unicodedata.east_asian_width(character) in "WFA" else 1


def _wrap_units(paragraph: str) -> list[tuple[str, int]]:
    """A paragraph cut where a line may break, each piece with its display width.

    Breaks fall after each CJK character, at spaces, between words. A run of narrow characters
    (a number, 2025-09, DB00100004) does not break; punctuation that may not start a line stays
    with the character before it, an opening bracket with the one after.
    """
    units: list[tuple[str, int]] = []
    glue_next = False
    previous_in_word = False  # the character before is narrow and not a space: a narrow one joins it
    for character in paragraph:
        size = character_width(character)
        in_word = size == 1 and not character.isspace()
        if units and (glue_next or character in NO_LINE_START or (in_word and previous_in_word)):
            unit, unit_size = units[-1]
            units[-1] = (unit + character, unit_size + size)
        else:
            units.append((character, size))
        glue_next = character in NO_LINE_END
        previous_in_word = in_word
    return units


def text_lines(text: str, width: float) -> int:
    """Lines `text` takes in a wrapping cell `width` characters wide (1 for empty text).

    Each paragraph fills lines greedily with `_wrap_units`, as Excel and LibreOffice wrap; a unit
    longer than a line is broken across lines. A line holds `width` characters: the column's 5 pixels
    of padding are the cell's margins, and a CJK character (13.3 pixels at 10 pt) counted as two
    7-pixel characters leaves a twentieth of each line to spare. A paragraph no wider than a line
    is one line whatever its units, so most cells are counted without cutting them.
    """
    capacity = max(1, int(width))
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        if display_width(paragraph) <= capacity:
            continue
        used = 0
        for unit, size in _wrap_units(paragraph):
            if used + size <= capacity:
                used += size
                continue
            if unit.isspace():  # a space where a line breaks takes no room
                continue
            if used:
                lines += 1
            full, used = divmod(size, capacity)
            if used == 0:  # the unit ends exactly at the end of a line
                full, used = full - 1, capacity
            lines += full
    return lines


def row_points(texts: Sequence[str], widths: Sequence[float], *, lines_at_least: int = 1) -> float:
    """The height a row needs (points) for its texts, each wrapped in its column's width."""
    lines = max([lines_at_least, *(text_lines(text, width) for text, width in zip(texts, widths) if text)])
    return min(MAX_ROW_POINTS, lines * LINE_POINTS + ROW_PADDING_POINTS)


def column_points(width: float) -> float:
    """Printed width (points, at 100%) of a column `width` characters wide, as Excel sizes columns.

    Excel stores a width in characters of the default font (Calibri 11: 7 pixels a digit, plus 5 of
    padding); a pixel is 3/4 point.
    """
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return pixels * 0.75


def fit_columns(columns: Sequence[Column], *, rest_at_least: float = EVIDENCE_MIN_WIDTH) -> tuple[Column, ...]:
    """`columns` with the width left open (None) set so the printed columns fill a page at PRINT_SCALE."""
    page = PRINTABLE_POINTS / PRINT_SCALE
    taken = sum(column_points(column.width) for column in columns if column.printed and column.width is not None)
    open_columns = [column for column in columns if column.width is None]
    if not open_columns:
        return tuple(columns)
    rest = max(rest_at_least, ((page - taken) / len(open_columns) - 5 * 0.75) / (7 * 0.75))
    return tuple(column._replace(width=float(int(rest))) if column.width is None else column for column in columns)


def print_scale(columns: Sequence[Column]) -> float:
    """The scale that fits the printed columns one page wide (at most 1)."""
    width = sum(column_points(column.width) for column in columns if column.printed)
    return min(1.0, PRINTABLE_POINTS / width)


def _page_text(text: str) -> str:
    """Text for a printed page's header: `&` doubled (Excel reads `&x` as a field code), cut short."""
    return cell_text(text)[:PRINT_HEADER_MAX].replace("&", "&&")


def _print_setup(sheet, columns: Sequence[Column], *, last_row: int, repeat: tuple[int, int], title: str,
                 as_of: str, page_note: str | None = None) -> None:
    """A4 landscape, margins, title and page numbers, the printed columns one page wide at ≥ 8 pt type.

    Printed columns come first (`Column.printed`); the print area stops after them, so the
    machine columns at the right stay on screen. `repeat`: the first and last rows printed at
    the top of every page (the header, and the warning banner above it). `page_note`: the page
    header's right side, `数据截至 <as_of>` unless given.
    """
    printed = [index for index, column in enumerate(columns) if column.printed]
    if printed != list(range(len(printed))):
        raise ValueError(f"printed columns must come first: {[column.header for column in columns]}")
    sheet.set_landscape()
    sheet.set_paper(PAPER_A4)
    sheet.set_margins(**MARGINS)
    note = page_note if page_note is not None else f"数据截至 {as_of}"
    sheet.set_header(f"&L{_page_text(title)}&R{_page_text(note)}", {"margin": HEADER_MARGIN})
    sheet.set_footer("&C第 &P 页，共 &N 页", {"margin": HEADER_MARGIN})
    sheet.repeat_rows(*repeat)
    sheet.print_area(0, 0, max(last_row, repeat[1]), len(printed) - 1)
    scale = print_scale(columns)
    if scale >= 1:
        sheet.set_print_scale(100)
    elif scale * FONT_SIZE >= MIN_PRINTED_SIZE:
        sheet.fit_to_pages(1, 0)
    else:  # wider than a page even at the smallest legible type: the rest prints on pages of its own
        sheet.set_print_scale(int(100 * MIN_PRINTED_SIZE / FONT_SIZE))


# ---------------------------------------------------------------------------------------------- writing


def _cell_value(value: object, kind: str) -> tuple[object, str]:
    """(what the cell holds, the text it shows): numbers stay numbers, text is made fit for a cell."""
    if value is None or value == "":
        return None, ""
    if kind in ("amount", "amount_input"):
        number = round(float(value), 2)
        return number, f"{number:.2f}"
    if kind == "rate" and isinstance(value, (int, float)):
        return float(value), percent_text(value)
    if kind == "integer":
        return int(value), str(int(value))
    if kind == "key":
        text = cell_text(value)  # the import key is not masked
        return text, text
    text = _shown(value)
    return text, text


BLANK_CELL = (None, "")  # the cell of a header a line has no value for


class _Line:
    """A row of a table, by header: each cell as `_cell_value` gives it, the row's own drop-downs, its height.

    The height (its texts wrapped) is worked out once per layout of columns, however many books
    show the line.
    """

    __slots__ = ("cells", "choices", "_points")

    def __init__(self, values: dict[str, object], kinds: dict[str, str], choices: dict[str, tuple[str, ...]] | None = None):
        self.cells = {header: _cell_value(value, kinds[header]) for header, value in values.items()}
        self.choices = choices or {}  # where they differ from the column's (CHOICES)
        self._points: dict[tuple[tuple[str, float], ...], float] = {}

    def points(self, layout: tuple[tuple[str, float], ...]) -> float:
        """The row's height (points): its texts wrapped in the columns of `layout`, (header, width) each."""
        points = self._points.get(layout)
        if points is None:
            texts = [self.cells.get(header, BLANK_CELL)[1] for header, _ in layout]
            points = self._points[layout] = row_points(texts, [width for _, width in layout])
        return points


def _table_lines(columns: Sequence[Column], rows: Sequence[tuple]) -> list[_Line]:
    """Rows given as tuples in the order of `columns` (a summary's table) as lines."""
    kinds = {column.header: column.kind for column in columns}
    headers = [column.header for column in columns]
    return [_Line(dict(zip(headers, values)), kinds) for values in rows]


def _write_table(sheet, first_row: int, columns: Sequence[Column], lines: Sequence[_Line], formats: _Formats, *,
                 validate: bool = True, widths: Sequence[float] | None = None) -> int:
    """Header at first_row, then a row per line, each as tall as its wrapped text; drop-downs on choice columns.

    `widths` (characters) are the columns' widths when the table sits in another table's columns;
    otherwise the columns' own widths are set. A line's `choices` give its own drop-down where it
    differs from its column's (CHOICES). Returns the last row written.
    """
    if widths is None:
        widths = [column.width for column in columns]
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
    for col, column in enumerate(columns):
        header_format = formats.input_header if column.kind in ("choice", "input", "amount_input") else formats.header
        sheet.write_string(first_row, col, column.header, header_format)
    sheet.set_row(first_row, row_points([column.header for column in columns], widths, lines_at_least=2))
    headers = [column.header for column in columns]
    cell_formats = [formats.kinds[column.kind] for column in columns]
    layout = tuple(zip(headers, widths))
    for row, line in enumerate(lines, start=first_row + 1):
        values = line.cells
        for col, header in enumerate(headers):
            value = values.get(header, BLANK_CELL)[0]
            if value is None:
                sheet.write_blank(row, col, None, cell_formats[col])
            elif isinstance(value, (int, float)):
                sheet.write_number(row, col, value, cell_formats[col])
            else:
                sheet.write_string(row, col, value, cell_formats[col])
        sheet.set_row(row, line.points(layout))
    last_row = first_row + len(lines)
    if validate and lines:
        choices = [line.choices for line in lines]
        for col, column in enumerate(columns):
            if column.kind == "choice":
                for options, (first, last), cells in _choice_ranges(column.header, first_row + 1, col, len(lines), choices):
                    sheet.data_validation(first, col, last, col, {
                        "validate": "list",
                        "source": list(options),
                        "input_title": column.header,
                        "input_message": "请选择：" + "／".join(options),
                        "error_title": column.header,
                        "error_message": f"{column.header}只能是：" + "、".join(options),
                        "error_type": "stop",
                        **({"multi_range": cells} if cells else {}),
                    })
            elif column.kind == "amount_input":
                sheet.data_validation(first_row + 1, col, last_row, col, {
                    "validate": "decimal",
                    "criteria": ">=",
                    "value": 0,
                    "input_title": column.header,
                    "input_message": "至今已追回的累计金额（元），不超过应追回金额；未追回请留空",
                    "error_title": column.header,
                    "error_message": f"{column.header}须为不小于 0 的金额（元）",
                    "error_type": "stop",
                })
    return last_row


def _choice_ranges(header: str, first_row: int, col: int, count: int,
                   choices: Sequence[dict[str, tuple[str, ...]]] | None) -> list[tuple[tuple[str, ...], tuple[int, int], str]]:
    """Per drop-down list of a column: (options, its first run of rows, all its runs as a multi_range or "").

    A column whose rows all offer its own list (CHOICES) is one run, as a table without `choices` has it.
    """
    runs: dict[tuple[str, ...], list[list[int]]] = {}
    for offset in range(count):
        options = ((choices[offset] if choices else {}) or {}).get(header, CHOICES[header])
        row_runs = runs.setdefault(options, [])
        if row_runs and row_runs[-1][1] == first_row + offset - 1:
            row_runs[-1][1] = first_row + offset
        else:
            row_runs.append([first_row + offset, first_row + offset])
    found = []
    for options, row_runs in runs.items():
        letter = get_column_letter(col + 1)
        cells = " ".join(f"{letter}{a + 1}:{letter}{b + 1}" if a != b else f"{letter}{a + 1}" for a, b in row_runs)
        found.append((options, tuple(row_runs[0]), cells if len(row_runs) > 1 else ""))
    return found


def _answer_sheet(book, name: str, columns: Sequence[Column], lines: list[_Line], formats: _Formats,
                  warnings: Sequence[str], *, title: str, as_of: str, page_note: str | None = None) -> None:
    """A sheet inspectors answer on: the warnings in one banner row when there are any, then the table.

    Header frozen and filtered; printed with the header (and banner) on every page.
    """
    headers = {column.header for column in columns}
    for line in lines:
        unknown = set(line.cells) - headers
        if unknown:
            raise ValueError(f"sheet {name}: no column for {sorted(unknown)}")
    sheet = book.add_worksheet(name)
    header_row = 0
    if warnings:  # one row, so the header stays within the rows the feedback reader searches
        banner = cell_text(" ".join(warnings))
        printed_width = sum(column.width for column in columns if column.printed)
        sheet.merge_range(0, 0, 0, sum(1 for column in columns if column.printed) - 1, banner, formats.warning)
        sheet.set_row(0, row_points([banner], [printed_width]) * 11 / FONT_SIZE)
        header_row = 1
    last_row = _write_table(sheet, header_row, columns, lines, formats)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.autofilter(header_row, 0, last_row, len(columns) - 1)
    _print_setup(sheet, columns, last_row=last_row, repeat=(0, header_row), title=title, as_of=as_of, page_note=page_note)


def _month(value) -> str:
    return f"{value:%Y-%m}" if value is not None else ""


def _check_name(code: str, checks: Mapping[str, Check] = BY_CODE) -> str:
    return checks[code].name_zh if code in checks else code


def _finding_values(row: dict, identity: dict | None) -> dict:
    """A finding as its row shows it, by header: evidence in the inspector's words, a band for the link."""
    return {
        "状态": STATUS_LABELS.get(row["status"], row["status"]),
        "乡镇": row["township"],
        "村": row["village"],
        "姓名": row["name"],
        "身份证号": mask_id_number(row["id_number"]),
        "证号": shown_case_numbers(row["case_no"]),
        "起始月份": _month(row["period_start"]),
        "截止月份": _month(row["period_end"]),
        "应追回金额": row["overpaid_amount"],
        "应补发金额": row["backpay_amount"],
        CONFIDENCE_HEADER: confidence_band(row["link_confidence"], identity),
        EVIDENCE_HEADER: evidence_in_words(row["evidence"], identity),  # masked as every text cell is
        "上次核查结论": row["previous_conclusion"],
        "上次核查说明": row["previous_note"],
        CASE_KEY_HEADER: row["case_key"],
    }


def _confirm_finding_values(row: dict, identity: dict | None, checks: Mapping[str, Check] = BY_CODE) -> dict:
    return {"类别": KIND_FINDING, "检查项目": _check_name(row["check_code"], checks), **_finding_values(row, identity)}


def _place(*parts: object) -> str:
    """Township and village as one place (城关镇西关村), each once."""
    text = ""
    for part in parts:
        if part and str(part) not in text:
            text += str(part)
    return text


def _confirm_row_values(row: dict, identity: dict | None) -> dict:
    """A source row's own line in its block: what its extract wrote, and how to answer for it.

    Several candidates: keyed `source:row:` and answered 都不是 when none of them is the one.
    One candidate: no key (its candidate's line takes 是同一人 / 不是同一人).
    """
    source = row["source"]
    title = BY_STEM[source].title if source in BY_STEM else source
    count = row["candidate_count"] or 1
    if row["row_birth_year"] is not None:
        born = str(row["row_birth_year"])
    elif row["row_age_at_death"] is not None:
        born = f"死亡时{row['row_age_at_death']}岁"  # a cremation record gives the age (often 虚岁), not the birth
    else:
        born = None
    if count > 1:
        how = (f"共 {count} 名候选人，按同一人概率从高到低列在下面：是其中一人的，在该候选人行选“{LINK_ANSWERS[0]}”"
               f"（只能选一人）；都不是的，在本行选“{NONE_OF_THEM}”")
    else:
        how = f"1 名候选人，列在下面：在候选人行选“{LINK_ANSWERS[0]}”或“{LINK_ANSWERS[1]}”"
    return {
        "类别": title,
        "乡镇": row["township"],
        "姓名": row["name"],
        "身份证号": mask_id_number(row["id_number_raw"]),
        "性别": SEX_LABELS.get(row["row_sex"], row["row_sex"]),
        "出生年份": born,
        "户号": row["row_household_no"],
        "户籍地": row["row_address"] or _place(row["township"] if row["row_village"] else None, row["row_village"]),
        "人员状态": f"死亡 {row['row_death_date']:%Y-%m-%d}" if row["row_death_date"] is not None else None,
        EVIDENCE_HEADER: how,
        "来源": title,
        "行号": row["source_row"],
        LINK_KEY_HEADER: f"{source}:{row['source_row']}:" if count > 1 else None,
    }


def _confirm_candidate_values(row: dict, identity: dict | None) -> dict:
    """A candidate's line: the register's view of the person, the row's share of posterior on them, what agrees and not."""
    source = row["source"]
    decision = DECISION_LABELS.get(row["decision"], row["decision"])
    explanation = "；".join(part for part in (decision, evidence_in_words(row["explanation"], identity)) if part)
    if row["person_status"] in PERSON_STATUS_LABELS:
        status = PERSON_STATUS_LABELS[row["person_status"]]
        if row["person_status"] != "normal" and row["person_status_date"] is not None:
            status += f" {row['person_status_date']:%Y-%m-%d}"
    else:
        status = NOT_IN_REGISTER if row["person_in_register"] is False else None
    return {
        "类别": f"{KIND_CANDIDATE}{row['candidate_rank']}",
        "乡镇": row["township"],
        "姓名": row["name"],
        "身份证号": mask_id_number(row["id_number_raw"]),
        "来源": BY_STEM[source].title if source in BY_STEM else source,
        "行号": row["source_row"],
        "候选人姓名": row["person_name"],
        "候选人身份证号": mask_id_number(row["person_id_number"]),
        "性别": SEX_LABELS.get(row["person_sex"], row["person_sex"]),
        "出生年份": str(row["person_birth_year"]) if row["person_birth_year"] is not None else None,
        "户号": row["person_household_no"],
        "户籍地": _place(row["person_township"], row["person_village"]),
        "人员状态": status,
        "同一人概率": percent_text(round(row["confidence"], 3)) if row["confidence"] is not None else None,
        CONFIDENCE_HEADER: confidence_band(row["confidence"], identity),
        EVIDENCE_HEADER: explanation,
        LINK_KEY_HEADER: f"{source}:{row['source_row']}:{row['person_id'] or ''}",
    }


def _confirm_choices(line: dict) -> dict[str, tuple[str, ...]]:
    """The drop-down of a 待确认 line: 都不是 on the own line of a row with several candidates, else the column's."""
    key = line.get(LINK_KEY_HEADER)
    return {LINK_DECISION_HEADER: ROW_ANSWERS} if key and key.endswith(":") else {}


def _answer_kinds(*tables: Sequence[Column]) -> dict[str, str]:
    """Each answer-sheet header's cell kind; a header means one kind on every sheet, or lines could not be shared."""
    kinds: dict[str, str] = {}
    for column in (column for table in tables for column in table):
        if kinds.setdefault(column.header, column.kind) != column.kind:
            raise ValueError(f"column {column.header} is {kinds[column.header]} on one sheet, {column.kind} on another")
    return kinds


ANSWER_KINDS = _answer_kinds(FINDING_COLUMNS, (RECOVERED_COLUMN,), CONFIRM_COLUMNS)


class _Lines:
    """The answer sheets' lines of one run, each made the first time a book shows its finding or review row.

    Rows are told apart by identity (the dicts `read_findings` and `read_reviews` return, which a
    township's book shares with the county's); each is kept with its line, so its id stays its own.
    """

    def __init__(self, identity: dict | None, checks: Mapping[str, Check] = BY_CODE):
        self.identity = identity
        self.checks = checks
        self._made: dict[tuple[str, int], tuple[dict, list[_Line]]] = {}

    def _lines(self, kind: str, row: dict, make) -> list[_Line]:
        made = self._made.get((kind, id(row)))
        if made is None:
            made = self._made[(kind, id(row))] = (row, make(row))
        return made[1]

    def finding(self, row: dict) -> _Line:
        """A finding's line on its check's sheet."""
        return self._lines("finding", row, lambda row: [_Line(_finding_values(row, self.identity), ANSWER_KINDS)])[0]

    def confirm_finding(self, row: dict) -> _Line:
        """A finding's line on 待确认 (its identity link is uncertain)."""
        return self._lines("confirm", row, lambda row: [
            _Line(_confirm_finding_values(row, self.identity, self.checks), ANSWER_KINDS)])[0]

    def links(self, row: dict) -> list[_Line]:
        """An uncertain link's lines on 待确认: the source row's own line before its best candidate, then the candidate's."""
        def make(row: dict) -> list[_Line]:
            shown = [_confirm_candidate_values(row, self.identity)]
            if row["candidate_rank"] == 1:
                shown.insert(0, _confirm_row_values(row, self.identity))
            return [_Line(values, ANSWER_KINDS, _confirm_choices(values)) for values in shown]

        return self._lines("links", row, make)


def _ordered_codes(codes: set[str], checks: Mapping[str, Check] = BY_CODE) -> list[str]:
    known = [code for code in checks if code in codes]
    return known + sorted(codes - set(known))


def _sheet_name_cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units (Excel counts a CJK extension B character twice)."""
    while len(text.encode("utf-16-le", "surrogatepass")) > 2 * limit:
        text = text[:-1]
    return text


def _sheet_names(codes: list[str], checks: Mapping[str, Check] = BY_CODE) -> dict[str, str]:
    """A valid, unique sheet name per check: its Chinese name cleaned and cut to 31 characters.

    Excel compares sheet names without case and refuses []:*?/\\, a leading or trailing apostrophe,
    names over 31 characters and "History".
    """
    taken = {name.lower() for name in (SUMMARY_SHEET, OUTCOME_SHEET, CONFIRM_SHEET, META_SHEET, *RESERVED_SHEET_NAMES)}
    names = {}
    for code in codes:
        cleaned = SHEET_NAME_FORBIDDEN.sub("_", _shown(_check_name(code, checks))).strip("'") or "检查项目"
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
                   warnings: Sequence[str] = (), made: dt.datetime | None = None, outcomes: list[dict] | None = None,
                   lines: _Lines | None = None, prevented: list[dict] | None = None,
                   checks: Mapping[str, Check] | None = None) -> Path:
    """One workbook for one township (or, with county_book, the county) from rows already read and sorted.

    The county book adds a table by township and the 核查成效 sheet (`outcomes`, as `read_outcome_summary`
    gives them; None: none yet) with the payments screens stopped below it (`prevented`, as `prevented_summary`
    gives them); a township called 全县 still gets a township's book.
    `warnings` open the summary and the answer sheets. `made` (UTC) is when: the summary says it on the
    county's clock, and it is the file's creation time, so the books of a run carry one time and the same
    rows and moment give the same file.
    `lines`: the run's answer-sheet lines, shared by the books of one run. `checks`: as write_workbooks'.
    """
    county, run_id, as_of, township = meta
    meta = (county, run_id, as_of, _shown(township))  # the real name, masked and fit for a cell
    checks = BY_CODE if checks is None else checks
    lines = lines or _Lines(policy.get("identity"), checks)
    shown = [row for row in findings if row["status"] != "suppressed"]
    listed = [row for row in shown if not row["needs_confirmation"]]
    to_confirm = [row for row in shown if row["needs_confirmation"]]
    codes = _ordered_codes({row["check_code"] for row in findings} | {row["check_code"] for row in resolved}, checks)
    sheet_names = _sheet_names([code for code in codes if any(row["check_code"] == code for row in listed)], checks)
    finding_columns = fit_columns(FINDING_COLUMNS)
    confirm_columns = fit_columns(CONFIRM_COLUMNS, rest_at_least=CONFIRM_EVIDENCE_MIN_WIDTH)
    recovery_columns = fit_columns(with_recovered_column(FINDING_COLUMNS))

    # in_memory: the sheets' XML is zipped from memory, not from temporary files written, read back and removed;
    # constant_memory stays off: it writes in-line strings (other sheet XML) and the summary writes its links
    # after the table below them
    book = xlsxwriter.Workbook(str(path), {"in_memory": True, "constant_memory": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    try:
        book.set_properties({"title": f"社会救助核查工作簿（{meta[3]}）", "author": "hecha",
                             "comments": cell_text(f"run {run_id}"), **({"created": made} if made else {})})
        formats = _Formats(book)
        summary = book.add_worksheet(SUMMARY_SHEET)
        _write_summary(summary, formats, findings, resolved, reviews, codes, sheet_names, meta, policy, county_book,
                       warnings=warnings, made_at=local_time_text(made, policy.get("timezone")), checks=checks)
        if county_book:
            _write_outcomes(book.add_worksheet(OUTCOME_SHEET), formats, outcomes, meta, policy, warnings=warnings,
                            prevented=prevented)

        for code, name in sheet_names.items():
            of_check = [row for row in listed if row["check_code"] == code]
            # money to recover: the inspector may record what came back (追回金额)
            columns = recovery_columns if any(row["overpaid_amount"] for row in of_check) else finding_columns
            _answer_sheet(book, name, columns, [lines.finding(row) for row in of_check], formats, warnings,
                          title=f"{meta[3]}　{_check_name(code, checks)}", as_of=as_of)

        confirm = [lines.confirm_finding(row) for row in to_confirm]
        confirm += [line for row in reviews for line in lines.links(row)]  # read_reviews sorts them by row and rank
        _answer_sheet(book, CONFIRM_SHEET, confirm_columns, confirm, formats, warnings,
                      title=f"{meta[3]}　{CONFIRM_SHEET}", as_of=as_of)

        write_meta_sheet(book, meta)
        summary.activate()
    finally:
        book.close()
    return path


META_LABELS = ("county", "run_id", "as_of", "township")


def write_meta_sheet(book: xlsxwriter.Workbook, values: Sequence[object], labels: Sequence[str] = META_LABELS) -> None:
    """The hidden `_meta` sheet the feedback import reads: a label and its value a row, from A1 (A1:B4 for META_LABELS)."""
    sheet = book.add_worksheet(META_SHEET)
    for row, (label, value) in enumerate(zip(labels, values)):
        sheet.write_string(row, 0, label)
        if value:
            sheet.write_string(row, 1, cell_text(value))
    sheet.hide()


def _write_summary(sheet, formats: _Formats, findings, resolved, reviews, codes, sheet_names, meta, policy,
                   county_book: bool, *, warnings: Sequence[str] = (), made_at: str = "",
                   checks: Mapping[str, Check] = BY_CODE) -> None:
    county, run_id, as_of, township = meta
    columns = fit_columns(SUMMARY_COLUMNS, rest_at_least=0)
    widths = [column.width for column in columns]
    last_col = len(columns) - 1

    def full_width_line(row: int, text: str, fmt, points: float = FONT_SIZE) -> None:
        _full_width_line(sheet, row, text, fmt, widths, points)

    for row, text in enumerate(warnings):
        full_width_line(row, text, formats.warning, 11)
    top = len(warnings)
    sheet.write_string(top, 0, f"社会救助数据核查工作簿　{township}", formats.title)
    made = f"　生成时间：{made_at}" if made_at else ""
    full_width_line(top + 1, f"县（区）代码：{county or '未注明'}　数据截至：{as_of}　运行编号：{run_id}{made}", formats.note)
    header_row = top + 3
    rows = []
    for code in codes:
        of_check = [row for row in findings if row["check_code"] == code]
        shown = [row for row in of_check if row["status"] != "suppressed"]
        check = checks.get(code)
        description = "\n".join(line.strip() for line in describe_check(check, policy)[1:]) if check else ""
        rows.append((
            _check_name(code, checks),
            len(shown),
            sum(1 for row in shown if row["needs_confirmation"]),
            _money(shown, "overpaid_amount"),
            _money(shown, "backpay_amount"),
            *(sum(1 for row in shown if row["status"] == status) for status in LISTED_STATUSES),
            sum(1 for row in of_check if row["status"] == "suppressed"),
            sum(1 for row in resolved if row["check_code"] == code),
            description,
        ))
    last_row = _write_table(sheet, header_row, columns, _table_lines(columns, rows), formats, validate=False)
    for offset, code in enumerate(codes, start=1):
        if code in sheet_names:  # the check's name links to its sheet
            quoted = sheet_names[code].replace("'", "''")  # an apostrophe inside a quoted sheet name is doubled
            sheet.write_url(header_row + offset, 0, f"internal:'{quoted}'!A1", formats.link,
                            string=_shown(_check_name(code, checks)), tip="打开该检查项目的工作表")
    total_row = last_row + 1
    sheet.write_string(total_row, 0, "合计", formats.total)
    for col, column in enumerate(columns[1:-1], start=1):
        value = sum(row[col] for row in rows)
        if column.kind == "amount":
            sheet.write_number(total_row, col, round(value, 2), formats.total_amount)
        else:
            sheet.write_number(total_row, col, value, formats.total)
    sheet.write_blank(total_row, last_col, None, formats.total)

    row = total_row + 2
    sheet.write_string(row, 0, f"待确认身份关联：{len(review_rows(reviews))} 条；身份关联不确定的发现："
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
                              len(review_rows(item for item in reviews if town_of(item) == town))))
        sheet.write_string(row, 0, "分乡镇", formats.subtitle)
        row = _write_table(sheet, row + 1, TOWNSHIP_COLUMNS, _table_lines(TOWNSHIP_COLUMNS, town_rows), formats,
                           validate=False, widths=widths[:len(TOWNSHIP_COLUMNS)]) + 2
    for text in guide_lines(policy):
        if text in GUIDE_HEADINGS:
            sheet.write_string(row, 0, text, formats.subtitle)
        else:
            full_width_line(row, text, formats.note)
        row += 1
    sheet.freeze_panes(header_row + 1, 0)
    _print_setup(sheet, columns, last_row=row - 1, repeat=(header_row, header_row), title=f"{township}　{SUMMARY_SHEET}",
                 as_of=as_of)


def _full_width_line(sheet, row: int, text: str, fmt, widths: Sequence[float], points: float = FONT_SIZE) -> None:
    """A line of text merged across a table's columns (`widths`), as tall as it wraps in type of `points`."""
    text = cell_text(text)
    sheet.merge_range(row, 0, row, len(widths) - 1, text, fmt)
    sheet.set_row(row, row_points([text], [sum(widths)]) * points / FONT_SIZE)


def with_recovered_column(columns: Sequence[Column]) -> tuple[Column, ...]:
    """`columns` with 追回金额 right after 核查结论: a check sheet whose findings have money to recover."""
    at = [column.header for column in columns].index(CONCLUSION_HEADER) + 1
    return (*columns[:at], RECOVERED_COLUMN, *columns[at:])


def outcome_values(row: dict) -> tuple:
    """One line of the 核查成效 table in OUTCOME_FIELDS order: the check's name, a rate not yet measured as —."""
    values = []
    for field, _ in OUTCOME_FIELDS:
        value = row.get(field)
        if field == "check_code":
            value = _check_name(value)
        elif field.endswith("_rate") and value is None:
            value = NO_RATE
        values.append(value)
    return tuple(values)


def outcome_notes(deadline_days: object) -> list[str]:
    """What the 核查成效 figures mean, under the table in the county workbook and the report."""
    deadline = f"{deadline_days} 天" if deadline_days is not None else "规定期限"
    return [
        "发现：本次运行发现的线索条数；属实、不属实、已整改：历次发现的全部线索按最新核查结论计的条数。",
        f"属实率＝属实÷（属实＋不属实），即入户核实证实的比例，不属实率同理，已整改另计；尚无这两种结论的显示“{NO_RATE}”。",
        f"超期未核查：本次仍发现、首次列出已超过 {deadline}仍没有核查结论的线索。",
        "每月已停发：核为属实或已整改后已停止发放的每月金额；已补发：漏发线索所列月份此后补发的金额；"
        f"已追回：核查人员在工作簿“{RECOVERED_HEADER}”列填报的累计金额。",
    ]


NO_OUTCOMES = "暂无核查成效：本次运行没有跟踪核查结果。"
NO_OUTCOME_CASES = "暂无核查成效：尚无问题线索。"


def _write_total_row(sheet, row: int, columns: Sequence[Column], values: Sequence[object], formats: _Formats,
                     widths: Sequence[float]) -> None:
    """A table's 合计 line: bold on grey, numbers kept numbers, as tall as its text wraps."""
    shown = []
    for col, (column, value) in enumerate(zip(columns, values)):
        value, text = _cell_value(value, column.kind)
        fmt = {"amount": formats.total_amount, "rate": formats.total_rate}.get(column.kind, formats.total)
        if isinstance(value, (int, float)):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, value or "", fmt)
        shown.append(text)
    sheet.set_row(row, row_points(shown, widths))


def prevented_values(row: dict) -> tuple:
    """One line of the 发放前拦截 table in PREVENTED_FIELDS order: a rate not yet measured as —."""
    return tuple(NO_RATE if field.endswith("_rate") and row.get(field) is None else row.get(field)
                 for field, _ in PREVENTED_FIELDS)


def prevented_notes() -> list[str]:
    """What the 发放前拦截 figures mean, under its table in the county workbook and the report."""
    return [
        "发放前拦截：发放前筛查拦截或暂缓的发放行，同一案件编号、同一发放年月只计一次（同一批次多次筛查时以最近一次为准）；"
        "属实、不属实、已整改、待核查：按拦截清单案件编号的最新核查结论计的笔数。",
        "阻止发放：拦截后核为属实或已整改的发放行金额，即因拦截而未错发的资金；暂缓的发放行待人工核实后可能补发或调整金额，不计入。",
    ]


def _write_prevented(sheet, formats: _Formats, prevented: list[dict] | None, first_row: int,
                     widths: Sequence[float]) -> int:
    """发放前拦截 from `first_row`, in the 核查成效 table's columns (`widths`): a title, a line per verdict and reason,
    合计, what the figures mean. Returns the last row written (first_row - 1: nothing, when no screen stopped a line)."""
    if not prevented:
        return first_row - 1
    columns = [column for _, column in PREVENTED_FIELDS]
    widths = list(widths[:len(columns)])
    sheet.write_string(first_row, 0, PREVENTED_TITLE, formats.subtitle)
    last_row = _write_table(sheet, first_row + 1, columns, _table_lines(columns, [prevented_values(row) for row in prevented]),
                            formats, validate=False, widths=widths)
    total = prevented_totals(prevented) | {"reason": "合计", "verdict_label": ""}
    _write_total_row(sheet, last_row + 1, columns, prevented_values(total), formats, widths)
    row = last_row + 3
    for text in prevented_notes():
        _full_width_line(sheet, row, text, formats.note, widths)
        row += 1
    return row - 1


def _write_outcomes(sheet, formats: _Formats, outcomes: list[dict] | None, meta, policy: dict, *,
                    warnings: Sequence[str] = (), prevented: list[dict] | None = None) -> None:
    """The county's 核查成效 sheet: a line per check, 合计, what the figures mean, then 发放前拦截; printed as the summary is."""
    county, run_id, as_of, township = meta
    columns = [column for _, column in OUTCOME_FIELDS]
    widths = [column.width for column in columns]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    for row, text in enumerate(warnings):
        _full_width_line(sheet, row, text, formats.warning, widths, 11)
    top = len(warnings)
    sheet.write_string(top, 0, f"{OUTCOME_SHEET}　{township}", formats.title)
    _full_width_line(sheet, top + 1, f"县（区）代码：{county or '未注明'}　数据截至：{as_of}　运行编号：{run_id}", formats.note,
                     widths)
    header_row = top + 3
    if not outcomes:
        _full_width_line(sheet, header_row, NO_OUTCOMES if outcomes is None else NO_OUTCOME_CASES, formats.subtitle, widths)
        last_row = max(header_row, _write_prevented(sheet, formats, prevented, header_row + 2, widths))
        _print_setup(sheet, columns, last_row=last_row, repeat=(top, top), title=f"{township}　{OUTCOME_SHEET}", as_of=as_of)
        return
    last_row = _write_table(sheet, header_row, columns, _table_lines(columns, [outcome_values(row) for row in outcomes]),
                            formats, validate=False)
    total_row = last_row + 1
    _write_total_row(sheet, total_row, columns, outcome_values(outcome_totals(outcomes) | {"check_code": "合计"}), formats,
                     widths)
    row = total_row + 2
    for text in outcome_notes((policy.get("outcomes") or {}).get("verdict_deadline_days")):
        _full_width_line(sheet, row, text, formats.note, widths)
        row += 1
    last_row = max(row - 1, _write_prevented(sheet, formats, prevented, row + 1, widths))
    sheet.freeze_panes(header_row + 1, 0)
    _print_setup(sheet, columns, last_row=last_row, repeat=(header_row, header_row), title=f"{township}　{OUTCOME_SHEET}",
                 as_of=as_of)


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
