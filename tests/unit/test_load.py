"""Loading into DuckDB: typing, quarantine with reasons, counts that add up, numbers and names normalized as staged."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from hecha.extracts.declarations import EXTRACTS, PAYMENTS
from hecha.extracts.load import count_file, create_schemas, load_drop, load_raw, stage, stg_ddl
from hecha.extracts.read import Manifest, read_extract_file, read_manifest
from hecha.extracts.writer import write_extract
from hecha.matching.id_number import normalize_id_numbers
from hecha.matching.names import normalize_names
from hecha.matching.normalize import normalize_identities

GOOD = {
    "paid_month": "2026-03", "programme": "特困供养金", "case_no": "TK0001", "name": "张三",
    "id_number": "11010519491231002X", "amount": "600.00", "township": "城关镇",
}


def load_payments(tmp_path, rows):
    write_extract("payments", pl.DataFrame(rows), tmp_path)
    con = duckdb.connect()
    create_schemas(con)
    read = read_extract_file(tmp_path, PAYMENTS, Manifest())
    load_raw(con, read)
    stage(con, PAYMENTS)
    return con, count_file(con, read)


def test_bad_date_row_goes_to_quarantine_with_reason_and_counts_add_up(tmp_path):
    rows = [GOOD, GOOD | {"paid_month": "2026-13"}, GOOD | {"paid_month": "202604"}]
    con, counts = load_payments(tmp_path, rows)
    assert (counts.rows_read, counts.rows_staged, counts.rows_quarantined) == (3, 2, 1)
    assert counts.rows_read == counts.rows_staged + counts.rows_quarantined
    (quarantined,) = con.execute("select source_file, source_row, header, value, reason from stg.quarantine").fetchall()
    assert quarantined[:4] == ("payments.csv", 2, "发放年月", "2026-13")
    assert "年月" in quarantined[4]
    months = con.execute("select strftime(paid_month, '%Y-%m') from stg.payments order by source_row").fetchall()
    assert months == [("2026-03",), ("2026-04",)]


def test_row_with_two_bad_values_is_one_row_with_two_reasons(tmp_path):
    con, counts = load_payments(tmp_path, [GOOD | {"paid_month": "三月", "amount": "六百"}])
    assert (counts.rows_quarantined, counts.values_quarantined, counts.rows_staged) == (1, 2, 0)


@pytest.mark.parametrize(
    ("description", "amount", "staged"),
    [
        ("two decimals", "600.50", 600.50),
        ("thousands separator", "1,200", 1200.0),
        ("surrounding spaces", " 80 ", 80.0),
        ("three decimals is not yuan", "1.234", None),
        ("text", "六百", None),
    ],
)
def test_amount_typing(tmp_path, description, amount, staged):
    con, counts = load_payments(tmp_path, [GOOD | {"amount": amount}])
    values = [float(v) for (v,) in con.execute("select amount from stg.payments").fetchall()]
    assert values == ([staged] if staged is not None else [])
    assert counts.rows_quarantined == (0 if staged is not None else 1)


def test_vocabulary_becomes_codes_and_unknown_values_stay_visible(tmp_path):
    con, counts = load_payments(tmp_path, [GOOD, GOOD | {"programme": "临时救助"}])
    codes = con.execute("select programme from stg.payments order by source_row").fetchall()
    assert codes == [("tekun",), ("临时救助",)]  # kept for validation to report, row not lost
    assert counts.rows_quarantined == 0


@pytest.mark.parametrize("extract", EXTRACTS, ids=lambda e: e.stem)
def test_stg_ddl_has_raw_and_status_beside_each_citizen_number(extract):
    con = duckdb.connect()
    con.execute("create schema stg")
    con.execute(stg_ddl(extract))
    columns = {name for (name,) in con.execute(f"select column_name from information_schema.columns where table_name = '{extract.stem}'").fetchall()}
    for column in extract.columns_of_kind("id_number"):
        assert {column.name, f"{column.name}_raw", f"{column.name}_status"} <= columns


SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"


@pytest.fixture(scope="module")
def sample():
    """The committed sample drop, loaded."""
    con = duckdb.connect()
    load_drop(con, SAMPLE_DROP, read_manifest(SAMPLE_DROP))
    return con


@pytest.mark.parametrize("extract", EXTRACTS, ids=lambda e: e.stem)
def test_staged_citizen_numbers_and_names_are_their_values_as_read_normalized_row_by_row(sample, extract):
    staged = sample.sql(f"select * from stg.{extract.stem} order by source_row").pl()
    for column in extract.columns_of_kind("id_number"):
        expected = normalize_id_numbers(staged[f"{column.name}_raw"])
        assert staged[column.name].to_list() == expected["id_number"].to_list(), column.name
        assert staged[f"{column.name}_status"].to_list() == expected["id_number_status"].to_list(), column.name
    for column in extract.columns_of_kind("name"):
        assert staged[column.name].to_list() == normalize_names(staged[f"{column.name}_raw"]).to_list(), column.name


@pytest.mark.parametrize("extract", EXTRACTS, ids=lambda e: e.stem)
def test_every_row_read_is_staged_in_file_order_or_quarantined(sample, extract):
    raw = [row for (row,) in sample.execute(f"select source_row from raw.{extract.stem} order by source_row").fetchall()]
    staged = [row for (row,) in sample.execute(f"select source_row from stg.{extract.stem}").fetchall()]  # as stored
    quarantined = {row for (row,) in sample.execute("select source_row from stg.quarantine where source = ?", [extract.stem]).fetchall()}
    assert staged == sorted(staged)
    assert set(staged) | quarantined == set(raw) and not set(staged) & quarantined


def test_normalize_identities_counts_the_statuses_the_loader_gave(sample):
    statuses = " union all ".join(
        f"select {column.name}_status as status from stg.{extract.stem}"
        for extract in EXTRACTS for column in extract.columns_of_kind("id_number")
    )
    expected = dict(sample.execute(f"select status, count(*) from ({statuses}) group by status").fetchall())
    assert normalize_identities(sample) == expected
    assert set(expected) <= {"valid", "upgraded", "invalid", "blank"}
