"""Outcomes over three months of drops: payments stop after a 属实 verdict, back-pay is paid, rates come from verdicts.

Month 1 is the committed sample (as_of 2026-10). Inspectors mark three
deceased_paid findings: two 属实, one 不属实. Month 2's ledger pays 2026-11
as 2026-10 was paid, except the first confirmed case (its payments stopped).
Month 3 pays 2026-12 the same way and also the months a missed_care_subsidy
finding owed (the back-pay paid). Amounts are worked out here from the
ledger lines.
"""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import import_feedback
from hecha.flows.run import start_run
from hecha.flows.stages import nightly_stages, run_stages

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"


def run_month(drop: Path, out: Path) -> Path:
    return run_stages(start_run(drop, None, out), nightly_stages())


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def next_month(drop: Path, month: str, *, stop_case: str, backpay: dict | None = None) -> list[list[str]]:
    """Pay `month` (YYYYMM) as the ledger's last month was paid, except `stop_case`; add back-pay lines; set as_of."""
    path = drop / "payments.csv"
    header, lines = read_csv(path)
    paid, case = header.index("发放年月"), header.index("证号")
    last = max(line[paid] for line in lines)
    added = [[month if i == paid else value for i, value in enumerate(line)]
             for line in lines if line[paid] == last and line[case] != stop_case]
    backpay_lines = []
    if backpay:
        template = next(line for line in lines if line[header.index("项目")].strip() == "重度残疾人护理补贴")
        first, final = backpay["period_start"].replace("-", ""), backpay["period_end"].replace("-", "")
        months = sorted({line[paid] for line in lines if first <= line[paid] <= final})
        monthly = Decimal(backpay["backpay_amount"]) / len(months)
        for owed in months:
            line = list(template)
            line[paid], line[case] = owed, backpay["case_no"]
            line[header.index("姓名")], line[header.index("身份证号")] = backpay["name"], backpay["id_number"]
            line[header.index("金额")] = f"{monthly:.2f}"
            backpay_lines.append(line)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *lines, *added, *backpay_lines])
    (drop / "manifest.yaml").write_text(f'county: "130534"\nas_of: "{month[:4]}-{month[4:]}"\n', encoding="utf-8")
    return backpay_lines


def findings(run_dir: Path) -> list[dict]:
    with (run_dir / "exceptions.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def mark(run_dir: Path, verdicts: dict[str, str], target: Path) -> Path:
    book = openpyxl.load_workbook(run_dir / "workbooks" / "全县.xlsx")
    for sheet in book.worksheets:
        for header_row in range(1, 6):
            header = [cell.value for cell in sheet[header_row]]
            if "案件编号" in header and "核查结论" in header:
                key, conclusion = header.index("案件编号") + 1, header.index("核查结论") + 1
                for row in range(header_row + 1, sheet.max_row + 1):
                    if sheet.cell(row, key).value in verdicts:
                        sheet.cell(row, conclusion, verdicts[sheet.cell(row, key).value])
                break
    book.save(target)
    return target


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    base = tmp_path_factory.mktemp("months")
    drop, out = base / "drop", base / "out"
    shutil.copytree(SAMPLE, drop)
    first = run_month(drop, out)
    ongoing = [row for row in findings(first) if row["check_code"] == "deceased_paid" and row["period_end"] == "2026-10"
               and "、" not in row["case_no"] and row["needs_confirmation"].lower() == "false"]
    stopped, continuing, not_true = ongoing[:3]
    import_feedback(mark(first, {stopped["case_key"]: "属实", continuing["case_key"]: "属实", not_true["case_key"]: "不属实"},
                         base / "marked.xlsx"), out, inspector="测试核查员")
    header, lines = read_csv(drop / "payments.csv")
    monthly = sum(Decimal(line[header.index("金额")]) for line in lines
                  if line[header.index("证号")] == stopped["case_no"] and line[header.index("发放年月")] == "202610")
    next_month(drop, "202611", stop_case=stopped["case_no"])
    second = run_month(drop, out)
    owed = next(row for row in findings(second) if row["check_code"] == "missed_care_subsidy" and row["period_end"] < "2026-11")
    backpay_lines = next_month(drop, "202612", stop_case=stopped["case_no"], backpay=owed)
    third = run_month(drop, out)
    return {"third": third, "stopped": stopped, "continuing": continuing, "not_true": not_true, "monthly": monthly,
            "owed": owed, "backpay_paid": sum(Decimal(line[header.index("金额")]) for line in backpay_lines)}


def outcome_rows(run_dir: Path, sql: str) -> list[dict]:
    con = duckdb.connect(str(run_dir / "hecha.duckdb"), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def test_payments_stopped_after_a_true_verdict_are_counted_with_the_month_and_the_monthly_amount(months):
    (row,) = outcome_rows(months["third"], f"select * from chk.outcome where case_key = '{months['stopped']['case_key']}'")
    assert row["stopped"] is True
    assert f"{row['stopped_month']:%Y-%m}" == "2026-11"
    assert Decimal(str(row["monthly_stopped_amount"])).quantize(Decimal("0.01")) == months["monthly"]


def test_payments_that_go_on_are_not_counted_as_stopped(months):
    (row,) = outcome_rows(months["third"], f"select * from chk.outcome where case_key = '{months['continuing']['case_key']}'")
    assert row["stopped"] is False


def test_back_pay_paid_in_a_later_ledger_is_counted(months):
    (row,) = outcome_rows(months["third"], f"select * from chk.outcome where case_key = '{months['owed']['case_key']}'")
    assert Decimal(str(row["backpay_paid"])).quantize(Decimal("0.01")) == months["backpay_paid"]


def test_the_precision_inspectors_measured_is_the_share_of_true_verdicts(months):
    (summary,) = outcome_rows(months["third"], "select * from chk.outcome_summary where check_code = 'deceased_paid'")
    assert (summary["true_count"], summary["not_true_count"]) == (2, 1)
    assert summary["true_rate"] == pytest.approx(2 / 3)
