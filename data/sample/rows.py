"""The seven extracts as rows: the county model turned into what each system exports.

Each row holds stg column names and source-form text (性别 男, dates
2024-03-15, months 2024-03 or 202403 as that system writes them) and
remembers the true person behind it, so noise can be recorded per row and
the truth can be computed from the rows as written. Payments are made here
too: a line per month for as long as the case, certificate or person's
payments run (see `model.Person.pay_until`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from data.sample import county
from data.sample.households import Population
from data.sample.model import Calendar, Certificate, Person, full_age, month_compact, month_of, month_text, month_year
from data.sample.programmes import Programmes

SEX = {"M": "男", "F": "女"}
GRADE = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
CATEGORY_DIGIT = {"视力": "1", "听力": "2", "言语": "3", "肢体": "4", "智力": "5", "精神": "6", "多重": "7"}
PROGRAMME_ORDER = {"低保金": 0, "特困供养金": 1, "困难残疾人生活补贴": 2, "重度残疾人护理补贴": 3}
STEMS = ("household_register", "dibao", "tekun", "registered_poor", "cremation", "disability", "payments")


@dataclass(eq=False, slots=True)
class Row:
    """One exported row and the true people behind it."""

    values: dict[str, str | None]
    person: Person
    head: Person | None = None  # dibao, registered_poor: the case's / household's head
    stream: str = ""  # payments: the lines that share one payee record (and its typos)
    labels: list[str] = field(default_factory=list)  # noise applied, filled by noise.py


def _date(day: dt.date | None, compact: bool = False) -> str | None:
    if day is None:
        return None
    return f"{day:%Y%m%d}" if compact else f"{day:%Y-%m-%d}"


class _Rows:
    def __init__(self, population: Population, programmes: Programmes, cal: Calendar, seed: int | str,
                 numbered: Mapping[str, int] | None = None) -> None:
        self.population = population
        self.programmes = programmes
        self.cal = cal
        self.rng = random.Random(f"{seed}:rows")
        self.numbered = numbered or {}  # record-number sequences earlier shards reached, by prefix

    def place(self, p: Person) -> tuple[str, str]:
        township = self.population.townships[p.township]
        return township.name, township.villages[p.village]

    # -- household_register ------------------------------------------------------
    def household_register(self) -> list[Row]:
        rows = []
        for household in self.population.households:
            for p in household.members:
                if p.move_out is not None and (p.death is None or p.move_out <= p.death):
                    status, changed = "迁出", p.move_out
                elif p.death is not None and not p.register_late:
                    status, changed = "死亡", p.death
                else:
                    status, changed = "正常", None
                township, village = self.place(p)
                rows.append(Row({
                    "household_no": household.household_no, "name": p.name, "id_number": p.id_number,
                    "sex": SEX[p.register_sex or p.sex], "birth_date": _date(p.register_birth or p.birth), "relation": p.relation, "township": township, "village": village,
                    "person_status": status, "change_date": _date(changed),
                }, p))
        return rows

    # -- dibao ---------------------------------------------------------------------
    def dibao(self) -> list[Row]:
        rows = []
        as_of = self.cal.as_of
        for case in self.programmes.dibao:
            last = case.last_month(as_of)
            stopped = last < as_of
            amount = case.paid_count(last) * county.standard(county.DIBAO_STANDARD[case.area_type], month_year(last))
            township, village = self.place(case.head)
            covered = {p.pid for p in case.covered}
            for p in case.members:
                if month_of(p.birth) > last:
                    continue  # born after the case stopped: never declared
                is_covered = p.pid in covered and (p.pay_until is None or p.pay_until >= last)
                rows.append(Row({
                    "case_no": case.case_no, "township": township, "village": village, "area_type": case.area_type,
                    "head_name": case.head.name, "head_id_number": case.head.written_number,
                    "name": p.name, "id_number": p.written_number, "relation": "户主" if p is case.head else p.relation,
                    "sex": SEX[p.sex], "birth_date": _date(p.roster_birth or p.birth), "is_covered": "是" if is_covered else "否", "inclusion": case.inclusion,
                    "start_month": month_text(case.start), "case_status": "停保" if stopped else "在保",
                    "stop_month": month_text(last) if stopped else None, "monthly_amount": f"{amount:.2f}",
                    "has_tekun_waiver": "是" if p.pid in case.waivers else None,
                }, p, head=case.head))
                if p.pid in case.listed_twice:
                    rows.append(corrected_copy(rows[-1], case.listed_twice[p.pid], case.start))
        return rows

    # -- tekun ---------------------------------------------------------------------
    def tekun(self) -> list[Row]:
        rows = []
        as_of = self.cal.as_of
        for case in self.programmes.tekun:
            p = case.person
            last = case.last_month(as_of)
            stopped = last < as_of
            township, village = self.place(p)
            amount = county.standard(county.TEKUN_STANDARD[case.mode], month_year(last))
            rows.append(Row({
                "case_no": case.case_no, "name": p.name, "id_number": p.written_number, "sex": SEX[p.sex],
                "birth_date": _date(p.roster_birth or p.birth),
                "township": township, "village": village, "support_mode": case.mode, "monthly_amount": f"{amount:.2f}",
                "start_month": month_text(case.start), "case_status": "终止" if stopped else "在供",
                "stop_month": month_text(last) if stopped else None,
            }, p))
            if case.listed_twice is not None:
                rows.append(corrected_copy(rows[-1], case.listed_twice, case.start))
        return rows

    # -- registered_poor -----------------------------------------------------------
    def registered_poor(self) -> list[Row]:
        """Members as that system lists them; 兜底保障 as the rosters say at as_of."""
        rows = []
        as_of = self.cal.as_of
        end = self.cal.end_date
        rng = self.rng
        tekun_active, dibao_active = active_at(self.programmes, as_of)
        certificates = self.programmes.certificate_of()
        for poor in self.programmes.poor:
            household = poor.household
            listed = []
            for p in household.members:
                if p.event_month is None:
                    listed.append(p)
                elif p.death is not None and p.move_out is None and (end - p.death).days < 180 and rng.random() < 0.3:
                    listed.append(p)  # not yet taken off the list
            head = household.head
            if head not in listed:
                continue  # the household left the monitoring roster
            pids = {p.pid for p in listed}
            safety_net = poor.safety_net_shown or ("特困" if pids & tekun_active else "低保" if pids & dibao_active else "无")
            township, village = self.place(head)
            for p in listed:
                cert = certificates.get(p.pid)
                draw = rng.random()
                if cert is not None and cert.status != "注销":
                    health = "残疾"
                elif full_age(p.birth, end) >= 60 and draw < 0.35:
                    health = "长期慢性病"
                elif draw > 0.97:
                    health = "患有大病"
                else:
                    health = "健康"
                rows.append(Row({
                    "poor_household_no": poor.number, "head_name": head.name, "head_id_number": head.written_number,
                    "name": p.name, "id_number": p.written_number, "relation": p.relation,
                    "household_size": str(len(listed) + poor.extra_members), "township": township, "village": village,
                    "household_type": poor.household_type, "health": health, "safety_net": safety_net,
                }, p, head=head))
        return rows

    # -- cremation -----------------------------------------------------------------
    def cremation(self) -> list[Row]:
        end = self.cal.end_date
        rng = self.rng
        bodies = [p for p in (*self.population.persons, *self.population.outsiders) if p.cremated and p.death is not None and p.death <= end]
        bodies.sort(key=lambda p: (p.death, p.pid))
        rows = []
        sequence: dict[str, int] = dict(self.numbered)
        for p in bodies:
            cremated_on = min(p.death + dt.timedelta(days=rng.randint(1, 4)), end)
            prefix = f"HH{cremated_on.year}"
            sequence[prefix] = sequence.get(prefix, 0) + 1
            if p.township >= 0:
                township, village = self.place(p)
                address = county.COUNTY_NAME + township + village
            else:
                address = p.address
            rows.append(Row({
                "record_no": f"{prefix}{sequence[prefix]:05d}", "name": p.name, "id_number": p.id_number,
                "sex": SEX[p.sex], "age_at_death": str(full_age(p.birth, p.death)), "death_date": _date(p.death, compact=True),
                "cremation_date": _date(cremated_on, compact=True), "address": address,
                "funeral_home": rng.choice(county.FUNERAL_HOMES),
            }, p))
        return rows

    # -- disability ----------------------------------------------------------------
    def disability(self) -> list[Row]:
        certificates = sorted(self.programmes.certificates, key=lambda c: (c.person.township, c.person.village, c.issue, c.person.pid))
        rows = []
        for cert in certificates:
            p = cert.person
            township, village = self.place(p)
            rows.append(Row({
                "case_no": certificate_number(cert), "name": p.name, "id_number": p.written_number,
                "sex": SEX[p.sex], "disability_category": cert.category, "disability_grade": GRADE[cert.grade],
                "issue_date": _date(cert.issue), "valid_until": _date(cert.valid_until), "certificate_status": cert.status,
                "township": township, "village": village,
            }, p))
        return rows

    # -- payments ------------------------------------------------------------------
    def payments(self) -> list[Row]:
        """One line per programme, case and month paid inside the window (twice where planted)."""
        cal = self.cal
        as_of, first = cal.as_of, cal.window_start
        lines: list[tuple[int, str, str, Person, int, int, str]] = []  # month, programme, case_no, payee, amount, township, stream

        def pay(month: int, programme: str, case_no: str, payee: Person, amount: int, stream: str, repeat: frozenset[int]) -> None:
            line = (month, programme, case_no, payee, amount, payee.township, stream)
            lines.extend((line, line) if month in repeat else (line,))

        living_months: dict[int, set[int]] = {}  # pid → months a dibao case covers the person
        for case in self.programmes.dibao:
            table = county.DIBAO_STANDARD[case.area_type]
            last = case.last_month(as_of)
            for month in range(max(case.start, first), min(last + case.paid_after_stop, as_of) + 1):
                count = case.paid_count(month)
                if count:
                    amount = count * county.standard(table, month_year(month))
                    pay(month, "低保金", case.case_no, case.head, amount, case.case_no, case.repeat_months)
            for p in case.covered:
                months = living_months.setdefault(p.pid, set())
                months.update(m for m in range(max(case.start, first), last + 1) if p.runs_in(m))
        for case in self.programmes.tekun:
            table = county.TEKUN_STANDARD[case.mode]
            for month in range(max(case.start, first), case.last_month(as_of) + 1):
                amount = county.standard(table, month_year(month))
                pay(month, "特困供养金", case.case_no, case.person, amount, case.case_no, case.repeat_months)
        living_paid: set[tuple[int, int]] = set()  # one living-subsidy line per person and month
        for cert in self.programmes.certificates:
            p = cert.person
            number = certificate_number(cert)
            until = p.pay_until
            cap = as_of if until is None else min(until, as_of)
            last = min(cert.valid_month if cert.lines_until is None else cert.lines_until, cap)
            start = max(cert.issue_month if cert.lines_from is None else cert.lines_from, first)
            care = cert.grade in county.CARE_SUBSIDY if cert.care_paid is None else cert.care_paid
            if care:
                amount = county.CARE_SUBSIDY.get(cert.grade, county.CARE_SUBSIDY[2])
                for month in range(start, last + 1):
                    if month not in cert.care_skip:
                        pay(month, "重度残疾人护理补贴", number, p, amount, number + "care", cert.repeat_months)
            covered = living_months.get(p.pid, set())
            for month in range(start, last + 1):
                if month in covered and month not in cert.living_skip and (p.pid, month) not in living_paid:
                    living_paid.add((p.pid, month))
                    pay(month, "困难残疾人生活补贴", number, p, county.LIVING_SUBSIDY, number + "living", frozenset())
        lines.sort(key=lambda line: (line[0], PROGRAMME_ORDER[line[1]], line[5], line[2]))
        townships = self.population.townships
        return [
            Row({
                "paid_month": month_compact(month), "programme": programme, "case_no": case_no, "name": payee.name,
                "id_number": payee.written_number, "amount": f"{amount:.2f}", "township": townships[township].name,
            }, payee, stream=stream)
            for month, programme, case_no, payee, amount, township, stream in lines
        ]


def corrected_copy(row: Row, correction: str, start: int) -> Row:
    """The same roster row listed again after a correction: a name character, the amount, or the start month.

    The name takes a same-sound character; the amount 20 yuan more; the start month moves 1–6
    months earlier (planted on cases that start before the window, so nothing inside it changes).
    """
    values = dict(row.values)
    if correction == "name":
        name = values["name"]
        positions = [i for i in range(1, len(name)) if name[i] in county.HOMOPHONES]
        i = positions[-1] if positions else len(name) - 1
        values["name"] = name[:i] + (county.HOMOPHONES.get(name[i]) or ("晓" if name[i] == "小" else "小")) + name[i + 1:]
    elif correction == "amount":
        values["monthly_amount"] = f"{float(values['monthly_amount']) + 20:.2f}"
    else:
        values["start_month"] = month_text(start - 1 - start % 6)
    return Row(values, row.person, head=row.head, stream=row.stream)


def certificate_number(cert: Certificate) -> str:
    """残疾人证号: the holder's citizen number, the category digit, the grade digit."""
    return cert.person.id_number + CATEGORY_DIGIT[cert.category] + str(cert.grade)


def active_at(programmes: Programmes, as_of: int) -> tuple[set[int], set[int]]:
    """(people on tekun active at as_of, people covered 是 by a dibao case active at as_of), as the rosters will say."""
    tekun = {t.person.pid for t in programmes.tekun if t.start <= as_of <= t.last_month(as_of)}
    dibao = {
        p.pid
        for case in programmes.dibao
        if case.last_month(as_of) == as_of
        for p in case.covered
        if p.pay_until is None or p.pay_until >= as_of
    }
    return tekun, dibao


def build_rows(population: Population, programmes: Programmes, cal: Calendar, seed: int | str,
               numbered: Mapping[str, int] | None = None) -> dict[str, list[Row]]:
    """Every extract's rows, in export order, before noise; cremation record numbers continue after `numbered`."""
    maker = _Rows(population, programmes, cal, seed, numbered)
    return {stem: getattr(maker, stem)() for stem in STEMS}
