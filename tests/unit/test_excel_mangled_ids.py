"""Citizen numbers a spreadsheet has damaged, and drops with too many unusable numbers, stop the run (issue 11, item 6).

A register opened and saved in Excel/WPS holds 身份证号 as numbers rounded to
15 significant digits (`1.30534E+17`, `130534198305120000`). It used to load
without a word: rows that no longer link became findings at full confidence.
Such a column is refused when the file is read; a file whose numbers are
unusable beyond `inputs.max_unusable_id_share` stops the run unless the
operator accepts it. Near misses: real numbers that happen to end in 000,
numbers written as text in a workbook, numeric cells in other columns.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from hecha.config import load_policy
from hecha.extracts.declarations import BY_STEM, EXTRACTS, HOUSEHOLD_REGISTER
from hecha.extracts.errors import DropError
from hecha.extracts.guards import check_inputs, read_input_policy
from hecha.extracts.load import load_drop
from hecha.extracts.read import Manifest, read_extract_file, read_manifest
from hecha.extracts.writer import write_extract
from hecha.matching.id_number import check_character, make_id_number
from hecha.matching.normalize import normalize_identities
from tests.county import AREA, County

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"
AS_OF = dt.date(2026, 10, 1)
REGISTER_HEADERS = [column.header for column in HOUSEHOLD_REGISTER.columns]  # 户号, 姓名, 身份证号 (column C), …


def register(tmp_path: Path, people: int) -> list[dict]:
    """`people` register rows with valid, distinct citizen numbers (as the test county makes them)."""
    county = County(tmp_path)
    for n in range(people):
        county.person(born=f"{1940 + n % 60}-0{1 + n % 9}-1{n % 10}")
    return county.rows["household_register"]


def excel_rounded(number: str) -> str:
    """An all-digit number as Excel keeps it: 15 significant digits, the rest zeros."""
    return number[:15] + "0" * (len(number) - 15) if number.isdigit() else number


def numbers_ending_in_000(count: int) -> list[str]:
    """Valid citizen numbers that really end in 000: sequence x00 with check character 0 (about 1 in 1,100)."""
    found = []
    for day, hundred in itertools.product(range(1, 2000), range(1, 10)):
        first17 = f"{AREA}{dt.date(1950, 1, 1) + dt.timedelta(days=day):%Y%m%d}{hundred}00"
        if check_character(first17) == "0":
            found.append(first17 + "0")
            if len(found) == count:
                return found
    raise AssertionError("not enough numbers ending in 000")


def write_register_csv(folder: Path, rows: list[dict]) -> None:
    write_extract("household_register", pl.DataFrame(rows), folder)


def write_register_workbook(path: Path, rows: list[dict], *, numeric_ids: bool) -> None:
    """The register as a workbook; with `numeric_ids`, 身份证号 cells are numbers as Excel stores them (X-numbers stay text)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    for col, header in enumerate(REGISTER_HEADERS):
        sheet.write_string(0, col, header)
    for index, row in enumerate(rows, start=1):
        for col, column in enumerate(HOUSEHOLD_REGISTER.columns):
            value = row[column.name]
            if value is None:
                continue
            if column.name == "id_number" and numeric_ids and value.isdigit():
                sheet.write_number(index, col, float(excel_rounded(value)))
            elif column.name == "household_no":
                sheet.write_number(index, col, index)  # a numeric cell in a column that is no citizen number
            else:
                sheet.write_string(index, col, value)
    workbook.close()


def refused(folder: Path, stem: str = "household_register") -> DropError:
    with pytest.raises(DropError) as raised:
        read_extract_file(folder, BY_STEM[stem], Manifest())
    return raised.value


# 1. citizen-number columns holding numbers: refused when the file is read


def test_xlsx_register_whose_citizen_numbers_are_numeric_cells_is_refused(tmp_path):
    rows = register(tmp_path, 12)
    write_register_workbook(tmp_path / "household_register.xlsx", rows, numeric_ids=True)
    error = refused(tmp_path)
    first = next(i for i, row in enumerate(rows, start=1) if row["id_number"].isdigit())
    message = str(error)
    assert (error.file, error.column, error.row) == ("household_register.xlsx", "身份证号", first)
    assert "household_register.xlsx" in message and "column C" in message and "身份证号" in message
    assert f"row {first}" in message and f"C{first + 1}" in message  # the data row and the cell Excel shows
    assert "1.30534E+17" in message  # as Excel displays it
    assert "设置单元格格式" in message and "文本" in message
    assert "\n" not in message


@pytest.mark.parametrize("written", ["1.30534E+17", "1.30534e17", " 1.305342E+17 "])
def test_csv_register_with_citizen_numbers_in_scientific_notation_is_refused(tmp_path, written):
    rows = register(tmp_path, 5)
    rows[2]["id_number"] = written
    write_register_csv(tmp_path, rows)
    error = refused(tmp_path)
    assert (error.file, error.column, error.row) == ("household_register.csv", "身份证号", 3)
    assert "household_register.csv" in str(error) and "身份证号" in str(error) and written.strip() in str(error)


