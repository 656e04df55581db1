"""A tiny county drop built in a test, written through the extract writer.

`County.person(...)` registers a person (or makes an unregistered one, with
any raw number), `pay(...)` writes ledger lines, `dibao_case(...)`,
`tekun(...)`, `certificate(...)`, `poor_household(...)` and `cremate(...)` add
roster rows; `write()` produces a drop folder exactly as a county would send
it. `run_check` loads it, links it and returns findings as `exceptions.csv`
holds them. The county's as_of is 2026-10 unless given: the window is
2024-11 … 2026-10.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import duckdb
import polars as pl

from hecha.config import add_months, parse_month
from hecha.extracts.declarations import DISABILITY_CATEGORY, DISABILITY_CATEGORY_DIGIT, EXTRACTS
from hecha.extracts.writer import write_extract
from hecha.flows.pipeline import analyse_drop, link_drop
from hecha.matching.id_number import make_id_number
from hecha.reports.exceptions import write_exceptions

AREA = "130534"
PROGRAMME_LABEL = {"dibao": "低保金", "tekun": "特困供养金", "living_subsidy": "困难残疾人生活补贴", "care_subsidy": "重度残疾人护理补贴"}
CATEGORY_DIGIT = {label: DISABILITY_CATEGORY_DIGIT[code] for label, code in DISABILITY_CATEGORY.items()}  # 肢体 → "4"
GRADE_LABEL = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
# The deployment secret of every test county: fixed, so person ids and case keys agree between runs of a test.
TEST_SECRET = bytes(range(32))


@dataclass
class Person:
    name: str
    id_number: str
    sex: str
    birth_date: str
    household_no: str
    relation: str = "户主"


class Member(NamedTuple):
    """A declared member of a dibao case; a plain `(person, covered)` tuple is one too.

    `relation` defaults to 户主 for the case head and to the person's register
    relation otherwise; `born` is the birth date the dibao roster writes (a
    lunar birthday may differ from the register's).
    """

    person: Person
    covered: bool = True
    relation: str | None = None
    born: str | None = None


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
               township: str = "城关镇", village: str = "东关村", id_number: str | None = None,
               id_born: str | None = None, id_sex: str | None = None) -> Person:
        """Register a person (unless `registered=False`) and return them.

        The citizen number is built from `born` and `sex`, or from `id_born` /
        `id_sex` when given: a register row whose number disagrees with its own
        出生日期 or 性别. `id_number` writes any raw text as the number instead
        (an unregistered recipient's unrepairable number, a 15-digit number…).
        """
        n = next(self.sequence)
        sequence = n * 2 + (1 if (id_sex or sex) == "男" else 0)  # odd sequence digit for men
        number = id_number if id_number is not None else make_id_number(AREA, dt.date.fromisoformat(id_born or born), sequence)
        person = Person(name or f"测试{n}", number, sex, born, household_no or f"H{n:05d}", relation)
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

    def pay(self, person: Person, *, programme: str, months: tuple[str, str], amount: float, case_no: str | None = None,
            id_number: str | None = None) -> None:
        """One ledger line per month from `months[0]` through `months[1]`, paid to `person`.

        `id_number` writes another number on the lines than the person's own
        (a typing slip, a 15-digit form).
        """
        for month in months_between(*months):
            self.rows["payments"].append({
                "paid_month": month, "programme": PROGRAMME_LABEL[programme], "case_no": case_no or f"C-{person.id_number[-6:]}",
                "name": person.name, "id_number": id_number or person.id_number, "amount": f"{amount:.2f}", "township": "城关镇",
            })

    def dibao_case(self, case_no: str, head: Person, members: list[tuple[Person, bool] | Member], *, inclusion: str = "整户",
                   start: str = "2020-01", stopped: str | None = None, amount: float = 0.0, waiver: tuple[Person, ...] = ()) -> None:
        """A dibao case: one roster row per declared member; `stopped` is the 停保年月 (else 在保)."""
        for entry in members:
            member = Member(*entry)
            person = member.person
            if member.relation is not None:
                relation = member.relation
            elif person is head:
                relation = "户主"
            else:
                relation = person.relation if person.relation != "户主" else "配偶"
            self.rows["dibao"].append({
                "case_no": case_no, "township": "城关镇", "village": "东关村", "area_type": "农村",
                "head_name": head.name, "head_id_number": head.id_number, "name": person.name, "id_number": person.id_number,
                "relation": relation, "sex": person.sex, "birth_date": member.born or person.birth_date,
                "is_covered": "是" if member.covered else "否", "inclusion": inclusion, "start_month": start,
                "case_status": "停保" if stopped else "在保", "stop_month": stopped, "monthly_amount": f"{amount:.2f}",
                "has_tekun_waiver": "是" if any(person is w for w in waiver) else None,
            })

    def tekun(self, person: Person, *, case_no: str | None = None, start: str = "2020-01", stopped: str | None = None,
              amount: float = 700.0, mode: str = "分散") -> str:
        """A tekun (特困供养) row; `stopped` is the 终止年月 (else 在供). Returns the 供养证号."""
        case_no = case_no or f"TK{len(self.rows['tekun']) + 1:04d}"
        self.rows["tekun"].append({
            "case_no": case_no, "name": person.name, "id_number": person.id_number, "sex": person.sex,
            "birth_date": person.birth_date, "township": "城关镇", "village": "东关村", "support_mode": mode,
            "monthly_amount": f"{amount:.2f}", "start_month": start, "case_status": "终止" if stopped else "在供",
            "stop_month": stopped,
        })
        return case_no

    def certificate(self, person: Person, *, category: str = "肢体", grade: int = 1, issued: str = "2020-01-10",
                    valid_until: str = "2030-01-09", status: str = "正常") -> str:
        """A disability certificate (残疾人证); returns its 20-character number: citizen number, category digit, grade digit."""
        number = person.id_number + CATEGORY_DIGIT[category] + str(grade)
        self.rows["disability"].append({
            "case_no": number, "name": person.name, "id_number": person.id_number, "sex": person.sex,
            "disability_category": category, "disability_grade": GRADE_LABEL[grade], "issue_date": issued,
            "valid_until": valid_until, "certificate_status": status, "township": "城关镇", "village": "东关村",
        })
        return number

    def poor_household(self, number: str, head: Person, members: list[Person], *, safety_net: str = "低保",
                       household_size: int | None = None, household_type: str = "监测户") -> None:
        """A registered-poor (建档立卡/监测) household: one row per listed member, the head first.

        `household_size` is the 家庭人口数 that system records (default: the
        number of listed members); `safety_net` its 兜底保障.
        """
        listed = [head, *(m for m in members if m is not head)]
        for person in listed:
            self.rows["registered_poor"].append({
                "poor_household_no": number, "head_name": head.name, "head_id_number": head.id_number,
                "name": person.name, "id_number": person.id_number,
                "relation": "户主" if person is head else (person.relation if person.relation != "户主" else "其他"),
                "household_size": str(household_size or len(listed)), "township": "城关镇", "village": "东关村",
                "household_type": household_type, "health": "健康", "safety_net": safety_net,
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
    link_drop(con, county.write(), secret=TEST_SECRET)
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
    analyse_drop(con, drop, codes=[code], secret=TEST_SECRET)
    path = county.folder / "exceptions.csv"
    write_exceptions(con, path)
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["overpaid_amount"] = float(row["overpaid_amount"])
        row["backpay_amount"] = float(row["backpay_amount"])
        row["link_confidence"] = float(row["link_confidence"])
    return [SimpleNamespace(**row) for row in rows]
