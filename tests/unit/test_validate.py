"""The GX suite generated from the declarations, run on small hand-built stg tables.

One in-memory DuckDB holds a table per extract, clean rows with faults planted
at known source rows; `validate_stg` runs once for the module and each test
reads its part of the summary.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import duckdb
import pytest

from hecha.extracts.declarations import BY_STEM, DISABILITY, EXTRACTS
from hecha.extracts.validate import build_expectations, format_validation_failures, validate_stg

AS_OF = datetime.date(2026, 10, 15)  # checks run up to the end of the month: 2026-10-31
ID = "110101199001011234"  # status columns carry the verdict; the digits only need to line up
OTHER_ID = "110101198502022345"


def person(name: str = "张三", id_number: str = ID, status: str = "valid") -> dict:
    return {"name": name, "name_raw": name, "id_number": id_number, "id_number_raw": id_number, "id_number_status": status}


def create_stg_table(
    con: duckdb.DuckDBPyConnection, stem: str, rows: list[tuple[int, dict]], absent: tuple[str, ...] = ()
) -> None:
    """`stg.<stem>` shaped from the declaration as the loader shapes it, with (source_row, values) rows.

    Columns named in `absent` are left out, as for an optional column missing from the file.
    """
    extract = BY_STEM[stem]
    columns = [("source_file", "varchar"), ("source_row", "integer")] + [
        stg for column in extract.columns if column.name not in absent for stg in column.stg_columns
    ]
    con.execute(f"create table stg.{stem} ({', '.join(f'{name} {kind}' for name, kind in columns)})")
    names = [name for name, _ in columns]
    placeholders = ", ".join("?" for _ in names)
    for source_row, row in rows:
        values = {"source_file": f"{stem}.csv", "source_row": source_row, **row}
        con.execute(f"insert into stg.{stem} values ({placeholders})", [values.get(name) for name in names])


def numbered(rows: list[dict]) -> list[tuple[int, dict]]:
    """Rows in file order: source_row counts data rows from 1."""
    return list(enumerate(rows, start=1))


def payment(**changes) -> dict:
    row = {
        "paid_month": datetime.date(2026, 10, 1),
        "programme": "dibao",
        "case_no": "DB0001",
        **person(),
        "amount": Decimal("600.00"),
        "township": "城关镇",
    }
    return row | changes


def dibao_member(**changes) -> dict:
    row = {
        "case_no": "DB0001",
        "township": "城关镇",
        "village": "东关村",
        "area_type": "rural",
        "head_name": "张三",
        "head_name_raw": "张三",
        "head_id_number": None,
        "head_id_number_raw": None,
        "head_id_number_status": "blank",
        **person(),
        "relation": "head",
        "sex": "M",
        "birth_date": datetime.date(1990, 1, 1),
        "is_covered": True,
        "inclusion": "household",
        "start_month": datetime.date(2020, 3, 1),
        "case_status": "active",
        "stop_month": None,
        "monthly_amount": Decimal("1200.00"),
        "has_tekun_waiver": False,
    }
    return row | changes


def certificate(grade: int = 1, grade_digit: str | None = None, **changes) -> dict:
    # 残疾人证号 = citizen number + category digit (4 肢体) + grade digit
    row = {
        "case_no": f"{ID}4{grade if grade_digit is None else grade_digit}",
        **person(),
        "sex": "M",
        "disability_category": "physical",
        "disability_grade": grade,
        "issue_date": datetime.date(2021, 12, 1),
        "valid_until": datetime.date(2031, 11, 30),  # after as_of, as certificates in use are
        "certificate_status": "valid",
        "township": "城关镇",
        "village": "东关村",
    }
    return row | changes


def tekun_person(**changes) -> dict:
    row = {
        "case_no": "TK0001",
        **person("李四", OTHER_ID),
        "sex": "F",
        "birth_date": datetime.date(1950, 5, 6),
        "township": "城关镇",
        "village": "西关村",
        "support_mode": "home",
        "monthly_amount": Decimal("900.00"),
        "start_month": datetime.date(2019, 1, 1),
        "case_status": "active",
        "stop_month": None,
    }
    return row | changes


def cremation_record(**changes) -> dict:
    row = {
        "record_no": "HH0001",
        **person("王五", None, "blank"),
        "sex": "M",
        "age_at_death": 81,
        "death_date": datetime.date(2026, 9, 3),
        "address": "某县城关镇东关村",
    }
    return row | changes


def poor_member(**changes) -> dict:
    row = {
        "poor_household_no": "P0001",
        "head_name": "张三",
        "head_name_raw": "张三",
        "head_id_number": ID,
        "head_id_number_raw": ID,
        "head_id_number_status": "valid",
        **person(),
        "relation": "head",
        "household_size": 3,
        "township": "城关镇",
        "village": "东关村",
        "household_type": "monitored",
        "health": "healthy",
        "safety_net": "dibao",
    }
    return row | changes


@pytest.fixture(scope="module")
def summary() -> dict:
    con = duckdb.connect()
    con.execute("create schema stg")
    create_stg_table(con, "payments", numbered([
        payment(),
        payment(paid_month=datetime.date(2026, 11, 1)),  # row 2: month after as_of
        payment(id_number_status="upgraded"),
        payment(amount=Decimal("-300.00")),  # row 4: negative amount
        payment(paid_month=datetime.date(2027, 1, 1), id_number=None, id_number_status="invalid"),  # row 5: both
        payment(paid_month=datetime.date(2026, 10, 1)),  # the as_of month itself is fine
    ]))
    create_stg_table(con, "dibao", numbered([
        dibao_member(),
        dibao_member(case_status="在保中"),  # row 2: not in the vocabulary, kept as read
        dibao_member(birth_date=datetime.date(9999, 1, 1)),  # row 3: beyond pandas' timestamp range
        dibao_member(case_status="stopped", stop_month=datetime.date(2025, 6, 1)),
    ]))
    create_stg_table(con, "disability", numbered([
        certificate(grade=1),
        certificate(grade=1, grade_digit="2"),  # row 2: certificate says grade 2, 残疾等级 says 一级
        certificate(grade=3, valid_until=datetime.date(2030, 6, 30)),
    ]))
    # clean; 终止年月 is blank on every row, which a date check must let through
    create_stg_table(con, "tekun", numbered([tekun_person(), tekun_person(case_no="TK0002")]))
    # an export without the optional 火化日期 and 殡仪馆 columns
    create_stg_table(con, "cremation", numbered([cremation_record()]), absent=("cremation_date", "funeral_home"))
    # twelve implausible household sizes, stored out of row order
    create_stg_table(con, "registered_poor", [(row, poor_member(household_size=0)) for row in range(12, 0, -1)])
    result = validate_stg(con, EXTRACTS, AS_OF)
    con.close()
    return result


def expectation(summary: dict, stem: str, column: str, kind: str) -> dict:
    (found,) = [
        e for e in summary["files"][stem]["expectations"] if e["column"] == column and e["expectation"] == kind
    ]
    return found


BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"


def test_validate_stg_passes_clean_table(summary):
    tekun = summary["files"]["tekun"]
    assert tekun["rows"] == 2
    assert tekun["success"]
    assert all(e["success"] and e["unexpected_count"] == 0 and e["example_rows"] == [] for e in tekun["expectations"])


def test_validate_stg_reports_month_after_as_of(summary):
    paid_month = expectation(summary, "payments", "paid_month", BETWEEN)
    assert not paid_month["success"]
    assert paid_month["unexpected_count"] == 2  # 2026-11 and 2027-01
    assert paid_month["example_rows"] == [2, 5]
    assert paid_month["description"] == "发放年月 不早于 1900-01 且不晚于 2026-10"


def test_validate_stg_reports_date_beyond_pandas_timestamp_range(summary):
    birth_date = expectation(summary, "dibao", "birth_date", BETWEEN)
    assert (birth_date["unexpected_count"], birth_date["example_rows"]) == (1, [3])
    assert "error" not in birth_date


def test_validate_stg_reports_code_outside_vocabulary(summary):
    case_status = expectation(summary, "dibao", "case_status", IN_SET)
    assert (case_status["success"], case_status["unexpected_count"], case_status["example_rows"]) == (False, 1, [2])
    assert case_status["unexpected_percent"] == pytest.approx(100 / 4)


def test_validate_stg_reports_negative_amount(summary):
    amount = expectation(summary, "payments", "amount", BETWEEN)
    assert (amount["success"], amount["unexpected_count"], amount["example_rows"]) == (False, 1, [4])
    assert amount["description"] == "金额 不小于 0"


def test_validate_stg_reports_invalid_id_number(summary):
    status = expectation(summary, "payments", "id_number_status", IN_SET)
    assert (status["success"], status["unexpected_count"], status["example_rows"]) == (False, 1, [5])
    # the raw value was present, so the key is not reported missing
    assert expectation(summary, "payments", "id_number_raw", "expect_column_values_to_not_be_null")["success"]


def test_validate_stg_row_rule_catches_grade_digit_mismatch(summary):
    rule = expectation(summary, "disability", "certificate_matches_holder", IN_SET)
    assert (rule["success"], rule["unexpected_count"], rule["example_rows"]) == (False, 1, [2])
    assert rule["description"] == DISABILITY.row_rules[0].description


def test_validate_stg_accepts_future_valid_until(summary):
    valid_until = expectation(summary, "disability", "valid_until", BETWEEN)
    assert valid_until["success"]
    assert valid_until["description"] == "有效期至 不早于 1900-01-01"


def test_validate_stg_skips_absent_optional_columns(summary):
    cremation = summary["files"]["cremation"]
    assert cremation["success"]
    assert {"cremation_date", "funeral_home"}.isdisjoint(e["column"] for e in cremation["expectations"])
    assert expectation(summary, "cremation", "death_date", BETWEEN)["success"]


def test_validate_stg_example_rows_are_first_ten_ascending(summary):
    size = expectation(summary, "registered_poor", "household_size", BETWEEN)
    assert size["unexpected_count"] == 12
    assert size["example_rows"] == list(range(1, 11))


def test_validate_stg_leaves_out_extracts_without_table(summary):
    assert set(summary["files"]) == {"payments", "dibao", "disability", "tekun", "cremation", "registered_poor"}


def test_validate_stg_summary_is_json_and_fails_overall(summary):
    assert json.loads(json.dumps(summary, ensure_ascii=False)) == summary
    assert summary["success"] is False


def test_format_validation_failures_lists_each_failed_expectation(summary):
    lines = format_validation_failures(summary)
    assert "payments: 发放年月 不早于 1900-01 且不晚于 2026-10: 2 rows, e.g. rows 2, 5" in lines
    assert "payments: 金额 不小于 0: 1 row, e.g. row 4" in lines
    assert "registered_poor: 家庭人口数 不小于 1 且不大于 30: 12 rows, e.g. rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" in lines
    assert not [line for line in lines if line.startswith(("tekun:", "cremation:"))]
    # payments: month, amount, id status; dibao: code, date; disability: rule; registered_poor: size
    assert len(lines) == 7


@pytest.mark.parametrize(
    ("description", "stem", "column", "expected"),
    [
        ("key present on the raw citizen number", "payments", "id_number_raw",
         {"type": "expect_column_values_to_not_be_null"}),
        ("nullable citizen number may be blank", "cremation", "id_number_status",
         {"type": IN_SET, "value_set": ["valid", "upgraded", "blank"]}),
        ("required citizen number may not", "tekun", "id_number_status",
         {"type": IN_SET, "value_set": ["valid", "upgraded"]}),
        ("codes, not the Chinese source values", "tekun", "case_status",
         {"type": IN_SET, "value_set": ["active", "stopped"]}),
        ("last day of the as_of month", "household_register", "birth_date",
         {"type": BETWEEN, "min_value": datetime.datetime(1900, 1, 1), "max_value": datetime.datetime(2026, 10, 31)}),
        ("expiry may lie ahead", "disability", "valid_until",
         {"type": BETWEEN, "min_value": datetime.datetime(1900, 1, 1), "max_value": None}),
        ("declared integer bounds", "cremation", "age_at_death", {"type": BETWEEN, "min_value": 0, "max_value": 130}),
    ],
)
def test_build_expectations_derives_from_declaration(description, stem, column, expected):
    found = [e for e in build_expectations(BY_STEM[stem], AS_OF) if e.column == column and e.expectation_type == expected["type"]]
    assert len(found) == 1, description
    for key, value in expected.items():
        if key != "type":
            assert getattr(found[0], key) == value, description


def test_build_expectations_skips_not_null_on_nullable_columns():
    columns = {e.column for e in build_expectations(BY_STEM["dibao"], AS_OF) if e.expectation_type == "expect_column_values_to_not_be_null"}
    assert columns == {"case_no", "township", "name", "id_number_raw", "is_covered", "inclusion", "start_month", "case_status"}
