"""Outcomes as people read them: the report's 核查成效, the county workbook's sheet, 追回金额 from a workbook."""

import datetime as dt
import json
from html.parser import HTMLParser

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback
from hecha.audit.history import apply_history, open_state, record_run
from hecha.config import load_policy
from hecha.reports.html_report import render_html_report
from hecha.reports.workbooks import OUTCOME_SHEET, write_workbooks
from hecha.storage.tables import FINDING, ddl

COUNTY, TOWN, RUN_ID = "130534", "城关镇", "2026-10_r1"
DECEASED, CARE = "死亡人员仍领取", "重度残疾人护理补贴漏发"
SUMMARY_COLUMNS = (
    "check_code varchar, findings bigint, cases bigint, true_count bigint, not_true_count bigint, rectified_count bigint, "
    "no_verdict_count bigint, true_rate double, not_true_rate double, open_past_deadline bigint, tracked_cases bigint, "
    "stopped_cases bigint, monthly_stopped_amount double, recovered_amount double, backpay_due double, backpay_paid double, "
    "backpay_paid_cases bigint"
)
# deceased_paid: 3 属实, 1 不属实, 1 已整改, 1 without a verdict; two payments stopped (600 and 500 a month),
# 1,200 and 1,200.50 recovered. missed_care_subsidy: no verdict yet, 600 of 1,800 back-pay paid.
TRUE, NOT_TRUE = 3, 1
SUMMARY = (
    ("deceased_paid", 6, 6, TRUE, NOT_TRUE, 1, 1, TRUE / (TRUE + NOT_TRUE), NOT_TRUE / (TRUE + NOT_TRUE), 1, 4, 2,
     600.0 + 500.0, 1200.0 + 1200.5, 0.0, 0.0, 0),
    ("missed_care_subsidy", 2, 2, 0, 0, 0, 2, None, None, 2, 2, 0, 0.0, 0.0, 1800.0, 600.0, 1),
)
RECORD = {"run_id": RUN_ID, "status": "succeeded", "parameters": {"as_of": "2026-10", "county": COUNTY},
          "policy": load_policy()}


def finding(key, code="deceased_paid", overpaid=300.0, backpay=0.0):
    return (code, f"P{key}", f"13053419500101{int(key[1:]):04d}", f"人{key}", TOWN, "东关村", "TK1", dt.date(2026, 8, 1),
            dt.date(2026, 10, 1), overpaid, backpay, 1.0, False, f"死亡后仍发放 3 个月 {overpaid:.2f} 元", key)


FINDINGS = [finding("k1"), finding("k2", overpaid=450.0), finding("k3", code="missed_care_subsidy", overpaid=0.0, backpay=300.0)]


def run_database(path, *, summary=SUMMARY):
    con = duckdb.connect(str(path))
    con.execute("create schema chk")
    con.execute(ddl(FINDING))
    con.executemany(f"insert into chk.finding values ({', '.join('?' * 15)})", FINDINGS)
    if summary is not None:
        con.execute(f"create table chk.outcome_summary ({SUMMARY_COLUMNS})")
        con.executemany(f"insert into chk.outcome_summary values ({', '.join('?' * 17)})", summary)
    return con


