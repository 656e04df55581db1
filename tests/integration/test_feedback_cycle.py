"""The inspectors' cycle on the sample: workbooks out, 核查结论 in, the next run remembers.

Run 1 publishes workbooks. An inspector marks three 死亡人员仍领取 rows in the
county workbook (不属实 / 已整改 / 属实) with openpyxl and re-sorts the sheet,
as Excel or WPS would leave it. The import records them. Before run 2 the
next extract changes two things: the 已整改 and the 不属实 persons are each paid
one more month (the same basis, a longer period), and another person's
overpaid lines are gone (put right).
"""

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import import_feedback
from hecha.flows.cli import main
from hecha.flows.nightly import nightly

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"
SHEET = "死亡人员仍领取"


def tekun_findings(run_dir: Path) -> list[dict]:
    """deceased_paid findings on a single tekun case, ended before as_of (room for one more month)."""
    with (run_dir / "exceptions.csv").open(encoding="utf-8-sig") as handle:
        rows = [row for row in csv.DictReader(handle) if row["check_code"] == "deceased_paid"]
    return [row for row in rows if row["case_no"].startswith("TK") and "、" not in row["case_no"]
            and row["period_end"] < "2026-10" and row["needs_confirmation"].lower() == "false"]


def month_after(text: str) -> str:
    month = dt.date.fromisoformat(text + "-01") + dt.timedelta(days=32)
    return f"{month:%Y%m}"


def edit_payments(drop: Path, *, pay_once_more: list[dict], put_right: dict) -> None:
    path = drop / "payments.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, lines = rows[0], rows[1:]
    month, case = header.index("发放年月"), header.index("证号")
    first, last = put_right["period_start"].replace("-", ""), put_right["period_end"].replace("-", "")
    kept = [line for line in lines if not (line[case] == put_right["case_no"] and first <= line[month] <= last)]
    extra = []
    for finding in pay_once_more:
        line = list(next(line for line in lines if line[case] == finding["case_no"]))
        line[month] = month_after(finding["period_end"])
        extra.append(line)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *kept, *extra])


def statuses(run_dir: Path) -> tuple[dict[str, str], set[str]]:
    con = duckdb.connect(str(run_dir / "hecha.duckdb"), read_only=True)
    try:
        status = dict(con.execute("select case_key, status from chk.finding_status").fetchall())
        resolved = {key for (key,) in con.execute("select case_key from chk.resolved").fetchall()}
    finally:
        con.close()
    return status, resolved


