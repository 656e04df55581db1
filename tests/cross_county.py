"""A tiny province built in a test: a few counties' exports, written as export_county writes them.

`Province.person(...)` makes a person (a valid citizen number from their birth
date and sex); each `Province.county(code)` then holds what that county knows:
`resident(...)` a register row (正常, 死亡 or 迁出, with the death or move-out
event a 死亡 / 迁出 row is), `pay(...)` ledger lines (低保金 split between the
case's covered members, as int.person_month_paid splits it), `cremate(...)` a
cremation record, with the person's number or without one. `write()` writes
every county through `province.store.write_export`, the export's own writer;
`run_cross_checks` runs the cross-county stage and returns its findings as
`province.finding` holds them. What a county knows of its own people's deaths
and move-outs (the export's death_month and move_out_month) comes from its own
register rows and its own cremation records bearing their number, as its
linker would find them.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl

from hecha.config import load_policy
from hecha.matching.id_number import make_id_number
from hecha.province.cross import run_cross
from hecha.province.store import write_export
from tests.county import TEST_SECRET, months_between

SEX_CODE = {"男": "M", "女": "F"}
STATUS_CODE = {"正常": "normal", "死亡": "dead", "迁出": "moved_out"}
PROGRAMME_LABEL = {"dibao": "低保金", "tekun": "特困供养金", "living_subsidy": "困难残疾人生活补贴", "care_subsidy": "重度残疾人护理补贴"}
AS_OF = "2026-10"


def month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


def date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    sex: str  # 男 / 女
    birth_date: str


@dataclass
class CountyExport:
    code: str
    register: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    paid: list[dict] = field(default_factory=list)
    places: dict[str, dict] = field(default_factory=dict)  # where the register places each person
    ledger_rows: itertools.count = field(default_factory=lambda: itertools.count(1))

    def resident(self, person: Person, *, status: str = "正常", changed: str | None = None, township: str = "城关镇",
                 village: str = "东关村", name: str | None = None, id_number: str | None = None) -> None:
        """A register row of the person (`name`/`id_number` write another name or number on it)."""
        row = {"id_number": id_number or person.id_number, "name": name or person.name, "sex": SEX_CODE[person.sex],
               "birth_date": date(person.birth_date), "person_status": STATUS_CODE[status],
               "township": township, "village": village}
        self.register.append(
            {key: row[key] for key in ("id_number", "name", "sex", "birth_date", "township", "village", "person_status")})
        if status != "正常":
            self.events.append({
                "source": "household_register", "source_row": len(self.register), "id_number": row["id_number"],
                "name": row["name"], "sex": row["sex"], "birth_date": row["birth_date"],
                "event_kind": "death" if status == "死亡" else "moved_out", "event_date": date(changed),
                "event_month": month(changed[:7]), "township": township, "village": village,
            })

    def cremate(self, person: Person, death_date: str, *, age: int, address: str, numbered: bool = True,
                name: str | None = None, sex: str | None = None, record_no: str | None = None) -> None:
        """A cremation record of the person: with their number, or (`numbered=False`) none usable."""
        self.events.append({
            "source": "cremation", "source_row": len(self.events) + 1,
            "record_no": record_no or f"HH{self.code}{len(self.events) + 1:04d}",
            "id_number": person.id_number if numbered else None, "name": name or person.name,
            "sex": SEX_CODE[sex or person.sex], "age_at_death": age, "event_kind": "death",
            "event_date": date(death_date), "event_month": month(death_date[:7]), "address": address,
            "funeral_home": "清河县殡仪馆",
        })

    def pay(self, person: Person, *, programme: str, months: tuple[str, str], amount: float, case_no: str | None = None,
            covered: int = 1, start: str | None = None, confidence: float = 1.0, name: str | None = None) -> None:
        """One ledger line a month, `amount` each; for 低保金 the person's share is amount / `covered`.

        `name` is another name the county holds the person under (the same number, another record).
        """
        for paid_month in months_between(*months):
            self.paid.append({
                "id_number": person.id_number, "name": name or person.name, "paid_month": month(paid_month), "programme": programme,
                "programme_label": PROGRAMME_LABEL[programme], "case_no": case_no or f"{programme}-{person.id_number[-6:]}",
                "amount": amount / covered, "line_amount": amount, "covered_count": covered,
                "link_confidence": confidence, "case_start_month": month(start or months[0]),
                "ledger_row": next(self.ledger_rows),
            })

    def frames(self, people: dict[str, Person]) -> dict[str, pl.DataFrame]:
        """The three tables' rows as the export SQL selects them (what the county itself knows about each payee)."""
        own = {}
        for event in self.events:
            if event["id_number"] is None:
                continue
            known = own.setdefault(event["id_number"], {"death": [], "moved_out": []})
            known[event["event_kind"]].append(event["event_month"])
        registered = {row["id_number"]: row for row in self.register}
        changes = {event["id_number"]: event for event in self.events if event["source"] == "household_register"}
        paid = []
        for line in self.paid:
            person = people[line["id_number"]]
            held = registered.get(person.id_number)
            place = self.places.get(person.id_number, {}) if held else {}
            known = own.get(person.id_number, {"death": [], "moved_out": []})
            paid.append({
                **line, "person_id": f"P{person.id_number[-8:]}", "sex": SEX_CODE[person.sex],
                "birth_date": date(person.birth_date), "in_register": held is not None,
                "person_status": held["person_status"] if held else None,
                "status_date": changes[person.id_number]["event_date"] if person.id_number in changes else None,
                "township": place.get("township"), "village": place.get("village"),
                "death_month": min(known["death"], default=None), "move_out_month": min(known["moved_out"], default=None),
            })
        return {
            "paid": frame(paid), "event": frame(self.events), "register": frame(self.register),
        }


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


