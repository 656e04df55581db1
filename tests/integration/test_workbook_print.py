"""Workbooks that print: rows tall enough for their wrapped text, A4 landscape, the header on every page, ≥ 8 pt type.

The row heights and the page setup are checked on the .xlsx itself (openpyxl);
then a township's workbook is printed to PDF by LibreOffice headless, as an
inspector's office would print it, and the PDF is checked: landscape A4
pages, the header row on every page of a check sheet, the machine columns
left off, no word drawn over another, type at least 8 pt. LibreOffice
(`soffice`) and poppler-utils (`pdfinfo`, `pdftotext`, `pdftoppm`) are
installed by .ci/run; without them the PDF test is skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import subprocess
import unicodedata
from html import unescape
from pathlib import Path

import duckdb
import openpyxl
import pytest
from openpyxl.utils import column_index_from_string

from hecha.audit.feedback import read_workbook
from hecha.config import load_policy
from hecha.reports.workbooks import CONFIRM_SHEET, SUMMARY_SHEET, write_workbooks
from hecha.storage.tables import FINDING, ddl

TOWN = "城关镇"
SHEET = "死亡人员仍领取"
RUN_ID = "2026-10_20261101T020000000000"
FONT_POINTS = 10  # the cells' type size
LINE_POINTS = 1.2 * FONT_POINTS  # one line of it, single spaced
A4_LANDSCAPE = (841.89, 595.28)  # points
PRINTABLE_WIDTH = A4_LANDSCAPE[0] - 2 * 0.4 * 72  # the margins the workbooks set
MIN_PRINTED_POINTS = 8
VILLAGES = ("南关村", "东杨集村", "北街社区居民委员会", "西关村")
NAMES = ("许立海", "刘琳", "欧阳晓芳", "阿不都热合曼·买买提", "王兰")
# Evidence as the checks write it: short and long, row numbers, a probabilistic link, a certificate number.
EVIDENCE = (
    "户籍登记死亡，变动日期 2025-07-17（户籍第 1727 行，身份证号一致）；死亡后仍发放特困供养金（证号 TK00100023）"
    "2025-08 至 2025-10 共 3 个月 3540.00 元（发放明细第 6745、7452、8161 行）",
    "火化记录 HH202500142 死亡日期 2025-10-03（火化第 715 行，概率匹配 1.000：姓名一致(+13.9)、死亡年龄为虚岁（多一岁）(+6.6)、"
    "户籍尚未登记死亡(-4.2)、性别一致(+1.0)、乡镇一致(+3.3)、村（社区）一致(+6.4)）；死亡后仍发放特困供养金（证号 TK00100009）"
    "2025-11 至 2026-02 共 4 个月 4760.00 元（发放明细第 8861、9570、10271、10973 行）",
    "户籍登记死亡，变动日期 2025-01-19（户籍第 2001 行，身份证号一致）；火化记录 HH202500015 死亡日期 2025-01-19（火化第 15 行，"
    "身份证号一致）；死亡后仍发放重度残疾人护理补贴（证号 13053419750420398X61）2025-02 至 2025-03 共 2 个月 200.00 元；"
    "死亡后仍发放低保金（证号 DB10100027）2025-02 至 2025-03 共 2 个月 1040.00 元，按保障人数 2 人分摊户月保障金；"
    "死亡后仍发放困难残疾人生活补贴（证号 13053419750420398X61）2025-02 至 2025-03 共 2 个月 160.00 元",
    "死亡后仍发放低保金 1 个月 520.00 元",
)


def check_character(first17: str) -> str:
    """GB 11643: the weighted sum of the first 17 digits (weights 2^(17-i) mod 11), mod 11, picks the check."""
    return "10X98765432"[sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17)) % 11]


def citizen_number(index: int) -> str:
    first17 = f"130534{dt.date(1940, 1, 1) + dt.timedelta(days=97 * index):%Y%m%d}{index % 1000:03d}"
    return first17 + check_character(first17)


def build_run_database(path: Path, rows: int = 46) -> duckdb.DuckDBPyConnection:
    """One township, `rows` deceased_paid findings (enough for three printed pages), two to confirm, one link."""
    con = duckdb.connect(str(path))
    con.execute("create schema chk; create schema link; create schema stg")
    con.execute(ddl(FINDING))
    findings = []
    for i in range(rows):
        confirm = i >= rows - 2
        findings.append((
            "deceased_paid", f"P{i}", citizen_number(i), NAMES[i % len(NAMES)], TOWN, VILLAGES[i % len(VILLAGES)],
            "13053419750420398X61、13053419750420398X61、DB10100027" if i % 7 == 2 else f"TK{i:08d}",
            dt.date(2025, 8, 1), dt.date(2025, 10, 1), 10000.0 - 100 * i, 0.0, 0.9 if confirm else 1.0, confirm,
            EVIDENCE[i % len(EVIDENCE)], f"k{i:015d}",
        ))
    con.executemany(f"insert into chk.finding values ({', '.join('?' * 15)})", findings)
    con.execute(
        """create table link.review (source varchar, source_row integer, role varchar, person_id varchar,
        register_row integer, match_probability double, confidence double, decision varchar,
        comparison_vector varchar, explanation varchar)"""
    )
    con.execute("insert into link.review values ('payments', 9, 'subject', 'P3', 31, 0.93, 0.86, 'linked_to_confirm', "
                "null, '概率匹配 0.930：姓名同音(+6.0)、出生日期一致(+9.2)、村（社区）不同(-3.1)')")
    con.execute("create table link.person (person_id varchar, id_number varchar, name varchar, township varchar, "
                "village varchar, in_register boolean)")
    con.execute("insert into link.person values ('P3', ?, '刘琳', ?, '东杨集村', true)", [citizen_number(3), TOWN])
    con.execute("create table stg.payments (source_row integer, name varchar, id_number_raw varchar, township varchar)")
    con.execute("insert into stg.payments values (9, '刘林', null, ?)", [TOWN])
    return con


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("print")
    con = build_run_database(folder / "hecha.duckdb")
    try:
        paths = write_workbooks(con, folder / "workbooks", run_id=RUN_ID, as_of="2026-10", county="130534",
                                policy=load_policy())
    finally:
        con.close()
    return next(path for path in paths if path.stem == TOWN)


def display_width(text: str) -> int:
    """Characters of column width the text needs: CJK (wide, full-width, ambiguous) 2, others 1."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def lines_needed(text: str, width: float) -> int:
    """Lines the text wraps into at the least: its width over the column's, a line at a time per paragraph.

    `width` as the file stores it: the characters set plus 5 pixels (5/7 of a character) of cell margins.
    """
    room = max(1, round(width - 5 / 7))  # stored to 1/256 of a character
    return sum(max(1, math.ceil(display_width(part) / room)) for part in str(text).split("\n"))


