"""Inputs that used to load and give wrong findings without a word: each is now an error or a quarantine.

One test per way in (issue 10): duplicate headers, an extract without rows,
an as_of outside the ledger's months, an implausible amount, malformed CSV
quoting, control characters and overlong text; with the near misses that must
still load.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
import pytest
import xlsxwriter

from hecha.config import add_months, load_policy
from hecha.extracts.declarations import BY_STEM, PAYMENTS
from hecha.extracts.errors import DropError
from hecha.extracts.guards import check_inputs, read_input_policy
from hecha.extracts.load import count_file, create_schemas, load_drop, load_raw, stage
from hecha.extracts.read import Manifest, read_extract_file
from hecha.extracts.writer import write_extract
from hecha.matching.normalize import normalize_identities
from tests.county import County

PAYMENT = {
    "paid_month": "2026-03", "programme": "特困供养金", "case_no": "TK0001", "name": "张三",
    "id_number": "11010519491231002X", "amount": "600.00", "township": "城关镇",
}
PAYMENT_HEADERS = [column.header for column in PAYMENTS.columns]  # 发放年月,项目,证号,姓名,身份证号,金额,乡镇(街道)


def load_rows(tmp_path, stem, rows, policy=None):
    """Write `rows` as `<stem>.csv`, load and type it alone; the connection and the file's counts."""
    write_extract(stem, pl.DataFrame(rows), tmp_path)
    con = duckdb.connect()
    create_schemas(con)
    read = read_extract_file(tmp_path, BY_STEM[stem], Manifest())
    load_raw(con, read)
    stage(con, read.extract, policy)
    return con, count_file(con, read)


def quarantined(con):
    return con.execute("select source_row, header, reason from stg.quarantine order by source_row").fetchall()


# 1. duplicate headers


def write_workbook(path, headers, rows):
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    for row_index, values in enumerate([headers, *rows]):
        for col, value in enumerate(values):
            sheet.write_string(row_index, col, value)
    workbook.close()


def test_xlsx_with_two_name_headers_is_refused_naming_both_columns(tmp_path):
    # 姓名 in column D and again in column H: the second used to replace every name
    headers = [*PAYMENT_HEADERS, "姓名"]
    rows = [[*PAYMENT.values(), "李四"]] * 3
    write_workbook(tmp_path / "payments.xlsx", headers, rows)
    with pytest.raises(DropError) as raised:
        read_extract_file(tmp_path, PAYMENTS, Manifest())
    message = str(raised.value)
    assert (raised.value.file, raised.value.column) == ("payments.xlsx", "姓名")
    assert "D (4)" in message and "H (8)" in message and "姓名" in message


def test_csv_with_two_headers_meaning_one_column_is_refused_naming_both_columns(tmp_path):
    # 身份证号 and its alias 公民身份号码 both mean id_number
    header = ",".join([*PAYMENT_HEADERS, "公民身份号码"])
    line = ",".join([*PAYMENT.values(), "110105194912310021"])
    (tmp_path / "payments.csv").write_text(f"{header}\n{line}\n", encoding="utf-8")
    with pytest.raises(DropError) as raised:
        read_extract_file(tmp_path, PAYMENTS, Manifest())
    message = str(raised.value)
    assert raised.value.file == "payments.csv"
    assert "E (5)" in message and "H (8)" in message and "身份证号" in message and "公民身份号码" in message


def test_csv_with_a_repeated_extra_header_is_refused(tmp_path):
    header = ",".join([*PAYMENT_HEADERS, "备注", "备注"])
    line = ",".join([*PAYMENT.values(), "a", "b"])
    (tmp_path / "payments.csv").write_text(f"{header}\n{line}\n", encoding="utf-8")
    with pytest.raises(DropError, match=r"H \(8\) and I \(9\)"):
        read_extract_file(tmp_path, PAYMENTS, Manifest())


def test_csv_with_blank_trailing_headers_still_loads(tmp_path):
    # exports that end every line with commas have several blank headers: not duplicates
    header = ",".join([*PAYMENT_HEADERS, "", ""])
    line = ",".join([*PAYMENT.values(), "", ""])
    (tmp_path / "payments.csv").write_text(f"{header}\n{line}\n", encoding="utf-8")
    read = read_extract_file(tmp_path, PAYMENTS, Manifest())
    assert read.frame["name"].to_list() == ["张三"]
    assert read.ignored_headers == ["", ""]


# 2. an extract without data rows


def full_county(tmp_path) -> County:
    """A drop where every extract that may not be empty has a row; cremation and registered_poor have none."""
    county = County(tmp_path)
    head = county.person(born="1960-02-03")
    county.dibao_case("DB0001", head, [(head, True)], amount=600)
    county.tekun(county.person(born="1940-01-01"))
    county.certificate(head, grade=2)
    county.pay(head, programme="dibao", months=("2025-01", "2026-10"), amount=600, case_no="DB0001")
    return county