class Province:
    def __init__(self, store: Path):
        self.store = store
        self.counties: dict[str, CountyExport] = {}
        self.people: dict[str, Person] = {}
        self.sequence = itertools.count(11)

    def person(self, *, name: str, born: str = "1950-05-06", sex: str = "男", area: str = "130534") -> Person:
        n = next(self.sequence)
        number = make_id_number(area, dt.date.fromisoformat(born), n * 2 + (1 if sex == "男" else 0))
        person = Person(name, number, sex, born)
        self.people[number] = person
        return person

    def county(self, code: str) -> CountyExport:
        return self.counties.setdefault(code, CountyExport(code))

    def live(self, county: str, person: Person, *, township: str = "城关镇", village: str = "东关村",
             status: str = "正常", changed: str | None = None, name: str | None = None) -> CountyExport:
        """The person in `county`'s register (and where: the township and village its paid table shows)."""
        export = self.county(county)
        export.resident(person, status=status, changed=changed, township=township, village=village, name=name)
        export.places[person.id_number] = {"township": township, "village": village}
        return export

    def write(self) -> list[str]:
        for code, export in sorted(self.counties.items()):
            write_export(str(self.store), code, f"{AS_OF}_test", AS_OF, export.frames(self.people))
        return sorted(self.counties)


def run_cross_checks(province: Province, policy: dict | None = None, code: str | None = None) -> list[SimpleNamespace]:
    """Write the province's exports, run the cross-county stage; its findings (of one check when `code` is given)."""
    counties = province.write()
    con = duckdb.connect()
    run_cross(con, str(province.store), counties, policy or load_policy(), TEST_SECRET)
    rows = con.sql("select * from province.finding" + (" where check_code = $code" if code else ""),
                   params={"code": code} if code else None).pl().to_dicts()
    for row in rows:
        for amount in ("overpaid_amount", "backpay_amount"):
            row[amount] = float(row[amount])
    return [SimpleNamespace(**row) for row in rows]