def column_widths(sheet) -> dict[int, float]:
    widths = {}
    for dimension in sheet.column_dimensions.values():
        for index in range(dimension.min, dimension.max + 1):
            widths[index] = dimension.width
    return widths


def header_row_of(sheet) -> int:
    return next(row for row in range(1, 6) if "案件编号" in [cell.value for cell in sheet[row]])


def answer_sheets(workbook):
    return [sheet for sheet in workbook.worksheets if sheet.title not in (SUMMARY_SHEET, "_meta")]


def test_every_row_is_tall_enough_for_its_wrapped_text(book):
    workbook = openpyxl.load_workbook(book)
    for sheet in answer_sheets(workbook):
        widths = column_widths(sheet)
        header = header_row_of(sheet)
        assert sheet.max_row > header, sheet.title
        for row in range(header, sheet.max_row + 1):
            height = sheet.row_dimensions[row].height
            assert height is not None and sheet.row_dimensions[row].customHeight, f"{sheet.title} row {row}: no height set"
            cells = [(cell.value, widths[cell.column]) for cell in sheet[row] if cell.value not in (None, "")]
            needed = max(lines_needed(value, width) for value, width in cells)
            assert height >= needed * LINE_POINTS, f"{sheet.title} row {row}: {height} pt for {needed} lines"
    summary = workbook[SUMMARY_SHEET]
    widths = column_widths(summary)
    description = next(cell for cell in summary[4] if cell.value == "检查说明")  # the table's header, below title and note
    cell = summary.cell(5, description.column)
    assert summary.row_dimensions[5].height >= lines_needed(cell.value, widths[cell.column]) * LINE_POINTS


def test_check_sheets_print_landscape_a4_one_page_wide_with_the_header_repeated(book):
    workbook = openpyxl.load_workbook(book)
    for sheet in [workbook[SUMMARY_SHEET], *answer_sheets(workbook)]:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), sheet.title  # 9: A4
        area = sheet.print_area[0] if isinstance(sheet.print_area, list) else sheet.print_area
        last_column = column_index_from_string(re.search(r"\$([A-Z]+)\$\d+$", area).group(1))
        widths = column_widths(sheet)
        printed_points = sum(widths[index] * 7 * 0.75 for index in range(1, last_column + 1))  # 7 pixels a character
        scale = min(1.0, PRINTABLE_WIDTH / printed_points)
        assert scale * FONT_POINTS >= MIN_PRINTED_POINTS, f"{sheet.title}: printed at {scale:.0%}"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (1, None), sheet.title
        assert setup.fitToHeight == 0, sheet.title  # as many pages down as the rows need
        if sheet.title == SUMMARY_SHEET:
            continue
        header = header_row_of(sheet)
        assert sheet.print_title_rows == f"$1:${header}", sheet.title
        headers = [cell.value for cell in sheet[header]]
        printed = headers[:last_column]
        assert {"姓名", "村", "身份证号", "证号", "应追回金额", "证据", "核查结论", "核查说明"} <= set(printed), sheet.title
        assert "案件编号" not in printed and "关联编号" not in printed, sheet.title
        if sheet.title != CONFIRM_SHEET:
            assert {"起始月份", "截止月份"} <= set(printed)
        evidence = widths[headers.index("证据") + 1]
        assert evidence == max(widths[index] for index in range(1, last_column + 1)), "the evidence gets the width"