def loaded(county: County, as_of: str = "2026-10") -> duckdb.DuckDBPyConnection:
    """Loaded and normalized, as a run has it when it checks the inputs."""
    con = duckdb.connect()
    load_drop(con, county.write(), Manifest(as_of=as_of))
    normalize_identities(con)
    return con


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def test_header_only_dibao_roster_is_refused_naming_the_file(tmp_path):
    county = full_county(tmp_path)
    county.rows["dibao"].clear()
    con = loaded(county)
    with pytest.raises(DropError) as raised:
        check_inputs(con, month("2026-10"), load_policy())
    assert raised.value.file == "dibao.csv"
    assert "dibao.csv" in str(raised.value)


def test_header_only_cremation_file_is_accepted(tmp_path):
    county = full_county(tmp_path)
    assert county.rows["cremation"] == []
    summary = check_inputs(loaded(county), month("2026-10"), load_policy())
    assert "cremation" in summary["empty_extracts"]


def test_roster_whose_every_row_is_quarantined_is_refused(tmp_path):
    county = full_county(tmp_path)
    for row in county.rows["tekun"]:
        row["start_month"] = "二〇二〇年"
    con = loaded(county)
    with pytest.raises(DropError, match="tekun.csv: all 1 row") as raised:
        check_inputs(con, month("2026-10"), load_policy())
    assert raised.value.file == "tekun.csv"


def test_policy_naming_an_unknown_extract_as_may_be_empty_is_refused():
    policy = load_policy()
    policy["inputs"]["may_be_empty"] = ["cremation", "burials"]
    with pytest.raises(ValueError, match="burials"):
        read_input_policy(policy)


# 3. as_of against the months the ledger covers


def test_as_of_far_after_the_ledger_is_refused_naming_the_months(tmp_path):
    con = loaded(full_county(tmp_path))  # the ledger pays 2025-01 … 2026-10
    with pytest.raises(DropError) as raised:
        check_inputs(con, month("2099-12"), load_policy())
    error = raised.value
    assert (error.file, error.column) == ("payments.csv", "发放年月")
    assert "2099-12" in str(error) and "2025-01" in str(error) and "2026-10" in str(error)


def test_as_of_before_the_ledger_is_refused(tmp_path):
    con = loaded(full_county(tmp_path))
    with pytest.raises(DropError, match="2024-12"):
        check_inputs(con, month("2024-12"), load_policy())


def test_as_of_on_the_ledger_last_month_and_the_allowed_months_after_it_is_accepted(tmp_path):
    con = loaded(full_county(tmp_path))
    policy = load_policy()
    allowed = policy["inputs"]["as_of_months_after_ledger"]
    last = month("2026-10")
    for as_of in (month("2025-01"), last, add_months(last, allowed)):
        summary = check_inputs(con, as_of, policy)
        assert (summary["ledger_first_month"], summary["ledger_last_month"]) == ("2025-01", "2026-10")
    with pytest.raises(DropError):
        check_inputs(con, add_months(last, allowed + 1), policy)


# 4. implausible amounts


def test_amount_beyond_the_policy_bound_is_quarantined_naming_column_and_bound(tmp_path):
    bound = Decimal(str(load_policy()["inputs"]["max_line_amount"]))
    rows = [PAYMENT, PAYMENT | {"amount": "99,999,999.99"}, PAYMENT | {"amount": f"{bound:.2f}"},
            PAYMENT | {"amount": f"{bound + Decimal('0.01'):.2f}"}, PAYMENT | {"amount": "-600.00"}]
    con, counts = load_rows(tmp_path, "payments", rows)
    assert (counts.rows_read, counts.rows_staged, counts.rows_quarantined) == (5, 2, 3)
    found = quarantined(con)
    assert [row for row, _, _ in found] == [2, 4, 5]
    for _, header, reason in found:
        assert header == "金额" and "金额" in reason
    assert f"{bound:g}" in found[0][2] and f"{bound:g}" in found[1][2]
    staged = [amount for (amount,) in con.execute("select amount from stg.payments order by source_row").fetchall()]
    assert staged == [Decimal("600.00"), bound]  # a line exactly at the bound is kept


def test_amount_bound_comes_from_the_policy_given(tmp_path):
    policy = load_policy()
    policy["inputs"]["max_line_amount"] = 500
    con, counts = load_rows(tmp_path, "payments", [PAYMENT], policy)
    assert counts.rows_quarantined == 1
    assert "500" in quarantined(con)[0][2]