class Tables(HTMLParser):
    """The text of each table cell by table id, row by row."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.table, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = self.tables.setdefault(dict(attrs).get("id"), [])
        elif tag == "tr" and self.table is not None:
            self.row = []
            self.table.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def outcome_section(page):
    start = page.index('<section id="outcomes">')
    return page[start:page.index("</section>", start)]


def outcome_rows(page):
    parser = Tables()
    parser.feed(outcome_section(page))
    header, *rows = parser.tables["table-outcomes"]
    return {row[0]: dict(zip(header, row)) for row in rows}


def test_report_outcome_section_shows_the_rates_inspectors_measured_and_the_money(tmp_path):
    con = run_database(tmp_path / "hecha.duckdb")
    try:
        page = render_html_report(con, record=RECORD, history=[])
    finally:
        con.close()
    section = outcome_section(page)
    assert "<h2>核查成效</h2>" in section and 'id="chart-outcomes"' in section
    rows = outcome_rows(page)
    deceased, care, total = rows[DECEASED], rows[CARE], rows["合计"]
    assert (deceased["属实"], deceased["不属实"], deceased["属实率"], deceased["不属实率"]) == ("3", "1", "75%", "25%")
    assert deceased["每月已停发（元）"] == "1,100.00" and deceased["已追回（元）"] == "2,400.50"
    assert care["属实率"] == "—" and care["不属实率"] == "—"  # no verdict yet: nothing measured
    assert care["已补发（元）"] == "600.00" and care["超期未核查"] == "2"
    assert total["发现"] == str(6 + 2) and total["属实率"] == "75%"  # the same rule over the county's counts
    assert "30 天" in section  # the policy's verdict deadline, named


def test_report_outcome_section_says_none_yet_without_the_table(tmp_path):
    con = run_database(tmp_path / "hecha.duckdb", summary=None)
    try:
        page = render_html_report(con, record=RECORD, history=[])
    finally:
        con.close()
    section = outcome_section(page)
    assert "暂无" in section and "table-outcomes" not in section


def write_books(tmp_path, summary=SUMMARY):
    con = run_database(tmp_path / "hecha.duckdb", summary=summary)
    try:
        return {path.stem: path for path in write_workbooks(con, tmp_path / "workbooks", run_id=RUN_ID, as_of="2026-10",
                                                           county=COUNTY, policy=load_policy())}
    finally:
        con.close()


def sheet_rows(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    header = next(index for index, row in enumerate(rows) if row[0] == "检查项目")
    return header + 1, {row[0]: dict(zip(rows[header], row)) for row in rows[header + 1:] if row[0]}


def test_county_workbook_has_the_outcome_sheet_with_the_same_figures(tmp_path):
    books = write_books(tmp_path)
    assert OUTCOME_SHEET not in openpyxl.load_workbook(books[TOWN]).sheetnames  # the county's figures: its book only
    sheet = openpyxl.load_workbook(books["全县"])[OUTCOME_SHEET]
    header, rows = sheet_rows(sheet)
    deceased, care, total = rows[DECEASED], rows[CARE], rows["合计"]
    assert (deceased["属实"], deceased["不属实"], deceased["属实率"]) == (3, 1, TRUE / (TRUE + NOT_TRUE))
    assert (deceased["每月已停发（元）"], deceased["已追回（元）"]) == (1100.0, 2400.5)
    assert (care["属实率"], care["已补发（元）"], care["超期未核查"]) == ("—", 600.0, 2)
    assert total["发现"] == 8 and total["属实率"] == TRUE / (TRUE + NOT_TRUE)
    rate = next(cell for cell in sheet[header + 1] if cell.value == TRUE / (TRUE + NOT_TRUE))
    assert rate.number_format.endswith("%")
    # printable as the other sheets: A4 landscape, its header on every page, every row's height set
    assert (sheet.page_setup.orientation, int(sheet.page_setup.paperSize)) == ("landscape", 9)
    assert sheet.print_title_rows == f"${header}:${header}"
    assert all(sheet.row_dimensions[row].height for row in range(header, header + 4))


def test_county_workbook_outcome_sheet_says_none_yet_without_the_table(tmp_path):
    sheet = openpyxl.load_workbook(write_books(tmp_path, summary=None)["全县"])[OUTCOME_SHEET]
    assert any(isinstance(value, str) and "暂无" in value for row in sheet.iter_rows(values_only=True) for value in row)


# ---------------------------------------------------------------------------------------------- 追回金额


@pytest.fixture
def published(tmp_path):
    """A run published in `out` and recorded in its history, with its workbooks."""
    out = tmp_path / "out"
    run_dir = out / RUN_ID
    run_dir.mkdir(parents=True)
    con = run_database(run_dir / "hecha.duckdb")
    try:
        apply_history(con, state=out / "audit.duckdb", run_id=RUN_ID)
        write_workbooks(con, run_dir / "workbooks", run_id=RUN_ID, as_of="2026-10", county=COUNTY, policy=load_policy())
    finally:
        con.close()
    (run_dir / "run.json").write_text(json.dumps({"run_id": RUN_ID, "status": "succeeded", "parameters": RECORD["parameters"],
                                                  "findings": {}}), encoding="utf-8")
    record_run(out / "audit.duckdb", run_dir)
    return out


def fill(out, answers, name="全县_已核查.xlsx"):
    """The county workbook with `answers` {(sheet, case_key): {header: value}} typed in; returns its path and rows."""
    book = openpyxl.load_workbook(out / RUN_ID / "workbooks" / "全县.xlsx")
    rows = {}
    for (title, key), values in answers.items():
        sheet = book[title]
        header = {cell.value: cell.column for cell in sheet[1]}
        row = next(row for row in range(2, sheet.max_row + 1) if sheet.cell(row, header["案件编号"]).value == key)
        for name_, value in values.items():
            sheet.cell(row, header[name_], value)
        rows[key] = row
    path = out.parent / name
    book.save(path)
    return path, rows


def recorded(out):
    with open_state(out / "audit.duckdb", read_only=True) as history:
        dispositions = history.execute("select case_key, conclusion from audit.disposition order by 1").fetchall()
        present = history.execute("select count(*) from duckdb_tables() where table_name = 'recovery'").fetchall()[0][0]
        recoveries = history.execute(
            "select case_key, recovered_amount, inspector, run_id, source from audit.recovery order by 1"
        ).fetchall() if present else []
    return dispositions, recoveries


def test_check_sheets_with_money_to_recover_have_a_recovered_amount_input(published):
    book = openpyxl.load_workbook(published / RUN_ID / "workbooks" / "全县.xlsx")
    deceased, care = book[DECEASED], book[CARE]
    header = [cell.value for cell in deceased[1]]
    assert header.index("追回金额") == header.index("核查结论") + 1  # beside the inspector's other answers
    assert "追回金额" not in [cell.value for cell in care[1]]  # back-pay only: nothing to recover
    column = openpyxl.utils.get_column_letter(header.index("追回金额") + 1)
    assert deceased[f"{column}2"].number_format == "0.00"
    (validation,) = [v for v in deceased.data_validations.dataValidation if f"{column}2" in v.sqref]
    assert (validation.type, validation.operator, validation.formula1) == ("decimal", "greaterThanOrEqual", "0")


def test_recovered_amount_in_a_workbook_is_imported_and_recorded(published):
    path, rows = fill(published, {(DECEASED, "k1"): {"核查结论": "属实", "追回金额": 200},
                                  (DECEASED, "k2"): {"追回金额": 450.0}})  # a recovery without a 核查结论 on its row
    result = import_feedback(path, published, inspector="王科员")
    assert result.dispositions == {"属实": 1}
    dispositions, recoveries = recorded(published)
    assert dispositions == [("k1", "属实")]
    assert [(key, float(amount), who, run) for key, amount, who, run, _ in recoveries] == [
        ("k1", 200.0, "王科员", RUN_ID), ("k2", 450.0, "王科员", RUN_ID)]
    assert recoveries[0][4] == f"{path.name} sheet {DECEASED} row {rows['k1']}"
    assert result.recovered == {"k1": 200, "k2": 450}
    again = import_feedback(path, published, inspector="王科员")  # the same workbook twice records nothing more
    assert again.recovered == {} and recorded(published)[1] == recoveries


@pytest.mark.parametrize(
    ("description", "amount", "expected"),
    [
        ("above the overpaid amount", 300.01, "more than the 300.00 overpaid"),
        ("negative", -5, "below 0"),
        ("not a number", "两百元", "expected an amount in yuan"),
    ],
)
def test_recovered_amount_that_cannot_be_is_refused_naming_sheet_and_row_and_nothing_is_recorded(
        published, description, amount, expected):
    path, rows = fill(published, {(DECEASED, "k1"): {"核查结论": "属实", "追回金额": amount},
                                  (DECEASED, "k2"): {"核查结论": "属实", "追回金额": 100}})
    with pytest.raises(FeedbackError) as error:
        import_feedback(path, published, inspector="王科员")
    assert f"sheet {DECEASED} row {rows['k1']}" in str(error.value) and expected in str(error.value), description
    assert f"row {rows['k2']}" not in str(error.value)
    assert recorded(published) == ([], []), description
