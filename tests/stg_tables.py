"""Small hand-built stg tables with a fault of every expectation kind planted at known source rows.

`planted_stg()` gives an in-memory DuckDB holding one table per extract but
the household register, shaped from the declarations as the loader shapes
them; the tests of `extracts.validate` read their counts from it, and the
comparison with Great Expectations runs both evaluations on it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import duckdb

from hecha.extracts.declarations import BY_STEM

AS_OF = datetime.date(2026, 10, 15)  # checks run up to the end of the month: 2026-10-31
ID = "110101199001011234"  # status columns carry the verdict; the digits only need to line up
OTHER_ID = "110101198502022345"


def person(name: str = "张三", id_number: str | None = ID, status: str = "valid") -> dict:
    return {"name": name, "name_raw": name, "id_number": id_number, "id_number_raw": id_number, "id_number_status": status}


def household_head(name: str = "张三", id_number: str | None = ID, status: str = "valid") -> dict:
    return {f"head_{key}": value for key, value in person(name, id_number, status).items()}


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
        **household_head(id_number=None, status="blank"),
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


def certificate(grade: int | None = 1, grade_digit: str | None = None, **changes) -> dict:
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
        **household_head(),
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


def planted_stg() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with the planted tables; the comments name each fault's row."""
    con = duckdb.connect()
    con.execute("create schema stg")
    create_stg_table(con, "payments", numbered([
        payment(),
        payment(paid_month=datetime.date(2026, 11, 1)),  # row 2: month after as_of
        payment(id_number_status="upgraded"),
        payment(amount=Decimal("-300.00")),  # row 4: negative amount
        payment(paid_month=datetime.date(2027, 1, 1), id_number=None, id_number_status="invalid"),  # row 5: both
        payment(paid_month=datetime.date(2026, 10, 1)),  # the as_of month itself is fine
        payment(case_no=None),  # row 7: key missing
        payment(**person(id_number=None, status="blank")),  # row 8: no citizen number at all
        payment(amount=None),  # row 9: amount missing, which only the key check counts
    ]))
    create_stg_table(con, "dibao", numbered([
        dibao_member(),
        dibao_member(case_status="在保中"),  # row 2: not in the vocabulary, kept as read
        dibao_member(birth_date=datetime.date(9999, 1, 1)),  # row 3: beyond pandas' timestamp range
        dibao_member(case_status="stopped", stop_month=datetime.date(2025, 6, 1)),
        dibao_member(birth_date=datetime.date(1899, 12, 31)),  # row 5: before 1900
        dibao_member(birth_date=None, area_type=None),  # row 6: blanks the range and set checks leave out
    ]))
    create_stg_table(con, "disability", numbered([
        certificate(grade=1),
        certificate(grade=1, grade_digit="2"),  # row 2: certificate says grade 2, 残疾等级 says 一级
        certificate(grade=3, valid_until=datetime.date(9999, 12, 31)),  # a far expiry: may lie ahead
        certificate(grade=None, grade_digit="1"),  # row 4: 残疾等级 blank, so the rule cannot hold
    ]))
    # clean; 终止年月 is blank on every row, which a date check must let through
    create_stg_table(con, "tekun", numbered([tekun_person(), tekun_person(case_no="TK0002")]))
    # an export without the optional 火化日期 and 殡仪馆 columns
    create_stg_table(con, "cremation", numbered([cremation_record()]), absent=("cremation_date", "funeral_home"))
    # twelve implausible household sizes stored out of row order, one above the maximum, one blank
    create_stg_table(con, "registered_poor", [(row, poor_member(household_size=0)) for row in range(12, 0, -1)] + [
        (13, poor_member(household_size=31)),
        (14, poor_member(household_size=None)),
    ])
    return con
