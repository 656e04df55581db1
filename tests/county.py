"""A tiny county drop built in a test, written through the extract writer.

`County.person(...)` registers a person, `pay(...)` writes ledger lines,
`dibao_case(...)` / `tekun(...)` / `cremate(...)` add roster rows; `write()`
produces a drop folder exactly as a county would send it. `run_check` loads
it, links it and returns findings as `exceptions.csv` holds them.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl

from config import add_months, parse_month
from extracts.declarations import EXTRACTS
from extracts.writer import write_extract
from flows.pipeline import analyse_drop, link_drop
from matching.id_number import make_id_number
from reports.exceptions import write_exceptions

AREA = "130534"
PROGRAMME_LABEL = {"dibao": "低保金", "tekun": "特困供养金", "living_subsidy": "困难残疾人生活补贴", "care_subsidy": "重度残疾人护理补贴"}


@dataclass
class Person:
    name: str
    id_number: str
    sex: str
    birth_date: str
    household_no: str


def months_between(first: str, last: str) -> list[str]:
    start, end = parse_month(first), parse_month(last)
    months = []
    while start <= end:
        months.append(f"{start:%Y-%m}")
        start = add_months(start, 1)
    return months


class County:
    def __init__(self, folder: Path, as_of: str = "2026-10"):
        self.folder = folder
        self.as_of = as_of
        self.rows: dict[str, list[dict]] = {extract.stem: [] for extract in EXTRACTS}
        self.sequence = itertools.count(11)

    def person(self, *, name: str | None = None, born: str = "1950-05-06", sex: str = "男", household_no: str | None = None,
               died: str | None = None, moved_out: str | None = None, registered: bool = True, relation: str = "户主",
               township: str = "城关镇", village: str = "东关村") -> Person:
        n = next(self.sequence)
        sequence = n * 2 + (1 if sex == "男" else 0)  # odd sequence digit for men
        person = Person(name or f"测试{n}", make_id_number(AREA, dt.date.fromisoformat(born), sequence), sex, born, household_no or f"H{n:05d}")
        if registered:
            status, change = ("死亡", died) if died else ("迁出", moved_out) if moved_out else ("正常", None)
            self.rows["household_register"].append({
                "household_no": person.household_no, "name": person.name, "id_number": person.id_number, "sex": sex,
                "birth_date": born, "relation": relation, "township": township, "village": village,
                "person_status": status, "change_date": change,
            })
        return person

    def cremate(self, person: Person, death_date: str, *, id_number: str | None = "same", age: int | None = None,
                name: str | None = None, address: str = "清河县城关镇东关村") -> None:
        self.rows["cremation"].append({
            "record_no": f"HZ{len(self.rows['cremation']) + 1:05d}", "name": name or person.name,
            "id_number": person.id_number if id_number == "same" else id_number, "sex": person.sex,
            "age_at_death": str(age) if age is not None else None, "death_date": death_date,
            "cremation_date": death_date, "address": address, "funeral_home": "清河县殡仪馆",
        })

    def pay(self, person: Person, *, programme: str, months: tuple[str, str], amount: float, case_no: str | None = None) -> None:
        for month in months_between(*months):
            self.rows["payments"].append({
                "paid_month": month, "programme": PROGRAMME_LABEL[programme], "case_no": case_no or f"C-{person.id_number[-6:]}",
                "name": person.name, "id_number": person.id_number, "amount": f"{amount:.2f}", "township": "城关镇",
            })

    def dibao_case(self, case_no: str, head: Person, members: list[tuple[Person, bool]], *, inclusion: str = "整户",
                   start: str = "2020-01", stopped: str | None = None, amount: float = 0.0, waiver: tuple[Person, ...] = ()) -> None:
        for member, covered in members:
            self.rows["dibao"].append({
                "case_no": case_no, "township": "城关镇", "village": "东关村", "area_type": "农村",
                "head_name": head.name, "head_id_number": head.id_number, "name": member.name, "id_number": member.id_number,
                "relation": "户主" if member is head else "配偶", "sex": member.sex, "birth_date": member.birth_date,
                "is_covered": "是" if covered else "否", "inclusion": inclusion, "start_month": start,
                "case_status": "停保" if stopped else "在保", "stop_month": stopped, "monthly_amount": f"{amount:.2f}",
                "has_tekun_waiver": "是" if member in waiver else None,
            })

    def write(self) -> Path:
        drop = self.folder / "drop"
        for extract in EXTRACTS:
            columns = [c.name for c in extract.columns]
            frame = pl.DataFrame(self.rows[extract.stem], schema={c: pl.String for c in columns}) if self.rows[extract.stem] \
                else pl.DataFrame(schema={c: pl.String for c in columns})
            write_extract(extract.stem, frame.select(columns), drop)
        (drop / "manifest.yaml").write_text(f'county: "{AREA}"\nas_of: "{self.as_of}"\n', encoding="utf-8")
        return drop


def link_county(county: County) -> duckdb.DuckDBPyConnection:
    """Load and link the county's drop; the connection holds link.* for the test to read."""
    con = duckdb.connect()
    link_drop(con, county.write())
    return con


def linked_person(con: duckdb.DuckDBPyConnection, source: str, row_number: int) -> tuple[str | None, str | None, float | None]:
    """(citizen number of the person, method, confidence) the row was linked with."""
    return con.execute(
        "select person.id_number, row.method, row.confidence from link.source_row as row "
        "left join link.person as person using (person_id) where row.source = ? and row.row_number = ?",
        [source, row_number],
    ).fetchall()[0]


def run_check(code: str, county: County) -> list[SimpleNamespace]:
    """Load, normalize, link and run one check on the county's drop; findings as exceptions.csv holds them."""
    drop = county.write()
    con = duckdb.connect()
    analyse_drop(con, drop, codes=[code])
    path = county.folder / "exceptions.csv"
    write_exceptions(con, path)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["overpaid_amount"] = float(row["overpaid_amount"])
        row["backpay_amount"] = float(row["backpay_amount"])
        row["link_confidence"] = float(row["link_confidence"])
    return [SimpleNamespace(**row) for row in rows]
