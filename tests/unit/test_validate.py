"""The validate stage's expectations, generated from the declarations and evaluated in DuckDB.

`tests.stg_tables.planted_stg` holds a table per extract, clean rows with
faults planted at known source rows; `validate_stg` runs once for the module
and each test reads its part of the summary. That GX, the reference, agrees
with every figure here is `test_validate_gx.py`'s business.
"""

from __future__ import annotations

import datetime
import json

import pytest

from hecha.extracts.declarations import BY_STEM, DISABILITY, EXTRACTS
from hecha.extracts.expectations import BETWEEN, IN_SET, NOT_NULL, build_expectations
from hecha.extracts.schema import Column, Extract, RowRule
from hecha.extracts.validate import format_validation_failures, validate_stg
from tests.stg_tables import AS_OF, create_stg_table, numbered, planted_stg


@pytest.fixture(scope="module")
def summary() -> dict:
    con = planted_stg()
    result = validate_stg(con, EXTRACTS, AS_OF)
    con.close()
    return result


def expectation(summary: dict, stem: str, column: str, kind: str) -> dict:
    (found,) = [
        e for e in summary["files"][stem]["expectations"] if e["column"] == column and e["expectation"] == kind
    ]
    return found


def test_validate_stg_passes_clean_table(summary):
    tekun = summary["files"]["tekun"]
    assert tekun["rows"] == 2
    assert tekun["success"]
    assert all(e["success"] and e["unexpected_count"] == 0 and e["example_rows"] == [] for e in tekun["expectations"])


def test_validate_stg_reports_no_percent_for_a_column_left_blank(summary):
    stop_month = expectation(summary, "tekun", "stop_month", BETWEEN)
    assert (stop_month["success"], stop_month["unexpected_percent"]) == (True, None)  # none of the 2 rows has a value


def test_validate_stg_reports_month_after_as_of(summary):
    paid_month = expectation(summary, "payments", "paid_month", BETWEEN)
    assert not paid_month["success"]
    assert paid_month["unexpected_count"] == 2  # 2026-11 and 2027-01
    assert paid_month["example_rows"] == [2, 5]
    assert paid_month["unexpected_percent"] == pytest.approx(100 * 2 / 9)
    assert paid_month["description"] == "发放年月 不早于 1900-01 且不晚于 2026-10"


def test_validate_stg_reports_dates_before_1900_and_far_in_the_future(summary):
    birth_date = expectation(summary, "dibao", "birth_date", BETWEEN)
    assert (birth_date["unexpected_count"], birth_date["example_rows"]) == (2, [3, 5])  # 9999-01-01, 1899-12-31
    assert birth_date["unexpected_percent"] == pytest.approx(100 * 2 / 5)  # of the five rows with a birth date
    assert "error" not in birth_date


def test_validate_stg_reports_code_outside_vocabulary(summary):
    case_status = expectation(summary, "dibao", "case_status", IN_SET)
    assert (case_status["success"], case_status["unexpected_count"], case_status["example_rows"]) == (False, 1, [2])
    assert case_status["unexpected_percent"] == pytest.approx(100 / 6)


def test_validate_stg_set_and_range_checks_leave_blanks_out(summary):
    area_type = expectation(summary, "dibao", "area_type", IN_SET)
    assert (area_type["success"], area_type["unexpected_count"], area_type["unexpected_percent"]) == (True, 0, 0.0)
    amount = expectation(summary, "payments", "amount", BETWEEN)
    assert amount["unexpected_percent"] == pytest.approx(100 / 8)  # row 9 has no amount: of eight, not nine


def test_validate_stg_reports_negative_amount(summary):
    amount = expectation(summary, "payments", "amount", BETWEEN)
    assert (amount["success"], amount["unexpected_count"], amount["example_rows"]) == (False, 1, [4])
    assert amount["description"] == "金额 不小于 0"


def test_validate_stg_reports_missing_keys_over_every_row(summary):
    case_no = expectation(summary, "payments", "case_no", NOT_NULL)
    assert (case_no["success"], case_no["unexpected_count"], case_no["example_rows"]) == (False, 1, [7])
    assert case_no["unexpected_percent"] == pytest.approx(100 / 9)
    amount = expectation(summary, "payments", "amount", NOT_NULL)
    assert (amount["unexpected_count"], amount["example_rows"]) == (1, [9])


def test_validate_stg_reports_invalid_id_number(summary):
    status = expectation(summary, "payments", "id_number_status", IN_SET)
    assert (status["success"], status["unexpected_count"], status["example_rows"]) == (False, 2, [5, 8])  # invalid, blank
    # row 5's raw value was present, so only row 8 is reported missing the key
    assert expectation(summary, "payments", "id_number_raw", NOT_NULL)["example_rows"] == [8]


def test_validate_stg_row_rule_catches_grade_digit_mismatch_and_blank_grade(summary):
    rule = expectation(summary, "disability", "certificate_matches_holder", IN_SET)
    assert (rule["success"], rule["unexpected_count"], rule["example_rows"]) == (False, 2, [2, 4])
    assert rule["unexpected_percent"] == pytest.approx(100 * 2 / 4)  # a blank counts as broken, so every row counts
    assert rule["description"] == DISABILITY.row_rules[0].description
    assert expectation(summary, "disability", "disability_grade", NOT_NULL)["example_rows"] == [4]


def test_validate_stg_accepts_future_valid_until(summary):
    valid_until = expectation(summary, "disability", "valid_until", BETWEEN)
    assert valid_until["success"]  # 2031-11-30 and 9999-12-31 alike
    assert valid_until["description"] == "有效期至 不早于 1900-01-01"