def test_printable_workbook_still_reads_back_as_feedback(book, tmp_path):
    workbook = openpyxl.load_workbook(book)
    sheet = workbook[SHEET]
    header = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(2, header["核查结论"], "属实")
    filled = tmp_path / "filled.xlsx"
    workbook.save(filled)
    _, cases, _, problems = read_workbook(filled)
    assert problems == [] and [(case.sheet, case.row, case.value) for case in cases] == [(SHEET, 2, "属实")]


# ---------------------------------------------------------------------------------------------- printed


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install libreoffice-calc-nogui poppler-utils; .ci/run does)")
    return path


@pytest.fixture(scope="module")
def printed(book, tmp_path_factory) -> Path:
    """The township's workbook printed to PDF by LibreOffice headless."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui; .ci/run does)")
    folder = tmp_path_factory.mktemp("pdf")
    profile = folder / "profile"  # a profile of its own: another LibreOffice running does not block this one
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf", "--outdir",
         str(folder), str(book)],
        capture_output=True, text=True, timeout=300, check=False, env=os.environ | {"HOME": str(folder)},
    )
    pdf = folder / f"{book.stem}.pdf"
    assert pdf.exists(), f"LibreOffice made no PDF (exit {result.returncode}): {result.stderr[-2000:]}"
    return pdf


def pdf_pages(pdf: Path) -> list[dict]:
    """Per page: its size (points) and its words with their boxes, as pdftotext -bbox reads them."""
    info = subprocess.run([tool("pdfinfo"), "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = [tuple(map(float, size)) for size in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    boxes = subprocess.run([tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for size, page in zip(sizes, re.findall(r"<page [^>]*>(.*?)</page>", boxes, re.S)):
        words = [(float(x0), float(y0), float(x1), float(y1), unescape(text)) for x0, y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page)]
        pages.append({"size": size, "words": words, "text": " ".join(word[4] for word in words)})
    return pages


def overlapping(words: list[tuple]) -> list[tuple[str, str]]:
    """Pairs of words drawn over each other.

    A word's box is its font's ascent to descent, about 1.2 em, taller than a
    line of wrapped text is apart from the next: boxes of two lines of one cell
    touch by a point. Words drawn over each other cross by more than a quarter
    of their height.
    """
    found = []
    ordered = sorted(words, key=lambda word: word[1])
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b[1] >= a[3]:
                break
            height = min(a[3] - a[1], b[3] - b[1])
            if min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > height / 4:
                found.append((a[4], b[4]))
    return found


def test_printed_check_sheet_is_landscape_a4_with_its_header_on_every_page_and_no_text_overlapping(book, printed,
                                                                                                     tmp_path):
    pages = pdf_pages(printed)
    assert pages
    for page in pages:
        width, height = page["size"]
        assert abs(width - A4_LANDSCAPE[0]) < 2 and abs(height - A4_LANDSCAPE[1]) < 2, page["size"]
        assert not overlapping(page["words"]), overlapping(page["words"])[:5]
    # a sheet's pages carry its name in the page header, above the table (the top margin is 0.7 inch)
    sheet_pages = [page for page in pages if any(word[4].endswith(SHEET) and word[3] < 0.7 * 72 for word in page["words"])]
    assert len(sheet_pages) >= 2, "46 findings take more than one page"
    names = {word for page in sheet_pages for word in page["text"].split()}
    assert sum(name in names for name in NAMES) >= 3
    for page in sheet_pages:
        words = page["text"].split()
        assert {"状态", "姓名", "身份证号", "证据", "核查结论", "核查说明"} <= set(words), "the header row on every page"
        assert "案件编号" not in words and not any(word.startswith("k0000") for word in words), "machine columns stay off"
        assert "(+13.9)" not in page["text"] and "第 715 行" not in page["text"]
    # the type as printed: header words are centred in their columns, so their spacing gives the scale
    workbook = openpyxl.load_workbook(book)
    sheet = workbook[SHEET]
    widths = column_widths(sheet)
    headers = [cell.value for cell in sheet[1]]

    def centre_in_sheet(header: str) -> float:
        column = headers.index(header) + 1
        return sum(widths[index] * 5.25 for index in range(1, column)) + widths[column] * 5.25 / 2

    def centre_on_page(header: str) -> float:
        word = next(word for word in sheet_pages[0]["words"] if word[4] == header)
        return (word[0] + word[2]) / 2

    scale = (centre_on_page("核查说明") - centre_on_page("状态")) / (centre_in_sheet("核查说明") - centre_in_sheet("状态"))
    assert scale * FONT_POINTS >= MIN_PRINTED_POINTS, f"printed at {scale:.0%}: {scale * FONT_POINTS:.1f} pt type"
    assert max(word[2] for word in sheet_pages[0]["words"]) <= A4_LANDSCAPE[0], "one page wide"

    page_number = pages.index(sheet_pages[0]) + 1
    subprocess.run([tool("pdftoppm"), "-png", "-r", "100", "-f", str(page_number), "-l", str(page_number), str(printed),
                    str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

