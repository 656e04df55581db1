"""What a screen writes for people: the verdicts, the batch cut by verdict, the officers' 拦截清单, the summary.

What belongs here: turning `screen.line` (a verdict per line of the batch,
storage/tables.py `SCREEN_LINE`) into the files of a screen's folder, and
the figures the screen's record and the command line give. What does not:
the verdicts themselves (sql/screen/, screen/reasons.py), cutting a file
line for line (screen/cleaned.py), the inspectors' workbooks of a run, whose
look, masking and printing the 拦截清单 share (reports/workbooks.py), and
reading a filled-in 拦截清单 back (audit/feedback.py).

`write_screen_outputs` writes, into the screen's folder:

- `verdicts.csv` — `screen.line` in source_row order, UTF-8 with a BOM,
  spreadsheet-safe as exceptions.csv is; months `YYYY-MM`, amounts to the
  fen; citizen numbers unmasked (a restricted file, like exceptions.csv).
- `cleaned/<batch file>` — the lines that pass, ready for the bank; and
  `拦截/<batch file>` (blocked) and `暂缓/<batch file>` (held), so a held
  line found in order can be added back as it was written. The three are
  cut from the batch itself (screen/cleaned.py): same file type, encoding,
  header, quoting and line endings; together they hold every line of the
  batch once, in the batch's order within each. A line the loader could not
  read (in stg.quarantine) is never in the cleaned file: a verdict `pass`
  on one is refused as a screen error.
- `拦截清单/<乡镇>.xlsx` for each township with a line blocked or held, and
  `拦截清单/全县.xlsx` for all: the inspectors' workbook style (masked
  numbers, evidence through `mask_text`, A4 landscape, header repeated,
  hidden `_meta`), with a `汇总` sheet (lines, blocked / held / passed in
  lines and yuan, per reason; the county's by township too, saying which
  townships had nothing to list), then a sheet `拦截` and a sheet `暂缓`
  (only when they have lines): one line each, keyed by 案件编号 (the
  line's case_key) and answered in 核查结论 / 核查说明, so `hecha feedback
  import` records them as it records a run's workbook. Two sheets rather
  than one with a 处理意见 column: a blocked line asks the officer to
  confirm money is not paid, a held line to decide whether to pay it, and
  each prints as its own list. `_meta` holds county / the screen id (as
  run_id) / the batch month (as as_of) / township, and `kind` = `screen`.
- `summary.txt` — what `hecha screen` prints (`summary_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import xlsxwriter

from hecha.audit.feedback import CASE_KEY_HEADER, CONCLUSION_HEADER, CONCLUSIONS, NOTE_HEADER, SCREEN_KIND
from hecha.audit.history import format_table
from hecha.checks.labels import COUNTY_BOOK
from hecha.extracts.declarations import BY_STEM, PROGRAMME
from hecha.reports.exceptions import spreadsheet_safe
from hecha.reports.run_tables import confidence_band, evidence_in_words
from hecha.reports.workbooks import (
    CONFIDENCE_HEADER,
    META_LABELS,
    SUMMARY_SHEET,
    Column,
    _answer_sheet,
    _Formats,
    _full_width_line,
    _Line,
    _print_setup,
    cell_text,
    fit_columns,
    local_time_text,
    row_points,
    workbook_stem,
    write_meta_sheet,
)
from hecha.screen.cleaned import cut_batch
from hecha.screen.reasons import BY_CODE, REASONS, VERDICTS
from hecha.storage.database import records, table_columns
from hecha.storage.masking import mask_id_number, mask_text
from hecha.storage.tables import SCREEN_LINE

BATCH = BY_STEM["payments"]  # a batch is a payments extract for a coming month
VERDICTS_FILE = "verdicts.csv"
SUMMARY_FILE = "summary.txt"
CLEANED_FOLDER = "cleaned"
PART_FOLDERS = {"pass": CLEANED_FOLDER, "block": VERDICTS["block"], "hold": VERDICTS["hold"]}  # cleaned/, 拦截/, 暂缓/
BOOKS_FOLDER = "拦截清单"
LISTED = ("block", "hold")  # the verdicts an officer looks at; each has its sheet
SHEETS = {verdict: VERDICTS[verdict] for verdict in LISTED}
SCREEN_META_LABELS = (*META_LABELS, "kind")  # a run's labels, and what kind of book
NO_TOWNSHIP = "（未注明乡镇）"
PROGRAMME_LABELS = {code: label for label, code in PROGRAMME.items()}
FEN = Decimal("0.01")

VERDICT_HEADER = "处理意见"
REASON_HEADER = "原因"
BASIS_HEADER = "依据"
LINE_COLUMNS: tuple[Column, ...] = (
    Column("村/社区", 10, "text"),
    Column("姓名", 7, "text"),
    Column("身份证号", 19, "text"),  # 130534********0213 on one line
    Column("项目", 10, "text"),
    Column("证号", 20, "text"),  # a disability certificate (20 characters, masked) on one line
    Column("发放年月", 8, "text"),
    Column("金额", 9, "amount"),
    Column(REASON_HEADER, 12, "text"),
    Column(BASIS_HEADER, None, "text"),  # the evidence: the width the other printed columns leave
    Column(CONCLUSION_HEADER, 7, "choice"),
    Column(NOTE_HEADER, 16, "input"),
    # on screen only: the office's
    Column(VERDICT_HEADER, 8, "text", printed=False),
    Column("乡镇", 12, "text", printed=False),
    Column(CONFIDENCE_HEADER, 8, "text", printed=False),
    Column("批次行号", 8, "integer", printed=False),
    Column(CASE_KEY_HEADER, 18, "key", printed=False),
)
LINE_KINDS = {column.header: column.kind for column in LINE_COLUMNS}

# The 汇总 sheet's grid: the verdict and reason table takes the first four columns, the county's township
# table all ten; notes run across the ten.
SUMMARY_WIDTHS = (14, 24, 8, 12, 10, 12, 10, 12, 10, 12)  # 拦截（行） on one line
REASON_TABLE = (("处理意见", "text"), ("原因", "text"), ("行数", "integer"), ("金额（元）", "amount"))
TOWNSHIP_TABLE = (("乡镇", "text"), ("拦截清单", "text"), ("行数", "integer"), ("金额（元）", "amount"),
                  ("拦截（行）", "integer"), ("拦截（元）", "amount"), ("暂缓（行）", "integer"), ("暂缓（元）", "amount"),
                  ("通过（行）", "integer"), ("通过（元）", "amount"))
NO_BOOK = "无拦截或暂缓，未生成"
COUNTY_ONLY = "只列入全县清单"


class ScreenOutputError(ValueError):
    """screen.line does not fit the batch (a line without a verdict, an unreadable line passed); nothing is cut."""


def write_screen_outputs(con: duckdb.DuckDBPyConnection, folder: Path, *, record: dict, batch_path: Path, policy: dict,
                         encoding: str | None = None) -> dict:
    """Write verdicts.csv, the cut batch, the 拦截清单 and summary.txt into `folder`; return the screen's figures.

    `con` holds `screen.line`, and `raw.payments` / `stg.payments` /
    `stg.quarantine` of the batch as the loader read it; `record` is the
    screen's record (screen.json: screen_id, month, county, night_run,
    batch); `encoding`: the one the loader read a CSV batch in (default:
    the record's `batch.encoding`, else detected as the loader detects it). The figures are {"counts",
    "amounts", "by_reason"} as screen.json holds them (`screen_figures`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoding = encoding or (record.get("batch") or {}).get("encoding")  # what the loader read a CSV batch in
    lines = read_lines(con)
    figures = screen_figures(lines)
    write_verdicts(con, folder / VERDICTS_FILE)
    write_batch_parts(con, folder, Path(batch_path), lines, encoding=encoding)
    books = write_block_lists(folder / BOOKS_FOLDER, lines, figures, record=record, policy=policy)
    text = summary_text(record, figures, final_folder(folder, record), books=books)
    (folder / SUMMARY_FILE).write_text(text, encoding="utf-8")
    return figures


def final_folder(folder: Path, record: dict) -> Path:
    """Where the screen's folder will be once published: a `.work-<id>` folder is renamed to `<id>`."""
    screen_id = record.get("screen_id")
    if screen_id and folder.name == f".work-{screen_id}":
        return folder.parent / screen_id
    return folder


# ---------------------------------------------------------------------------------------------- reading


def read_lines(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """screen.line in source_row order, each line a dict by column."""
    return records(con, "select * from screen.line order by source_row")


def _amount(line: dict) -> Decimal:
    return Decimal(line["amount"]) if line["amount"] is not None else Decimal(0)


def _yuan(amount: Decimal) -> float:
    return float(amount.quantize(FEN))


REASON_ORDER = {reason.code: index for index, reason in enumerate(REASONS)}


def _reason_order(code: str | None) -> int:
    return REASON_ORDER.get(code, len(REASON_ORDER))


def _reason_label(code: str | None) -> str:
    return BY_CODE[code].label if code in BY_CODE else (code or "")


def screen_figures(lines: Sequence[dict]) -> dict:
    """{"counts": lines, block, hold, pass; "amounts": yuan per verdict; "by_reason": a row per verdict and reason}.

    A line counts under its verdict and its deciding reason (reason_code);
    an amount the loader could not read counts as 0 yuan. by_reason lists
    blocking reasons, then holding ones, each in screen/reasons.py's order.
    """
    counts = {"lines": len(lines), **{verdict: 0 for verdict in VERDICTS}}
    amounts = {verdict: Decimal(0) for verdict in VERDICTS}
    reasons: dict[tuple[str, str | None], list] = {}
    for line in lines:
        verdict = line["verdict"]
        counts[verdict] = counts.get(verdict, 0) + 1
        amounts[verdict] = amounts.get(verdict, Decimal(0)) + _amount(line)
        if verdict != "pass":
            tally = reasons.setdefault((verdict, line["reason_code"]), [0, Decimal(0)])
            tally[0] += 1
            tally[1] += _amount(line)
    order = list(VERDICTS)
    by_reason = [
        {"verdict": verdict, "reason_code": code, "reason": _reason_label(code), "lines": tally[0], "amount": _yuan(tally[1])}
        for (verdict, code), tally in sorted(reasons.items(), key=lambda item: (order.index(item[0][0]) if item[0][0] in order
                                                                                 else len(order), _reason_order(item[0][1]),
                                                                                 item[0][1] or ""))
    ]
    return {"counts": counts, "amounts": {verdict: _yuan(amount) for verdict, amount in amounts.items()}, "by_reason": by_reason}


# ---------------------------------------------------------------------------------------------- verdicts.csv


def write_verdicts(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """screen.line as CSV (UTF-8 with BOM), in source_row order, months `YYYY-MM`; the lines written."""
    columns = []
    for column in SCREEN_LINE.columns:
        if column.sql_type == "date":
            columns.append(f"strftime({column.name}, '%Y-%m') as {column.name}")
        elif column.sql_type.startswith("decimal"):
            columns.append(f"cast(round({column.name}, 2) as decimal(18, 2)) as {column.name}")
        else:
            columns.append(column.name)
    frame = con.sql(f"select {', '.join(columns)} from screen.line order by source_row").pl()
    spreadsheet_safe(frame).write_csv(path, include_bom=True)
    return frame.height


# ---------------------------------------------------------------------------------------------- the batch cut


def quarantined_rows(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The batch lines the loader could not read (a value sent to stg.quarantine)."""
    if not table_columns(con, "stg", "quarantine"):
        return set()
    return {row for (row,) in con.execute("select distinct source_row from stg.quarantine where source = ?", [BATCH.stem]).fetchall()}


def write_batch_parts(con: duckdb.DuckDBPyConnection, folder: Path, batch_path: Path, lines: Sequence[dict], *,
                      encoding: str | None = None) -> dict[str, Path]:
    """cleaned/, 拦截/ and 暂缓/ copies of the batch holding the lines of each verdict; their paths by verdict."""
    unread = sorted(quarantined_rows(con) & {line["source_row"] for line in lines if line["verdict"] == "pass"})
    if unread:
        raise ScreenOutputError(f"{batch_path.name}: line {unread[0]} ({len(unread)} line(s) in all) could not be read "
                                "by the loader but has the verdict pass; an unreadable line is never paid")
    unknown = sorted({str(line["verdict"]) for line in lines} - set(PART_FOLDERS))
    if unknown:
        raise ScreenOutputError(f"screen.line: verdict {unknown[0]!r} is not one of {', '.join(PART_FOLDERS)}")
    read_rows = None
    present = set(table_columns(con, "raw", BATCH.stem))
    if present:
        names = [column.name for column in BATCH.columns if column.name in present]
        read_rows = records(con, f"select {', '.join(names)} from raw.{BATCH.stem} order by source_row")
    paths = {verdict: folder / part / batch_path.name for verdict, part in PART_FOLDERS.items()}
    parts = {paths[verdict]: {line["source_row"] for line in lines if line["verdict"] == verdict} for verdict in PART_FOLDERS}
    cut_batch(batch_path, parts, extract=BATCH, read_rows=read_rows, encoding=encoding)
    return paths


# ---------------------------------------------------------------------------------------------- 拦截清单


def _line_values(line: dict, identity: dict | None) -> dict:
    """A listed line by header; text cells are masked as the sheet writes them (`_cell_value`)."""
    return {
        "村/社区": line["village"],
        "姓名": line["name"],
        "身份证号": mask_id_number(line["id_number"] or line["id_number_raw"]),
        "项目": PROGRAMME_LABELS.get(line["programme"], line["programme"]),
        "证号": line["case_no"],
        "发放年月": f"{line['paid_month']:%Y-%m}" if line["paid_month"] is not None else None,
        "金额": line["amount"],
        REASON_HEADER: line["reason"] or _reason_label(line["reason_code"]),
        BASIS_HEADER: evidence_in_words(line["evidence"], identity),
        VERDICT_HEADER: VERDICTS.get(line["verdict"], line["verdict"]),
        "乡镇": line["township"],
        CONFIDENCE_HEADER: confidence_band(line["link_confidence"], identity),
        "批次行号": line["source_row"],
        CASE_KEY_HEADER: line["case_key"],
    }


def _listing_order(line: dict) -> tuple:
    return (_reason_order(line["reason_code"]), line["township"] or "", line["village"] or "", line["source_row"])


def by_township(lines: Sequence[dict]) -> dict[str | None, list[dict]]:
    """The lines of each township (None: lines without one), each in the order given."""
    grouped: dict[str | None, list[dict]] = {}
    for line in lines:
        grouped.setdefault(line["township"] or None, []).append(line)
    return grouped


def write_block_lists(folder: Path, lines: Sequence[dict], figures: dict, *, record: dict, policy: dict) -> list[Path]:
    """`<乡镇>.xlsx` for each township with a line blocked or held, and `全县.xlsx`; their paths, the county's last.

    `figures`: `screen_figures` of all `lines`, the county's book's; each township's are worked out here once.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made = dt.datetime.now(dt.timezone.utc)
    identity = policy.get("identity")
    listed = sorted((line for line in lines if line["verdict"] in LISTED), key=_listing_order)
    shown = {line["source_row"]: _Line(_line_values(line, identity), LINE_KINDS) for line in listed}  # one line, two books
    townships = sorted({line["township"] for line in listed if line["township"]})
    stems, taken = {}, {COUNTY_BOOK.lower()}
    for township in townships:
        stem = workbook_stem(township)
        if stem.lower() in taken:  # two hashed names 8 hex digits alike: the full hash tells them apart
            stem = workbook_stem(township, hash_digits=64)
        taken.add(stem.lower())
        stems[township] = stem
    listed_of = by_township(listed)  # each line's township looked at once
    of_township = {township: screen_figures(of_town) for township, of_town in by_township(lines).items()}
    paths = []
    for township in townships:
        path = folder / f"{stems[township]}.xlsx"
        write_block_list(path, of_township[township], [shown[line["source_row"]] for line in listed_of[township]],
                         township=township, record=record, policy=policy, made=made)
        paths.append(path)
    path = folder / f"{COUNTY_BOOK}.xlsx"
    write_block_list(path, figures, [shown[line["source_row"]] for line in listed], township=COUNTY_BOOK, record=record,
                     policy=policy, made=made, book_names={township: f"{stem}.xlsx" for township, stem in stems.items()},
                     of_township=of_township)
    paths.append(path)
    return paths


def write_block_list(path: Path, figures: dict, listed: Sequence[_Line], *, township: str, record: dict, policy: dict,
                     made: dt.datetime, book_names: dict[str, str] | None = None,
                     of_township: dict[str | None, dict] | None = None) -> Path:
    """One 拦截清单: 汇总 of `figures` (`screen_figures` of all the book's batch lines), then 拦截 and 暂缓 with `listed`.

    The county's book: `book_names`, each township's book, and `of_township`, each township's figures (None: the
    lines without one), for the table by township.
    """
    screen_id = record.get("screen_id") or ""
    month = record.get("month") or ""
    shown_township = cell_text(mask_text(township))
    meta = (record.get("county"), screen_id, month, shown_township, SCREEN_KIND)
    columns = fit_columns(LINE_COLUMNS)
    book = xlsxwriter.Workbook(str(path), {"in_memory": True, "constant_memory": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    try:
        book.set_properties({"title": f"发放批次拦截清单（{shown_township}）", "author": "hecha",
                             "comments": cell_text(f"screen {screen_id}"), "created": made})
        formats = _Formats(book)
        summary = book.add_worksheet(SUMMARY_SHEET)
        _write_block_summary(summary, formats, figures, township=shown_township, record=record,
                             made_at=local_time_text(made, policy.get("timezone")), book_names=book_names,
                             of_township=of_township)
        for verdict, name in SHEETS.items():
            of_verdict = [line for line in listed if line.cells[VERDICT_HEADER][0] == VERDICTS[verdict]]
            if of_verdict:
                _answer_sheet(book, name, columns, of_verdict, formats, (), title=f"{shown_township}　{name}", as_of=month,
                              page_note=_page_note(record))
        write_meta_sheet(book, meta, SCREEN_META_LABELS)
        summary.activate()
    finally:
        book.close()
    return path


def _page_note(record: dict) -> str:
    return f"发放年月 {record.get('month') or ''}　筛查 {record.get('screen_id') or ''}"


def _tally(figures: dict) -> dict[str, tuple[int, Decimal]]:
    """Lines and yuan per verdict, and `lines` for all, from `screen_figures` (amounts to the fen, so exact)."""
    counts, amounts = figures["counts"], figures["amounts"]
    found = {verdict: (counts[verdict], Decimal(str(amounts[verdict]))) for verdict in VERDICTS}
    return {"lines": (counts["lines"], sum((amount for _, amount in found.values()), Decimal(0))), **found}


def _write_row(sheet, row: int, values: Sequence[object], kinds: Sequence[str], formats: _Formats, *, total: bool = False) -> None:
    texts = []
    for col, (value, kind) in enumerate(zip(values, kinds)):
        if kind == "amount":
            fmt = formats.total_amount if total else formats.kinds["amount"]
            sheet.write_number(row, col, _yuan(value), fmt)
            texts.append(f"{value:.2f}")
        elif kind == "integer":
            sheet.write_number(row, col, value, formats.total if total else formats.kinds["integer"])
            texts.append(str(value))
        else:
            text = cell_text(mask_text(value))
            fmt = formats.total if total else formats.kinds["text"]
            if text:
                sheet.write_string(row, col, text, fmt)
            else:
                sheet.write_blank(row, col, None, fmt)
            texts.append(text)
    sheet.set_row(row, row_points(texts, SUMMARY_WIDTHS[:len(values)]))


def _write_header(sheet, row: int, table: Sequence[tuple[str, str]], formats: _Formats) -> None:
    for col, (header, _) in enumerate(table):
        sheet.write_string(row, col, header, formats.header)
    sheet.set_row(row, row_points([header for header, _ in table], SUMMARY_WIDTHS[:len(table)], lines_at_least=2))


def _write_block_summary(sheet, formats: _Formats, figures: dict, *, township: str, record: dict, made_at: str,
                         book_names: dict[str, str] | None, of_township: dict[str | None, dict] | None) -> None:
    """The 汇总 sheet: what the batch held and what the screen did with it, per reason; by township in the county's."""
    widths = list(SUMMARY_WIDTHS)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    batch = record.get("batch") or {}
    sheet.write_string(0, 0, f"发放批次拦截清单　{township}", formats.title)
    _full_width_line(sheet, 1, f"县（区）代码：{record.get('county') or '未注明'}　发放年月：{record.get('month') or ''}　"
                               f"批次文件：{batch.get('name') or ''}　筛查编号：{record.get('screen_id') or ''}　"
                               f"核查依据：运行 {record.get('night_run') or '未注明'}" + (f"　生成时间：{made_at}" if made_at else ""),
                     formats.note, widths)
    tally = _tally(figures)
    scope = "本批次" if township == COUNTY_BOOK else f"本批次{township}"
    _full_width_line(sheet, 2, f"{scope}共 {tally['lines'][0]} 行，{tally['lines'][1]:.2f} 元；"
                     + "，".join(f"{VERDICTS[verdict]} {tally[verdict][0]} 行 {tally[verdict][1]:.2f} 元" for verdict in VERDICTS)
                     + "。", formats.subtitle, widths, 11)
    header_row = 4
    kinds = [kind for _, kind in REASON_TABLE]
    _write_header(sheet, header_row, REASON_TABLE, formats)
    row = header_row + 1
    for verdict in VERDICTS:
        count, amount = tally[verdict]
        _write_row(sheet, row, (VERDICTS[verdict], "小计" if verdict in LISTED else "", count, amount), kinds, formats,
                   total=verdict in LISTED)
        row += 1
        for item in figures["by_reason"]:
            if item["verdict"] == verdict:
                _write_row(sheet, row, ("", item["reason"], item["lines"], Decimal(str(item["amount"]))), kinds, formats)
                row += 1
    _write_row(sheet, row, ("合计", "", *tally["lines"]), kinds, formats, total=True)
    last_row = row
    row += 2
    if book_names is not None and of_township is not None:
        sheet.write_string(row, 0, "分乡镇", formats.subtitle)
        row += 1
        _write_header(sheet, row, TOWNSHIP_TABLE, formats)
        row += 1
        towns = sorted(town for town in of_township if town is not None)
        if None in of_township:
            towns.append(None)
        kinds = [kind for _, kind in TOWNSHIP_TABLE]
        for town in towns:
            of_town = _tally(of_township[town])
            if town is None:
                book = COUNTY_ONLY if of_town["block"][0] or of_town["hold"][0] else NO_BOOK
            else:
                book = book_names.get(town, NO_BOOK)
            _write_row(sheet, row, (town or NO_TOWNSHIP, book, *of_town["lines"], *of_town["block"], *of_town["hold"],
                                    *of_town["pass"]), kinds, formats)
            row += 1
        last_row = row - 1
        row += 1
        without = [town for town in towns if town is not None and town not in book_names]
        _full_width_line(sheet, row, f"无拦截或暂缓的乡镇（{len(without)} 个，未生成拦截清单）：{'、'.join(without) or '无'}",
                         formats.note, widths)
        row += 2
    for text in guide_lines():
        if text in ("填写说明",):
            sheet.write_string(row, 0, text, formats.subtitle)
        else:
            _full_width_line(sheet, row, text, formats.note, widths)
        row += 1
    sheet.freeze_panes(header_row + 1, 0)
    grid = tuple(Column("", width, "text") for width in widths)
    _print_setup(sheet, grid, last_row=max(last_row, row - 1), repeat=(header_row, header_row), title=f"{township}　{SUMMARY_SHEET}",
                 as_of=record.get("month") or "", page_note=_page_note(record))


def guide_lines() -> list[str]:
    """How an officer reads and answers a 拦截清单."""
    block, hold = VERDICTS["block"], VERDICTS["hold"]
    true, not_true, fixed = CONCLUSIONS
    return [
        "填写说明",
        f"1. “{block}”工作表：按本县数据不应发放的行，已从发放文件中移除（通过的行见 {CLEANED_FOLDER}/ 文件夹，"
        f"拦截的行见 {block}/ 文件夹）。核实后在“{CONCLUSION_HEADER}”列选择：{true}（确不应发放）／{not_true}"
        f"（应当发放，请按程序补发）／{fixed}（已按规定处理），在“{NOTE_HEADER}”列写明核实情况。",
        f"2. “{hold}”工作表：需要先核实再决定是否发放的行，也未列入发放文件，原样保存在 {hold}/ 文件夹的同名文件中。"
        f"核实可以发放的，选“{not_true}”，并把该行从 {hold}/ 文件加回发放批次；确有问题的选“{true}”。",
        f"3. “{REASON_HEADER}”列出该行的全部问题，“{BASIS_HEADER}”是判断所依据的户籍、名册和发放记录；"
        f"“{CONFIDENCE_HEADER}”是发放行与户籍人员关联的可信度。",
        f"4. 请勿修改“{CASE_KEY_HEADER}”列，不要增删工作表；可以排序、筛选，可用 Excel 或 WPS 保存后交回，"
        "用 hecha feedback import 导入。",
        "5. 身份证号已隐去中间 8 位；完整号码见筛查结果文件 verdicts.csv（限授权人员）。",
        f"6. 打印：每个工作表横向 A4，每页重复表头，只打印核实需要的列（至“{NOTE_HEADER}”为止）。",
    ]


# ---------------------------------------------------------------------------------------------- summary.txt


def summary_text(record: dict, figures: dict, folder: Path, *, books: Sequence[Path] = ()) -> str:
    """What `hecha screen` prints: the batch, blocked / held / passed, per reason, where the files are."""
    batch = record.get("batch") or {}
    counts, amounts = figures["counts"], figures["amounts"]
    total = sum(Decimal(str(amounts.get(verdict, 0))) for verdict in VERDICTS)
    lines = [f"batch: {batch.get('name') or ''} ({record.get('month') or ''}): {counts['lines']} lines, {total:.2f} yuan; "
             f"screened against run {record.get('night_run') or '(none)'}"]
    names = {"block": "blocked", "hold": "held", "pass": "passed"}
    lines += format_table(["", "", "lines", "yuan"],
                          [[names[verdict], VERDICTS[verdict], str(counts.get(verdict, 0)), f"{amounts.get(verdict, 0):.2f}"]
                           for verdict in VERDICTS], right=(2, 3))[1:]
    if figures["by_reason"]:
        lines.append("per reason:")
        rows = [[VERDICTS.get(item["verdict"], item["verdict"]), item["reason"], item["reason_code"] or "", str(item["lines"]),
                 f"{item['amount']:.2f}"] for item in figures["by_reason"]]
        lines += ["  " + line for line in format_table(["verdict", "reason", "code", "lines", "yuan"], rows, right=(3, 4))]
    folder = Path(folder)
    name = batch.get("name") or ""
    lines.append(f"files: {folder}")
    lines.append(f"  {CLEANED_FOLDER}/{name}  the {counts.get('pass', 0)} lines that pass, to pay")
    lines.append(f"  {VERDICTS['block']}/{name}  the {counts.get('block', 0)} blocked lines")
    lines.append(f"  {VERDICTS['hold']}/{name}  the {counts.get('hold', 0)} held lines, to add back once cleared")
    stems = [Path(book).stem for book in books]
    lines.append(f"  {BOOKS_FOLDER}/  for officers, masked ({len(stems)}: {', '.join(stems)})" if stems
                 else f"  {BOOKS_FOLDER}/  for officers, masked")
    lines.append(f"  {VERDICTS_FILE}  every line's verdict, reason and evidence (unmasked)")
    return "\n".join(lines) + "\n"