def test_validate_stg_skips_absent_optional_columns(summary):
    cremation = summary["files"]["cremation"]
    assert cremation["success"]
    assert {"cremation_date", "funeral_home"}.isdisjoint(e["column"] for e in cremation["expectations"])
    assert expectation(summary, "cremation", "death_date", BETWEEN)["success"]


def test_validate_stg_skips_a_row_rule_whose_column_is_absent():
    con = planted_stg()
    con.execute("drop table stg.disability")
    create_stg_table(con, "disability", numbered([{"case_no": "X", "disability_grade": 1}]), absent=("id_number",))
    (disability,) = validate_stg(con, [DISABILITY], AS_OF)["files"].values()
    assert {e["column"] for e in disability["expectations"]}.isdisjoint({"id_number_raw", "id_number_status", "certificate_matches_holder"})


def test_validate_stg_example_rows_are_first_ten_ascending(summary):
    size = expectation(summary, "registered_poor", "household_size", BETWEEN)
    assert size["unexpected_count"] == 13  # twelve sizes of 0, one of 31; the blank is left out
    assert size["example_rows"] == list(range(1, 11))
    assert size["unexpected_percent"] == 100.0


def test_validate_stg_leaves_out_extracts_without_table(summary):
    assert set(summary["files"]) == {"payments", "dibao", "disability", "tekun", "cremation", "registered_poor"}


def test_validate_stg_summary_is_json_and_fails_overall(summary):
    assert json.loads(json.dumps(summary, ensure_ascii=False)) == summary
    assert summary["success"] is False


def test_validate_stg_summary_holds_row_numbers_never_values(summary):
    text = json.dumps(summary, ensure_ascii=False)
    assert "110101" not in text and "在保中" not in text


def test_validate_stg_reports_a_rule_that_cannot_be_evaluated_and_evaluates_the_rest():
    numbered_case = Extract(
        stem="tekun", title="特困", source_system="s", grain="g",
        columns=(Column("case_no", "供养证号", "text", "case number", nullable=False),
                 Column("monthly_amount", "月供养金", "amount", "monthly amount")),
        row_rules=(RowRule("case_no_is_numeric", "供养证号 为数字", "cast(case_no as integer) > 0"),),
    )
    con = planted_stg()  # tekun's case numbers are TK0001, TK0002: the cast fails
    (tekun,) = validate_stg(con, [numbered_case], AS_OF)["files"].values()
    rule, *others = sorted(tekun["expectations"], key=lambda e: e["column"] != "case_no_is_numeric")
    assert (rule["success"], rule["unexpected_count"], rule["example_rows"]) == (False, 0, [])
    # DuckDB's first line, without the value it could not cast
    assert rule["error"].startswith("Conversion Error: Could not convert string '…'") and "TK000" not in rule["error"]
    assert [(e["column"], e["success"]) for e in others] == [("case_no", True), ("monthly_amount", True)]
    (line,) = format_validation_failures({"files": {"tekun": tekun}})
    assert line.startswith("tekun: 供养证号 为数字: not evaluated (")


def test_format_validation_failures_lists_each_failed_expectation(summary):
    lines = format_validation_failures(summary)
    assert "payments: 发放年月 不早于 1900-01 且不晚于 2026-10: 2 rows, e.g. rows 2, 5" in lines
    assert "payments: 金额 不小于 0: 1 row, e.g. row 4" in lines
    assert "registered_poor: 家庭人口数 不小于 1 且不大于 30: 13 rows, e.g. rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10" in lines
    assert not [line for line in lines if line.startswith(("tekun:", "cremation:"))]
    # payments: month, amount range, amount key, case key, raw number key, id status; dibao: code, date;
    # disability: rule, grade key; registered_poor: size
    assert len(lines) == 11


@pytest.mark.parametrize(
    ("description", "stem", "column", "expected"),
    [
        ("key present on the raw citizen number", "payments", "id_number_raw", {"type": NOT_NULL}),
        ("nullable citizen number may be blank", "cremation", "id_number_status",
         {"type": IN_SET, "value_set": ("valid", "upgraded", "blank")}),
        ("required citizen number may not", "tekun", "id_number_status",
         {"type": IN_SET, "value_set": ("valid", "upgraded")}),
        ("codes, not the Chinese source values", "tekun", "case_status",
         {"type": IN_SET, "value_set": ("active", "stopped")}),
        ("last day of the as_of month", "household_register", "birth_date",
         {"type": BETWEEN, "min_value": datetime.date(1900, 1, 1), "max_value": datetime.date(2026, 10, 31)}),
        ("expiry may lie ahead", "disability", "valid_until",
         {"type": BETWEEN, "min_value": datetime.date(1900, 1, 1), "max_value": None}),
        ("declared integer bounds", "cremation", "age_at_death", {"type": BETWEEN, "min_value": 0, "max_value": 130}),
        ("a row rule reads the columns its SQL names", "disability", "certificate_matches_holder",
         {"type": IN_SET, "value_set": (True,),
          "reads": {"case_no", "id_number", "disability_category", "disability_grade"}}),
    ],
)
def test_build_expectations_derives_from_declaration(description, stem, column, expected):
    found = [e for e in build_expectations(BY_STEM[stem], AS_OF) if e.column == column and e.type == expected["type"]]
    assert len(found) == 1, description
    for key, value in expected.items():
        if key != "type":
            assert getattr(found[0], key) == value, description


def test_build_expectations_skips_not_null_on_nullable_columns():
    columns = {e.column for e in build_expectations(BY_STEM["dibao"], AS_OF) if e.type == NOT_NULL}
    assert columns == {"case_no", "township", "name", "id_number_raw", "is_covered", "inclusion", "start_month", "case_status"}
