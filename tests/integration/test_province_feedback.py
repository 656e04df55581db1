"""A province's inspectors' cycle: a county's cross workbook out, filled in, imported with the CLI, the next publication remembers.

County A's inspector opens A's 全县.xlsx of the first province publication
with openpyxl, as Excel would leave it: marks one cross finding 不属实, one
已整改, one 属实, and sorts the sheet. `hecha feedback import <book> --out
<province out>` records them in the province's history. The second
publication finds the same three again (the 不属实 one paid a month more,
the same basis): 不属实 and 已整改 are suppressed, 属实 persists. A book of
county B deciding a case A pays is refused at the CLI (exit 2), recording
nothing.
"""

import openpyxl

from hecha.audit.history import open_state
from hecha.flows.cli import main
from hecha.province.publish import publish_province
from tests.province_books import COUNTY_A, COUNTY_B, answer_book, counties_list, cross_finding, finding_connection, record

SHEET = "跨县死亡仍领取"


def publish(out, rows, run_id):
    con = finding_connection(rows)
    try:
        return publish_province(con, out, run_id, counties_list(out), record(run_id))
    finally:
        con.close()


def statuses(run_dir):
    import duckdb

    con = duckdb.connect(str(run_dir / "hecha.duckdb"), read_only=True)
    try:
        return dict(con.execute("select case_key, status from chk.finding_status").fetchall())
    finally:
        con.close()


def test_county_cross_workbook_verdicts_shape_the_next_province_publication(tmp_path, capsys):
    out = tmp_path / "province"
    wrong, fixed, true, other = (cross_finding(1), cross_finding(2), cross_finding(3),
                                 cross_finding(4, county=COUNTY_B, other=COUNTY_A))
    first = publish(out, [wrong, fixed, true, other], "2026-10_20261101T000000")

    # A's inspector fills in the county book and sorts the sheet by name, descending
    book_path = answer_book(first / "counties" / COUNTY_A / "全县.xlsx", {
        wrong["case_key"]: ("不属实", "本人健在，外县死亡登记系同名"),
        fixed["case_key"]: ("已整改", "已停发并追回"),
        true["case_key"]: ("属实", "已核实死亡"),
    }, tmp_path / "130501_全县_已核查.xlsx")
    book = openpyxl.load_workbook(book_path)
    sheet = book[SHEET]
    header_row = next(number for number in range(1, 4) if sheet.cell(number, 1).value == "状态")
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=header_row + 1)]
    for number, values in enumerate(sorted(rows, key=lambda values: values[2], reverse=True), start=header_row + 1):
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column).value = value
    book.save(book_path)

    assert main(["feedback", "import", str(book_path), "--out", str(out), "--inspector", "王五"]) == 0
    printed = capsys.readouterr().out
    assert "(run 2026-10_20261101T000000, 全县)" in printed
    assert set(printed.split("recorded ")[1].split(";")[0].split(", ")) == {"不属实 1", "已整改 1", "属实 1"}
    with open_state(out / "audit.duckdb", read_only=True) as con:
        recorded = dict(con.execute("select case_key, conclusion from audit.disposition").fetchall())
    assert recorded == {wrong["case_key"]: "不属实", fixed["case_key"]: "已整改", true["case_key"]: "属实"}

    # B's book with A's case typed in: refused, nothing recorded
    b_book = openpyxl.load_workbook(first / "counties" / COUNTY_B / "全县.xlsx")
    b_sheet = b_book["跨县死亡仍领取"]
    header = [cell.value for cell in b_sheet[2]]
    b_sheet.cell(3, header.index("案件编号") + 1).value = true["case_key"]
    b_sheet.cell(3, header.index("核查结论") + 1).value = "不属实"
    b_book.save(tmp_path / "130502_全县.xlsx")
    assert main(["feedback", "import", str(tmp_path / "130502_全县.xlsx"), "--out", str(out)]) == 2
    assert f"is a case of county {COUNTY_A}, not of {COUNTY_B}" in capsys.readouterr().err
    with open_state(out / "audit.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from audit.disposition").fetchall() == [(3,)]

    # the next publication: the same findings, the 不属实 one paid one more month
    second = publish(out, [cross_finding(1, months=("2026-07", "2026-11")), fixed, true, other], "2026-11_20261201T000000")
    assert statuses(second) == {wrong["case_key"]: "suppressed", fixed["case_key"]: "suppressed",
                                true["case_key"]: "persisting", other["case_key"]: "persisting"}
    # suppressed cases are counted, not listed, in A's book; the true one is listed with its verdict
    listed = openpyxl.load_workbook(second / "counties" / COUNTY_A / "全县.xlsx", read_only=True)[SHEET]
    values = list(listed.iter_rows(values_only=True))
    header = list(values[1])
    keys = {row[header.index("案件编号")]: row[header.index("上次核查结论")] for row in values[2:]}
    assert keys == {true["case_key"]: "属实"}
