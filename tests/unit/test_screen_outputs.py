"""What a screen writes: verdicts.csv, the batch cut by verdict in its own format, the 拦截清单, summary.txt.

The batch is loaded with the nightly loader, as the screen loads it, and
`screen.line` is filled with verdicts chosen here (no screen run needed):
lines blocked, held and passed in two townships with listed lines, a third
township whose lines all pass, one line the loader cannot read (held), a
blank line, and a line whose quoted values hold a comma and a line break.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hecha.config import load_policy
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.event import staged_as
from hecha.extracts.load import load_drop
from hecha.extracts.read import Manifest
from hecha.screen.cleaned import BatchCutError, csv_records, cut_batch
from hecha.screen.outputs import (
    BOOKS_FOLDER,
    ScreenOutputError,
    read_lines,
    screen_figures,
    write_screen_outputs,
)
from hecha.storage.tables import SCREEN_LINE, ddl

PAYMENTS = BY_STEM["payments"]
HEADER = ["发放年月", "项目", "证号", "姓名", "身份证号", "金额", "乡镇(街道)"]
SCREEN_ID = "2026-11_20261120T080000Z"
NIGHT_RUN = "2026-10_20261101T020000Z"
COUNTY = "130534"
CERTIFICATE = "13053419720410231942"  # a disability certificate: the holder's number, category 4, grade 2

# Each batch line: its cells, and the verdict given to it (verdict, reason_code, reason, village, evidence).
LINES = [
    (["202611", "低保金", "DB00100001", "崔晨磊", "130534199604164518", "1360.00", "城东街道"],
     ("block", "dead", "受益人已死亡", "东关村", "火化记录：崔晨磊 130534199604164518 于 2026-08-03 火化")),
    (["202611", "低保金", "DB001,00003", "刘\n占华", "130534451001351", "680.00", "城东街道"],  # a comma and a line break
     ("pass", None, None, "东关村", None)),
    (["202611", "特困供养金", "TK00200001", "王国斌", "130534197204102319", "900.00", "城关镇"],
     ("hold", "uncertain_identity", "身份待确认", None, "发放行未能关联到户籍人员")),
    (["xx", "低保金", "DB1", "王", "130534197204102319", "abc", "城关镇"],  # the loader cannot read month or amount
     ("hold", "unreadable", "发放行无法读取", None, "发放年月、金额无法读取")),
    (["202611", "低保金", "DB00100005", "陈俊鑫", "130534199103034037", "2040.00", "城东街道"],
     ("pass", None, None, "西街社区", None)),
    (["202611", "低保金", "DB00300001", "赵六", "130534198001010016", "500.00", "西关镇"],  # 西关镇 only passes
     ("pass", None, None, "西关村", None)),
    (["202611", "重度残疾人护理补贴", CERTIFICATE, "孙七", "130534197204102319", "100.00", "城关镇"],
     ("block", "certificate_invalid", "残疾人证失效；身份待确认", "南关村", f"残疾人证 {CERTIFICATE} 于 2026-06 注销")),
    (["202611", "低保金", "DB00100001", "崔晨磊", "130534199604164518", "1360.00", "城东街道"],
     ("block", "repeated_line", "重复发放", "东关村", "本批次第 1 行已发放同一项目同一月份")),
    (["", "", "", "", "", "", ""], ("hold", "unreadable", "发放行无法读取", None, "空行")),  # a blank line: a record of its own
    (["202611", "特困供养金", "TK00200002", "=HYPERLINK(\"x\")", "130534195001010019", "900.00", "城关镇"],
     ("pass", None, None, "南关村", None)),
]


def case_key(row: int) -> str:
    return hashlib.sha256(f"{SCREEN_ID}:{row}".encode()).hexdigest()[:16]


def csv_value(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(character in value for character in ',"\n\r') else value


def csv_batch(path: Path, *, encoding: str, bom: bool, ending: str, final_ending: bool = True) -> list[bytes]:
    """Write the batch as CSV; return each record's bytes as written (the header first)."""
    records = [",".join(csv_value(cell) for cell in cells) for cells in [HEADER, *(cells for cells, _ in LINES)]]
    encoded = [(record + ending).encode(encoding) for record in records]
    if not final_ending:
        encoded[-1] = encoded[-1][:-len(ending.encode(encoding))]
    if bom:
        encoded[0] = b"\xef\xbb\xbf" + encoded[0]
    path.write_bytes(b"".join(encoded))
    return encoded