def test_csv_register_whose_18_digit_numbers_end_in_000_as_excel_leaves_them_is_refused(tmp_path):
    rows = register(tmp_path, 40)
    for row in rows:
        row["id_number"] = excel_rounded(row["id_number"])  # numbers ending in X stayed text, and intact
    write_register_csv(tmp_path, rows)
    error = refused(tmp_path)
    message = str(error)
    assert (error.file, error.column) == ("household_register.csv", "身份证号")
    assert "000" in message and "15" in message and "文本" in message
    assert rows[error.row - 1]["id_number"].endswith("000")
    assert rows[error.row - 1]["id_number"][6:14] not in message  # no birth date in the error line


def id_number_columns() -> list[tuple[str, str]]:
    return [(extract.stem, column.header) for extract in EXTRACTS for column in extract.id_number_columns]


def test_every_column_holding_citizen_numbers_is_declared_so():
    assert set(id_number_columns()) >= {
        ("household_register", "身份证号"), ("dibao", "户主身份证号"), ("dibao", "成员身份证号"), ("tekun", "身份证号"),
        ("registered_poor", "户主身份证号"), ("registered_poor", "证件号码"), ("cremation", "身份证号"),
        ("disability", "身份证号"), ("disability", "残疾人证号"), ("payments", "身份证号"),
    }


@pytest.mark.parametrize(("stem", "header"), id_number_columns())
def test_scientific_notation_is_refused_in_every_column_holding_citizen_numbers(tmp_path, stem, header):
    extract = BY_STEM[stem]
    headers = [column.header for column in extract.required_columns]
    value = "1.30534E+19" if header == "残疾人证号" else "1.30534E+17"
    cells = [value if h == header else "" for h in headers]
    (tmp_path / f"{stem}.csv").write_text(",".join(headers) + "\n" + ",".join(cells) + "\n", encoding="utf-8")
    error = refused(tmp_path, stem)
    assert (error.file, error.column, error.row) == (f"{stem}.csv", header, 1)


def test_disability_certificate_numbers_rounded_by_excel_are_refused(tmp_path):
    county = County(tmp_path)
    for n in range(5):
        county.certificate(county.person(born=f"196{n}-03-0{n + 1}"))
    for row in county.rows["disability"]:
        row["case_no"] = excel_rounded(row["case_no"])  # 20 digits: the last five become zeros
    write_extract("disability", pl.DataFrame(county.rows["disability"]), tmp_path)
    error = refused(tmp_path, "disability")
    assert (error.file, error.column) == ("disability.csv", "残疾人证号")


# near misses: numbers that must still load


@pytest.mark.parametrize(
    ("description", "people", "ending_in_000", "is_refused"),
    [
        ("two real numbers ending in 000 among sixty", 60, 2, False),
        ("three among a hundred: not more than one in twenty", 100, 3, False),
        ("six among a hundred: a column partly re-saved in Excel", 100, 6, True),
        ("three among three", 3, 3, True),
    ],
)
def test_numbers_ending_in_000_are_refused_only_when_too_many_do(tmp_path, description, people, ending_in_000, is_refused):
    rows = register(tmp_path, people)
    for row, number in zip(rows, numbers_ending_in_000(ending_in_000)):
        row["id_number"] = number
    write_register_csv(tmp_path, rows)
    if is_refused:
        assert refused(tmp_path).column == "身份证号", description
    else:
        read = read_extract_file(tmp_path, HOUSEHOLD_REGISTER, Manifest())
        assert read.frame["id_number"].to_list() == [row["id_number"] for row in rows], description


def test_one_number_repeated_on_every_ledger_line_is_judged_once(tmp_path):
    # a payee whose real number ends in 000, paid 22 months: one number, not 22 of 23
    county = County(tmp_path)
    other = county.person()
    payee = county.person(id_number=numbers_ending_in_000(1)[0])
    county.pay(payee, programme="tekun", months=("2025-01", "2026-10"), amount=600)
    county.pay(other, programme="tekun", months=("2026-10", "2026-10"), amount=600)
    write_extract("payments", pl.DataFrame(county.rows["payments"]), tmp_path)
    read = read_extract_file(tmp_path, BY_STEM["payments"], Manifest())
    assert read.frame.height == 23


def test_xlsx_register_with_citizen_numbers_written_as_text_loads(tmp_path):
    rows = register(tmp_path, 12)
    write_register_workbook(tmp_path / "household_register.xlsx", rows, numeric_ids=False)  # 户号 cells are numbers
    read = read_extract_file(tmp_path, HOUSEHOLD_REGISTER, Manifest())
    assert read.frame["id_number"].to_list() == [row["id_number"] for row in rows]  # all 18 characters kept
    assert read.frame["household_no"].to_list()[:2] == ["1", "2"]