def sheet_keys(workbook: Path, sheet: str) -> dict[str, dict]:
    book = openpyxl.load_workbook(workbook, read_only=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    header = list(rows[0])
    return {row[header.index("案件编号")]: dict(zip(header, row)) for row in rows[1:] if row[header.index("案件编号")]}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    base = tmp_path_factory.mktemp("cycle")
    out = base / "out"
    drop = base / "drop"
    shutil.copytree(SAMPLE, drop)
    first = nightly(drop=drop, out=out)
    candidates = tekun_findings(first)
    not_true, rectified, true, put_right = candidates[:4]

    # the inspector fills in the county workbook, then sorts the sheet by name
    book_path = first / "workbooks" / "全县.xlsx"
    book = openpyxl.load_workbook(book_path)
    sheet = book[SHEET]
    header = [cell.value for cell in sheet[1]]
    key_column, conclusion_column, note_column = (header.index(h) + 1 for h in ("案件编号", "核查结论", "核查说明"))
    marks = {not_true["case_key"]: ("不属实", "同名不同人"), rectified["case_key"]: ("已整改", "已停发"), true["case_key"]: ("属实", None)}
    body = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    body.sort(key=lambda values: str(values[header.index("姓名")]))
    for number, values in enumerate(body, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column, value)
        mark = marks.get(values[key_column - 1])
        if mark:
            sheet.cell(number, conclusion_column, mark[0])
            sheet.cell(number, note_column, mark[1])
    filled = base / "全县_已核查.xlsx"
    book.save(filled)
    recorded = import_feedback(filled, out, inspector="测试核查员")

    edit_payments(drop, pay_once_more=[rectified, not_true], put_right=put_right)
    second = nightly(drop=drop, out=out)
    return {"out": out, "first": first, "second": second, "recorded": recorded, "not_true": not_true, "rectified": rectified,
            "true": true, "put_right": put_right}


def test_feedback_import_records_each_marked_row(cycle):
    assert cycle["recorded"].dispositions == {"不属实": 1, "已整改": 1, "属实": 1}


def test_next_run_suppresses_recurs_persists_and_resolves(cycle):
    status, resolved = statuses(cycle["second"])
    assert status[cycle["not_true"]["case_key"]] == "suppressed"  # paid once more, but the basis judged is unchanged
    assert status[cycle["rectified"]["case_key"]] == "recurred"  # paid again after 已整改
    assert status[cycle["true"]["case_key"]] == "persisting"  # 属实 keeps showing until resolved
    assert cycle["put_right"]["case_key"] not in status and cycle["put_right"]["case_key"] in resolved


def test_next_workbooks_hide_the_suppressed_and_flag_the_recurred(cycle):
    rows = sheet_keys(cycle["second"] / "workbooks" / "全县.xlsx", SHEET)
    assert cycle["not_true"]["case_key"] not in rows
    assert rows[cycle["rectified"]["case_key"]]["状态"] == "整改后复发"
    assert rows[cycle["true"]["case_key"]]["状态"] == "持续存在"


def test_hecha_diff_reports_the_change_between_the_runs(cycle, capsys):
    assert main(["diff", str(cycle["first"]), str(cycle["second"])]) == 0
    by_folder = capsys.readouterr().out
    line = next(line for line in by_folder.splitlines() if line.startswith("deceased_paid"))
    added, gone, changed = (int(value) for value in line.split()[2:5])
    assert (gone, changed) == (1, 2) and added == 0
    assert main(["diff", "previous", "latest", "--out", str(cycle["out"])]) == 0
    by_name = capsys.readouterr().out
    assert by_name == by_folder
    case = next(line for line in by_name.splitlines() if cycle["rectified"]["case_key"] in line)
    assert case.startswith("变化") and cycle["rectified"]["period_end"] in case
    assert not NUMBER.search(CASE_KEY.sub("", by_name))  # citizen numbers masked (a hex case key may hold a digit run)


NUMBER = __import__("re").compile(r"\d{17}[\dXx]|\d{15}")
CASE_KEY = __import__("re").compile(r"\b[0-9a-f]{16}\b")


def test_sample_workbooks_mask_every_citizen_number(cycle):
    """No citizen number of the drop (the register's, or any a finding names) appears in any workbook cell.

    Other long numbers (a 15-digit 建档立卡户编号, a certificate's category and grade digits) may show.
    """
    con = duckdb.connect(str(cycle["first"] / "hecha.duckdb"), read_only=True)
    try:
        numbers = {number for (number,) in con.execute(
            "select id_number from stg.household_register where id_number is not null "
            "union select id_number from chk.finding where id_number is not null"
        ).fetchall() if len(number) >= 15}
    finally:
        con.close()
    books = sorted((cycle["first"] / "workbooks").glob("*.xlsx"))
    assert len(books) > 2 and len(numbers) > 1000
    for path in books:
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                for value in row:
                    digits = DIGITS.sub("", str(value)) if value is not None else ""
                    if len(digits) >= 15:
                        shown = {digits[i:i + 18] for i in range(len(digits) - 14)} | {digits[i:i + 15] for i in range(len(digits) - 14)}
                        assert not shown & numbers, f"{path.name} {sheet.title} row {number}: a citizen number unmasked"


DIGITS = __import__("re").compile(r"[^0-9Xx]")


def test_township_workbook_holds_only_its_township(cycle):
    with (cycle["first"] / "exceptions.csv").open(encoding="utf-8-sig") as handle:
        township_of = {row["case_key"]: row["township"] for row in csv.DictReader(handle)}
    checked = 0
    for path in (cycle["first"] / "workbooks").glob("*.xlsx"):
        if path.stem == "全县":
            continue
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            if not rows or "案件编号" not in rows[0]:
                continue
            column = list(rows[0]).index("案件编号")
            keys = [row[column] for row in rows[1:] if row[column] and row[column] in township_of]
            assert {township_of[key] for key in keys} <= {path.stem}, f"{path.name} {sheet.title}"
            checked += len(keys)
    assert checked > 0