def xlsx_batch(path: Path) -> None:
    """The batch as a workbook: text cells but a numeric amount, a styled header, formatted empty rows after the data."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "发放明细"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = openpyxl.styles.Font(bold=True)
    for number, (cells, _) in enumerate(LINES, start=2):
        for column, value in enumerate(cells, start=1):
            if value:
                sheet.cell(number, column, value).data_type = "s"  # text, even a name starting with =
        sheet.row_dimensions[number].height = 15 + number  # a height that must travel with its row
    sheet.cell(3, 6, 680.0)  # a number, not text: the loader reads it cell by cell
    for row in range(len(LINES) + 2, len(LINES) + 6):
        sheet.cell(row, 1).number_format = "@"  # formatted, no value: not a line
    book.create_sheet("说明").append(["本表由发放系统导出"])
    book.save(path)


def load_batch(con: duckdb.DuckDBPyConnection, path: Path) -> list[dict]:
    with staged_as(path, PAYMENTS) as folder:
        return load_drop(con, folder, Manifest(), (PAYMENTS,), policy=load_policy())


def screen_lines(con: duckdb.DuckDBPyConnection, verdicts: dict[int, tuple] | None = None) -> None:
    """screen.line for the loaded batch: each line as read, with the verdict LINES gives it."""
    verdicts = verdicts or {row: verdict for row, (_, verdict) in enumerate(LINES, start=1)}
    con.execute("create schema if not exists screen")
    con.execute(ddl(SCREEN_LINE))
    con.execute("create temp table chosen (source_row integer, verdict varchar, reason_code varchar, reason varchar, "
                "village varchar, evidence varchar, case_key varchar)")
    con.executemany("insert into chosen values (?, ?, ?, ?, ?, ?, ?)",
                    [[row, *verdict, None if verdict[0] == "pass" else case_key(row)] for row, verdict in verdicts.items()])
    con.execute("""
        insert into screen.line
        select raw.source_row, stg.paid_month, stg.programme, coalesce(stg.case_no, raw.case_no), raw.name, stg.id_number,
            raw.id_number, stg.amount, raw.township, chosen.village,
            case when stg.id_number is not null then 'P' || raw.source_row end,
            case when stg.id_number is not null then 'exact' end,
            case when stg.id_number is not null then 1.0 end,
            chosen.verdict, chosen.reason_code, chosen.reason, chosen.evidence, chosen.case_key
        from raw.payments as raw
        left join stg.payments as stg on raw.source_row = stg.source_row
        inner join chosen on raw.source_row = chosen.source_row
    """)


def record_of(batch: Path) -> dict:
    return {"screen_id": SCREEN_ID, "kind": "screen", "status": "succeeded", "month": "2026-11", "night_run": NIGHT_RUN,
            "county": COUNTY, "batch": {"file": str(batch), "name": batch.name, "sha256": "", "rows": len(LINES)}}


def screened(tmp_path: Path, batch: Path, verdicts: dict[int, tuple] | None = None) -> tuple[duckdb.DuckDBPyConnection, Path]:
    con = duckdb.connect(str(tmp_path / "lines.duckdb"))  # a file named screen.duckdb is a catalog "screen"
    load_batch(con, batch)
    screen_lines(con, verdicts)
    return con, tmp_path / "screen"


def write_outputs(con, folder: Path, batch: Path) -> dict:
    return write_screen_outputs(con, folder, record=record_of(batch), batch_path=batch, policy=load_policy())


def rows_of(verdict: str) -> list[int]:
    return [row for row, (_, chosen) in enumerate(LINES, start=1) if chosen[0] == verdict]


def loaded_cells(path: Path) -> list[tuple]:
    """What the loader reads from a file: the cells of each line, in order."""
    con = duckdb.connect()
    try:
        load_batch(con, path)
        names = [column.name for column in PAYMENTS.columns]
        return con.execute(f"select {', '.join(names)} from raw.payments order by source_row").fetchall()
    finally:
        con.close()


PARTS = {"pass": "cleaned", "block": "拦截", "hold": "暂缓"}


# ---------------------------------------------------------------------------------------------- the batch cut


@pytest.mark.parametrize(("encoding", "bom", "ending"), [
    ("utf-8", False, "\n"),
    ("utf-8", True, "\r\n"),
    ("gb18030", False, "\r\n"),
    ("gb18030", False, "\n"),
])
def test_csv_batch_is_cut_into_its_own_bytes(tmp_path, encoding, bom, ending):
    batch = tmp_path / "十一月发放.csv"
    written = csv_batch(batch, encoding=encoding, bom=bom, ending=ending)
    con, folder = screened(tmp_path, batch)
    write_outputs(con, folder, batch)
    header, records = written[0], written[1:]
    every = []
    for verdict, part in PARTS.items():
        data = (folder / part / batch.name).read_bytes()
        # the header as written (BOM included), then the records of the verdict, each byte for byte, in batch order
        assert data == header + b"".join(records[row - 1] for row in rows_of(verdict)), part
        every += rows_of(verdict)
    assert sorted(every) == list(range(1, len(LINES) + 1))  # nothing lost, nothing twice
    original = loaded_cells(batch)
    for verdict, part in PARTS.items():
        assert loaded_cells(folder / part / batch.name) == [original[row - 1] for row in rows_of(verdict)], part


def test_csv_batch_without_a_final_line_ending_keeps_it_so(tmp_path):
    batch = tmp_path / "batch.csv"
    written = csv_batch(batch, encoding="utf-8", bom=False, ending="\r\n", final_ending=False)
    con, folder = screened(tmp_path, batch)
    write_outputs(con, folder, batch)
    last = len(LINES)  # a passing line, the file's last, without its line ending
    assert last in rows_of("pass")
    cleaned = (folder / "cleaned" / batch.name).read_bytes()
    assert cleaned.endswith(written[last]) and not cleaned.endswith(b"\r\n")


def test_utf16_batch_is_cut_in_its_byte_order(tmp_path):
    text = "发放年月,姓名\r\n202611,\"甲\r\n乙\"\r\n202611,丙\r\n"
    data = text.encode("utf-16")  # with its byte-order mark
    header, records = csv_records(data, "utf-16")
    assert header + b"".join(records) == data and len(records) == 2
    assert records[0].decode("utf-16-le") == "202611,\"甲\r\n乙\"\r\n"


def test_xlsx_batch_is_cut_row_for_row(tmp_path):
    batch = tmp_path / "十一月发放.xlsx"
    xlsx_batch(batch)
    con, folder = screened(tmp_path, batch)
    write_outputs(con, folder, batch)
    original = loaded_cells(batch)
    source = openpyxl.load_workbook(batch)
    for verdict, part in PARTS.items():
        path = folder / part / batch.name
        expected = [original[row - 1] for row in rows_of(verdict)]
        while expected and expected[-1] == (None,) * len(PAYMENTS.columns):
            # a blank row ends the part (the batch's blank line 9 is the last held): a sheet's blank rows at its end
            # are no lines to the loader, and the row holds nothing to lose
            expected.pop()
        assert loaded_cells(path) == expected, part
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        assert sheet.title == "发放明细" and book.sheetnames == ["发放明细", "说明"]
        assert [cell.value for cell in sheet[1]] == HEADER and sheet["A1"].font.bold
        for index, row in enumerate(rows_of(verdict), start=2):
            assert [cell.value for cell in sheet[index]] == [cell.value for cell in source.worksheets[0][row + 1]]
            assert sheet.row_dimensions[index].height == 15 + row + 1
    assert openpyxl.load_workbook(folder / "cleaned" / batch.name).worksheets[0]["F2"].data_type == "n"  # line 2, the first passed


def test_unreadable_line_passed_is_refused(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="utf-8", bom=False, ending="\n")
    verdicts = {row: chosen for row, (_, chosen) in enumerate(LINES, start=1)}
    verdicts[4] = ("pass", None, None, None, None)  # the line the loader quarantined
    con, folder = screened(tmp_path, batch, verdicts)
    with pytest.raises(ScreenOutputError, match="line 4 .*could not be read"):
        write_outputs(con, folder, batch)
    assert not (folder / "cleaned").exists()


def test_line_without_a_verdict_is_refused(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="utf-8", bom=False, ending="\n")
    verdicts = {row: chosen for row, (_, chosen) in enumerate(LINES, start=1) if row != 5}
    con, folder = screened(tmp_path, batch, verdicts)
    with pytest.raises(BatchCutError, match="line 5 .*no verdict"):
        write_outputs(con, folder, batch)


def test_cut_refuses_records_the_loader_read_otherwise(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="utf-8", bom=False, ending="\n")
    read = [dict(zip([c.name for c in PAYMENTS.columns], cells)) for cells, _ in LINES]
    read[1]["name"] = "刘占华"  # the loader read another line there
    with pytest.raises(BatchCutError, match="line 2 column 姓名"):
        cut_batch(batch, {tmp_path / "all" / "batch.csv": set(range(1, len(LINES) + 1))}, extract=PAYMENTS, read_rows=read)


# ---------------------------------------------------------------------------------------------- verdicts.csv and the figures


def test_verdicts_csv_is_screen_line_in_row_order(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="gb18030", bom=False, ending="\r\n")
    con, folder = screened(tmp_path, batch)
    write_outputs(con, folder, batch)
    data = (folder / "verdicts.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [int(row["source_row"]) for row in rows] == list(range(1, len(LINES) + 1))
    assert list(rows[0]) == [column.name for column in SCREEN_LINE.columns]
    assert (rows[0]["paid_month"], rows[0]["amount"], rows[0]["id_number"]) == ("2026-11", "1360.00", "130534199604164518")
    assert rows[9]["name"] == "'=HYPERLINK(\"x\")"  # spreadsheet-safe, as exceptions.csv


def test_figures_count_each_line_once_under_its_verdict(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="utf-8", bom=True, ending="\n")
    con, folder = screened(tmp_path, batch)
    figures = write_outputs(con, folder, batch)
    assert figures["counts"] == {"lines": 10, "block": 3, "hold": 3, "pass": 4}
    # by hand: blocked 1360 + 100 + 1360; held 900 (+ the unreadable and the blank line, no amount); passed 680 + 2040 + 500 + 900
    assert figures["amounts"] == {"block": 2820.00, "hold": 900.00, "pass": 4120.00}
    assert figures["by_reason"] == [
        {"verdict": "block", "reason_code": "dead", "reason": "受益人已死亡", "lines": 1, "amount": 1360.0},
        {"verdict": "block", "reason_code": "certificate_invalid", "reason": "残疾人证失效", "lines": 1, "amount": 100.0},
        {"verdict": "block", "reason_code": "repeated_line", "reason": "重复发放", "lines": 1, "amount": 1360.0},
        {"verdict": "hold", "reason_code": "unreadable", "reason": "发放行无法读取", "lines": 2, "amount": 0.0},
        {"verdict": "hold", "reason_code": "uncertain_identity", "reason": "身份待确认", "lines": 1, "amount": 900.0},
    ]
    assert figures == screen_figures(read_lines(con))
    json.dumps(figures)  # as screen.json holds them


def test_summary_text_gives_the_batch_the_verdicts_and_the_files(tmp_path):
    batch = tmp_path / "batch.csv"
    csv_batch(batch, encoding="utf-8", bom=False, ending="\n")
    con, folder = screened(tmp_path, batch)
    work = tmp_path / f".work-{SCREEN_ID}"
    write_outputs(con, work, batch)
    text = (work / "summary.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("batch: batch.csv (2026-11): 10 lines, 7840.00 yuan; screened against run " + NIGHT_RUN)
    assert re.search(r"blocked\s+拦截\s+3\s+2820\.00", text) and re.search(r"held\s+暂缓\s+3\s+900\.00", text)
    assert re.search(r"passed\s+通过\s+4\s+4120\.00", text)
    assert re.search(r"拦截\s+受益人已死亡\s+dead\s+1\s+1360\.00", text)
    assert f"files: {tmp_path / SCREEN_ID}" in text  # where the folder is once published
    assert "cleaned/batch.csv" in text and "拦截清单/" in text and "130534199604164518" not in text


# ---------------------------------------------------------------------------------------------- the 拦截清单


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml"))


def table(sheet, header: str) -> tuple[int, dict[str, int]]:
    for row in sheet.iter_rows():
        values = [cell.value for cell in row]
        if header in values and "核查结论" in values:
            return row[0].row, {value: index for index, value in enumerate(values) if value}
    raise AssertionError(f"no table with {header} on {sheet.title}")


def answer_rows(sheet) -> list[dict]:
    header_row, columns = table(sheet, "案件编号")
    return [{name: row[index].value for name, index in columns.items()}
            for row in sheet.iter_rows(min_row=header_row + 1) if row[columns["案件编号"]].value]


@pytest.fixture
def books(tmp_path):
    batch = tmp_path / "batch.xlsx"
    xlsx_batch(batch)
    con, folder = screened(tmp_path, batch)
    figures = write_outputs(con, folder, batch)
    return folder / BOOKS_FOLDER, figures


def test_books_for_townships_with_listed_lines_only(books):
    folder, _ = books
    assert sorted(path.name for path in folder.iterdir()) == ["全县.xlsx", "城东街道.xlsx", "城关镇.xlsx"]
    summary = openpyxl.load_workbook(folder / "全县.xlsx")["汇总"]
    texts = [cell.value for row in summary.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert any("西关镇" in text and "未生成拦截清单" in text for text in texts)
    town_rows = {row[0].value: [cell.value for cell in row] for row in summary.iter_rows() if row[0].value == "西关镇"}
    assert town_rows["西关镇"][1:4] == ["无拦截或暂缓，未生成", 1, 500]


def test_no_citizen_number_unmasked_in_any_book(books):
    folder, _ = books
    numbers = {cells[4] for cells, _ in LINES if cells[4]} | {CERTIFICATE}
    for path in folder.iterdir():
        xml = sheet_xml(path)
        for number in numbers:
            assert number not in xml, (path.name, number)
        assert "130534********2319" in xml or path.name == "城东街道.xlsx"
    county = openpyxl.load_workbook(folder / "全县.xlsx")
    certificate = next(row for row in answer_rows(county["拦截"]) if row["姓名"] == "孙七")
    assert certificate["证号"] == "130534********231942"  # category and grade kept
    assert "130534********231942" in certificate["依据"]


def test_summary_figures_are_the_lines(books):
    folder, figures = books
    for name, township in (("全县.xlsx", None), ("城关镇.xlsx", "城关镇"), ("城东街道.xlsx", "城东街道")):
        sheet = openpyxl.load_workbook(folder / name)["汇总"]
        rows = [[cell.value for cell in row[:4]] for row in sheet.iter_rows()]
        start = rows.index(["处理意见", "原因", "行数", "金额（元）"])
        end = next(index for index in range(start, len(rows)) if rows[index][0] == "合计")
        shown = rows[start + 1:end + 1]
        of = [chosen for cells, chosen in LINES if township is None or cells[6] == township]
        amounts = [Decimal(cells[5]) if re.fullmatch(r"[0-9.]+", cells[5]) else Decimal(0)
                   for cells, _ in LINES if township is None or cells[6] == township]
        expected_total = sum(amounts, Decimal(0))
        assert shown[-1][2:] == [len(of), pytest.approx(float(expected_total))], name
        for verdict, label in (("block", "拦截"), ("hold", "暂缓"), ("pass", "通过")):
            subtotal = next(row for row in shown if row[0] == label)
            count = sum(1 for chosen in of if chosen[0] == verdict)
            money = sum((amount for amount, chosen in zip(amounts, of) if chosen[0] == verdict), Decimal(0))
            assert subtotal[2:] == [count, pytest.approx(float(money))], (name, label)
        if township is None:
            by_reason = [row for row in shown if row[0] is None and row[1]]  # under each verdict's 小计
            assert [(row[1], row[2], row[3]) for row in by_reason] == [
                (item["reason"], item["lines"], item["amount"]) for item in figures["by_reason"]]


def test_answer_sheets_list_blocked_and_held_lines_keyed_for_the_import(books):
    folder, _ = books
    county = openpyxl.load_workbook(folder / "全县.xlsx")
    assert county.sheetnames == ["汇总", "拦截", "暂缓", "_meta"]
    assert county["_meta"].sheet_state == "hidden"
    meta = {row[0].value: row[1].value for row in county["_meta"].iter_rows()}
    assert meta == {"county": COUNTY, "run_id": SCREEN_ID, "as_of": "2026-11", "township": "全县", "kind": "screen"}
    blocked, held = answer_rows(county["拦截"]), answer_rows(county["暂缓"])
    assert sorted(row["批次行号"] for row in blocked) == rows_of("block")
    assert sorted(row["批次行号"] for row in held) == rows_of("hold")
    assert {row["案件编号"] for row in blocked + held} == {case_key(row) for row in rows_of("block") + rows_of("hold")}
    first = blocked[0]  # dead comes first (reasons' precedence)
    assert (first["村/社区"], first["姓名"], first["身份证号"], first["项目"], first["证号"], first["发放年月"], first["金额"]) == \
        ("东关村", "崔晨磊", "130534********4518", "低保金", "DB00100001", "2026-11", 1360)
    assert first["原因"] == "受益人已死亡" and first["处理意见"] == "拦截" and first["关联可信度"] == "高"
    validations = county["拦截"].data_validations.dataValidation
    assert any(v.type == "list" and "属实" in v.formula1 for v in validations)
    town = openpyxl.load_workbook(folder / "城东街道.xlsx")
    assert town.sheetnames == ["汇总", "拦截", "_meta"]  # no held line there: no 暂缓 sheet
    assert {row["乡镇"] for row in answer_rows(town["拦截"])} == {"城东街道"}


def test_answer_sheets_print_a4_landscape_one_page_wide(books):
    folder, _ = books
    book = openpyxl.load_workbook(folder / "城关镇.xlsx")
    for name in ("汇总", "拦截", "暂缓"):
        sheet = book[name]
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9, name
        assert sheet.print_title_rows, name
    blocked = book["拦截"]
    assert str(blocked.print_area).endswith("$A$1:$K$2")  # the header and its one line, through 核查说明 (K): office columns off
    assert blocked.sheet_properties.pageSetUpPr.fitToPage  # one page wide (fitToWidth's default 1), as long as it takes
    assert blocked.page_setup.fitToWidth in (None, 1) and blocked.page_setup.fitToHeight == 0


def test_books_of_one_screen_carry_one_time(books):
    folder, _ = books
    made = {openpyxl.load_workbook(path).properties.created for path in folder.iterdir()}
    assert len(made) == 1 and isinstance(next(iter(made)), dt.datetime)