# 2. the share of unusable citizen numbers: a gate from the policy


def with_tekun(tmp_path: Path, *, valid: int, unusable: int, blank: int = 0, stem: str = "tekun") -> County:
    """A county every extract of which passes, plus `valid` + `unusable` people on the tekun roster (or cremated)."""
    county = County(tmp_path)
    head = county.person(born="1960-02-03")
    county.dibao_case("DB0001", head, [(head, True)], amount=600)
    county.certificate(head, grade=2)
    county.pay(head, programme="dibao", months=("2025-01", "2026-10"), amount=600, case_no="DB0001")
    for n in range(valid + unusable + blank):
        number = make_id_number(AREA, dt.date(1940, 1, 1) + dt.timedelta(days=n), 111)
        if n < unusable:
            number = number[:17] + ("1" if number[17] != "1" else "2")  # a wrong check character
        elif n >= valid + unusable:
            number = ""
        person = county.person(born="1940-01-01", id_number=number, registered=False)
        if stem == "tekun":
            county.tekun(person)
        else:
            county.cremate(person, "2026-01-05")
    if stem != "tekun":
        county.tekun(head)
    return county


def loaded(county: County) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    drop = county.write()
    load_drop(con, drop, read_manifest(drop))
    normalize_identities(con)
    return con


def policy_with(share: float) -> dict:
    policy = load_policy()
    policy["inputs"]["max_unusable_id_share"] = share
    return policy


def test_file_with_five_percent_unusable_numbers_stops_naming_file_column_share_and_bound(tmp_path):
    con = loaded(with_tekun(tmp_path, valid=19, unusable=1))
    with pytest.raises(DropError) as raised:
        check_inputs(con, AS_OF, policy_with(0.02))
    error = raised.value
    message = str(error)
    assert (error.file, error.column) == ("tekun.csv", "身份证号")
    assert "tekun.csv" in message and "身份证号" in message
    assert "5.0%" in message and "1 of 20" in message  # the share, and what it is of
    assert "2.0%" in message and "inputs.max_unusable_id_share" in message  # the bound and where it is set
    assert "--accept-unusable-ids" in message
    assert "\n" not in message


def test_file_over_the_bound_passes_with_the_override_and_the_summary_says_so(tmp_path):
    con = loaded(with_tekun(tmp_path, valid=19, unusable=1))
    summary = check_inputs(con, AS_OF, policy_with(0.02), accept_unusable_ids=True)
    assert summary["unusable_ids_accepted"] == [{"file": "tekun.csv", "column": "身份证号", "share": 0.05, "bound": 0.02}]


def test_file_exactly_at_the_bound_passes(tmp_path):
    con = loaded(with_tekun(tmp_path, valid=49, unusable=1))  # 1 of 50 = 2%
    summary = check_inputs(con, AS_OF, policy_with(0.02))
    assert summary["unusable_ids_accepted"] == []
    tekun = next(entry for entry in summary["unusable_id_shares"] if entry["file"] == "tekun.csv")
    assert (tekun["unusable"], tekun["non_blank"], tekun["share"]) == (1, 50, 0.02)


def test_blank_numbers_are_not_counted_in_the_share(tmp_path):
    # 1 unusable of 20 written numbers (5%), 30 blank: 2% of the rows, but 5% of the numbers
    con = loaded(with_tekun(tmp_path, valid=19, unusable=1, blank=30, stem="cremation"))
    with pytest.raises(DropError, match="5.0%") as raised:
        check_inputs(con, AS_OF, policy_with(0.02))
    assert (raised.value.file, raised.value.column) == ("cremation.csv", "身份证号")


def test_check_inputs_refuses_to_judge_numbers_without_a_status(tmp_path):
    con = duckdb.connect()
    drop = with_tekun(tmp_path, valid=3, unusable=0).write()
    load_drop(con, drop, read_manifest(drop))
    con.execute("update stg.tekun set id_number_status = null")  # as if staged without normalizing
    with pytest.raises(RuntimeError, match="normalize_identities"):
        check_inputs(con, AS_OF, load_policy())


@pytest.mark.parametrize("share", [-0.1, 1.5, "2%", None, True])
def test_implausible_unusable_id_share_in_the_policy_is_refused_naming_the_key(share):
    with pytest.raises(ValueError, match="inputs.max_unusable_id_share"):
        read_input_policy(policy_with(share))


def test_sample_drop_passes_the_gate_with_the_default_policy():
    con = duckdb.connect()
    load_drop(con, SAMPLE_DROP, read_manifest(SAMPLE_DROP))
    normalize_identities(con)
    summary = check_inputs(con, AS_OF, load_policy())
    assert summary["unusable_ids_accepted"] == []
    bound = load_policy()["inputs"]["max_unusable_id_share"]
    assert all(entry["share"] <= bound for entry in summary["unusable_id_shares"])