def test_load_drop_applies_the_policy_it_is_given(tmp_path):
    policy = load_policy()
    policy["inputs"]["max_line_amount"] = 500  # below the 600 a month this county pays
    con = duckdb.connect()
    counts = {c["source"]: c for c in load_drop(con, full_county(tmp_path).write(), Manifest(), policy=policy)}
    ledger = counts["payments"]
    assert (ledger["rows_read"], ledger["rows_staged"], ledger["rows_quarantined"]) == (22, 0, 22)  # 2025-01 … 2026-10
    assert counts["dibao"]["rows_quarantined"] == 1  # 户月保障金 600 too


# 5. malformed CSV quoting


def payments_text(rows: int, bad_row: int, bad_line: str) -> str:
    lines = [",".join(PAYMENT_HEADERS)]
    for row in range(1, rows + 1):
        lines.append(bad_line if row == bad_row else ",".join([*PAYMENT.values()][:2] + [f"TK{row:05d}"] + [*PAYMENT.values()][3:]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("description", "name_cell"),
    [
        ("quote inside a value", '张"三'),
        ("quote ending a value", '张三"'),
        ("quote opening a value never closed", '"张三'),
    ],
)
def test_stray_quote_in_a_large_csv_is_one_error_naming_the_row(tmp_path, description, name_cell):
    cells = [*PAYMENT.values()]
    cells[3] = name_cell
    (tmp_path / "payments.csv").write_text(payments_text(6000, 3001, ",".join(cells)), encoding="utf-8")
    with pytest.raises(DropError) as raised:
        read_extract_file(tmp_path, PAYMENTS, Manifest())
    error = raised.value
    message = str(error)
    assert (error.file, error.row) == ("payments.csv", 3001), description
    assert "line 3002" in message and "姓名" in message and "expected" in message, description
    assert "\n" not in message and len(message) < 400, description


# 6. control characters and overlong text


def test_nul_byte_in_a_name_is_quarantined_naming_the_column(tmp_path):
    con, counts = load_rows(tmp_path, "payments", [PAYMENT, PAYMENT | {"name": "张\x00三"}, PAYMENT | {"case_no": "TK\x1b1"}])
    assert (counts.rows_staged, counts.rows_quarantined) == (1, 2)
    (row2, row3) = quarantined(con)
    assert row2[:2] == (2, "姓名") and "姓名" in row2[2] and "控制字符" in row2[2]
    assert row3[:2] == (3, "证号") and "证号" in row3[2]


def test_control_characters_in_a_drop_are_quarantined_only_in_the_columns_holding_them(tmp_path):
    # a whole load tests value by value only the columns that hold a control character somewhere
    drop = full_county(tmp_path).write()
    ledger = pl.read_csv(drop / "payments.csv", infer_schema=False)
    damaged = pl.concat([ledger, ledger.head(2).with_columns(pl.Series("姓名", ["张\x00三", "李四"]), pl.Series("证号", ["DB0001", "TK\x1b1"]))])
    damaged.write_csv(drop / "payments.csv")
    con = duckdb.connect()
    counts = {c["source"]: c for c in load_drop(con, drop, Manifest())}
    assert (counts["payments"]["rows_quarantined"], counts["payments"]["values_quarantined"]) == (2, 2)
    reasons = con.execute("select source_row, header, reason from stg.quarantine where source = 'payments' order by source_row").fetchall()
    assert [(row, header) for row, header, _ in reasons] == [(ledger.height + 1, "姓名"), (ledger.height + 2, "证号")]
    assert all("控制字符" in reason for _, _, reason in reasons)


def test_overlong_township_is_quarantined_and_one_at_the_bound_is_kept(tmp_path):
    bound = load_policy()["inputs"]["max_text_length"]
    rows = [PAYMENT | {"township": "镇" * 300}, PAYMENT | {"township": "镇" * bound}]
    con, counts = load_rows(tmp_path, "payments", rows)
    assert (counts.rows_staged, counts.rows_quarantined) == (1, 1)
    ((row, header, reason),) = quarantined(con)
    assert (row, header) == (1, "乡镇(街道)")
    assert "乡镇(街道)" in reason and str(bound) in reason


def test_address_may_run_longer_than_other_text_up_to_its_own_bound(tmp_path):
    inputs = load_policy()["inputs"]
    record = {"record_no": "HZ1", "name": "张三", "id_number": None, "sex": "男", "age_at_death": "77",
              "death_date": "2026-03-01", "cremation_date": "2026-03-03", "address": None, "funeral_home": "清河县殡仪馆"}
    rows = [record | {"address": "村" * (inputs["max_text_length"] + 1)}, record | {"address": "村" * (inputs["max_address_length"] + 1)}]
    con, counts = load_rows(tmp_path, "cremation", rows)
    assert [(row, header) for row, header, _ in quarantined(con)] == [(2, "户籍地址")]
