"""Who receives what: disability certificates, tekun, dibao cases, registered-poor households.

Assignment only, from the population and its natural events: which people
and households are on which roster and since when. How long payments run
(normal stop at the event month, or planted overpayment) follows from the
people's events and is turned into roster and ledger rows in `rows.py`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from data.sample import county
from data.sample.households import Population
from data.sample.model import (
    Calendar,
    Certificate,
    DibaoCase,
    Household,
    Person,
    PoorHousehold,
    TekunCase,
    full_age,
    month_of,
)

CATEGORIES = (("肢体", 35), ("视力", 12), ("听力", 15), ("言语", 2), ("智力", 12), ("精神", 14), ("多重", 10))
GRADES = ((1, 12), (2, 25), (3, 30), (4, 33))
# disabilities that leave an adult unable to work (a 单人 dibao case, or tekun when alone)
SEVERE_CATEGORIES = ("肢体", "智力", "精神", "多重")
PROGRAMMES_FROM = dt.date(2012, 1, 1)
CERTIFICATES_FROM = dt.date(2014, 1, 1)


@dataclass
class Programmes:
    certificates: list[Certificate] = field(default_factory=list)
    tekun: list[TekunCase] = field(default_factory=list)
    dibao: list[DibaoCase] = field(default_factory=list)
    poor: list[PoorHousehold] = field(default_factory=list)

    def certificate_of(self) -> dict[int, Certificate]:
        return {c.person.pid: c for c in self.certificates}

    def tekun_of(self) -> dict[int, TekunCase]:
        return {t.person.pid: t for t in self.tekun}

    def dibao_covering(self) -> dict[int, DibaoCase]:
        return {p.pid: case for case in self.dibao for p in case.covered}


def _event_date(p: Person) -> dt.date | None:
    dates = [d for d in (p.death, p.move_out) if d is not None]
    return min(dates) if dates else None


def _random_month(rng: random.Random, first: int, last: int) -> int:
    return rng.randint(first, last)


def _severe(cert: Certificate | None) -> bool:
    return cert is not None and cert.grade <= 2 and cert.category in SEVERE_CATEGORIES


def assign_certificates(population: Population, cal: Calendar, rng: random.Random) -> list[Certificate]:
    """About 5% of people hold a disability certificate, more of the old."""
    end = cal.end_date
    categories = tuple(c for c, _ in CATEGORIES)
    category_weights = tuple(w for _, w in CATEGORIES)
    grades = tuple(g for g, _ in GRADES)
    grade_weights = tuple(w for _, w in GRADES)
    certificates = []
    for p in population.persons:
        age = full_age(p.birth, end)
        share = 0.015 if age < 18 else 0.04 if age < 60 else 0.08 if age < 80 else 0.12
        if rng.random() >= share:
            continue
        first = max(CERTIFICATES_FROM, p.birth + dt.timedelta(days=730))
        last = min(_event_date(p) or end, end)
        if first > last:
            continue
        issue = first + dt.timedelta(days=rng.randrange((last - first).days + 1))
        # third-generation certificates are valid ten years
        valid_until = dt.date(issue.year + 10, issue.month, min(issue.day, 28)) - dt.timedelta(days=1)
        category = rng.choices(categories, category_weights)[0]
        grade = rng.choices(grades, grade_weights)[0]
        certificates.append(Certificate(p, category, grade, issue, valid_until))
    return certificates


def assign_tekun(population: Population, cal: Calendar, certificates: dict[int, Certificate], rng: random.Random) -> list[TekunCase]:
    """Tekun for people alone: mostly 60+, some severely disabled adults."""
    cases = []
    for household in population.households:
        candidate = household.head
        if len(household.members) > 1:
            others = [p for p in household.members if p is not candidate]
            if any(p.event_month is None for p in others) or rng.random() >= 0.15:
                continue
            # the others died or left: the head has lived alone since
            alone_since = max(p.event_month for p in others) + 1
        else:
            alone_since = month_of(PROGRAMMES_FROM)
        age = full_age(candidate.birth, cal.end_date)
        cert = certificates.get(candidate.pid)
        if age >= 60:
            share, since = 0.22, month_of(dt.date(candidate.birth.year + 60, candidate.birth.month, 1))
        elif _severe(cert) and age >= 18:
            share, since = 0.5, cert.issue_month
        else:
            continue
        if rng.random() >= share:
            continue
        first = max(alone_since, since, month_of(PROGRAMMES_FROM))
        last = min(candidate.event_month if candidate.event_month is not None else cal.as_of, cal.as_of)
        if first > last:
            continue
        mode = "集中" if rng.random() < 0.2 else "分散"
        cases.append(TekunCase("", candidate, _random_month(rng, first, last), mode))
    return cases


def assign_dibao(population: Population, cal: Calendar, certificates: dict[int, Certificate], tekun_households: set[int],
                 rng: random.Random) -> list[DibaoCase]:
    """Dibao for about 7% of households, more where someone is severely disabled or old."""
    cases = []
    for household in population.households:
        if household.index in tekun_households:
            continue
        head = household.head
        members = household.members
        if len(members) > 1 and head.event_month is not None:
            continue  # a case needs a head who is still there
        weight = 0.055
        if any(_severe(certificates.get(p.pid)) for p in members):
            weight *= 3.5
        if household.shape == "elderly_couple":
            weight *= 1.6
        if household.shape == "elderly_alone":
            weight *= 0.5  # most of them are on tekun instead
        if not population.townships[household.township].urban:
            weight *= 1.3
        if rng.random() >= weight:
            continue
        last = min(head.event_month if head.event_month is not None else cal.as_of, cal.as_of)
        start = _random_month(rng, month_of(PROGRAMMES_FROM), last)
        declared = [p for p in members if p.event_month is None or p.event_month >= start]
        if head not in declared:
            continue
        severe_adults = [
            p for p in declared
            if p is not head and _severe(certificates.get(p.pid)) and 18 <= full_age(p.birth, cal.end_date) < 60
        ]
        if severe_adults and rng.random() < 0.75:
            inclusion, covered = "单人", [severe_adults[0]]
        else:
            inclusion, covered = "整户", list(declared)
        income_stop = None
        if start < cal.as_of and rng.random() < 0.12:
            income_stop = _random_month(rng, start, cal.as_of - 1)
        waivers = set()
        for p in covered:
            age = full_age(p.birth, cal.end_date)
            # a single old member is eligible for tekun and chose dibao in writing
            if age >= 60 and (len(declared) == 1 or rng.random() < 0.03):
                waivers.add(p.pid)
        area_type = "城市" if population.townships[household.township].urban else "农村"
        cases.append(DibaoCase("", household, inclusion, start, area_type, declared, covered, income_stop, frozenset(waivers)))
    return cases


def assign_poor(population: Population, dibao: list[DibaoCase], tekun: list[TekunCase], rng: random.Random,
                numbered: Mapping[str, int] | None = None) -> list[PoorHousehold]:
    """Registered-poor households: most dibao and tekun households, a few others.

    Numbers continue after `numbered` (the last sequence earlier shards reached, by number prefix).
    """
    on_benefit = {case.household.index for case in dibao} | {t.person.household for t in tekun}
    chosen: list[Household] = []
    for household in population.households:
        rural = not population.townships[household.township].urban
        share = 0.6 if household.index in on_benefit else (0.05 if rural else 0.01)
        if rng.random() < share and household.head.event_month is None:
            chosen.append(household)
    poor = []
    sequence: dict[str, int] = dict(numbered or {})
    for household in chosen:
        prefix = f"{county.COUNTY_CODE}{population.townships[household.township].code}"
        sequence[prefix] = sequence.get(prefix, 0) + 1
        number = f"{prefix}{sequence[prefix]:06d}"
        draw = rng.random()
        household_type = "脱贫户" if draw < 0.78 else "监测户" if draw < 0.98 else "未脱贫户"
        extra = 1 if rng.random() < 0.08 else 0
        poor.append(PoorHousehold(number, household, household_type, extra))
    return poor


def number_cases(population: Population, programmes: Programmes, numbered: Mapping[str, int] | None = None) -> None:
    """Case numbers in township order: DB/TK + township code + sequence (again after planting adds cases).

    Sequences continue after `numbered` (the last one earlier shards reached, by DB/TK + township code).
    """
    for kind, cases, place in (
        ("DB", programmes.dibao, lambda c: (c.household.township, c.household.index)),
        ("TK", programmes.tekun, lambda c: (c.person.township, c.person.household if c.person.household >= 0 else len(population.households))),
    ):
        cases.sort(key=place)
        sequence: dict[str, int] = dict(numbered or {})
        for case in cases:
            prefix = f"{kind}{population.townships[place(case)[0]].code}"
            sequence[prefix] = sequence.get(prefix, 0) + 1
            case.case_no = f"{prefix}{sequence[prefix]:05d}"


def assign_programmes(population: Population, cal: Calendar, seed: int | str, numbered: Mapping[str, int] | None = None) -> Programmes:
    """Every roster's membership, from the natural population (planting comes later); numbers continue after `numbered`."""
    rng = random.Random(f"{seed}:programmes")
    certificates = assign_certificates(population, cal, rng)
    by_person = {c.person.pid: c for c in certificates}
    tekun = assign_tekun(population, cal, by_person, rng)
    dibao = assign_dibao(population, cal, by_person, {t.person.household for t in tekun}, rng)
    poor = assign_poor(population, dibao, tekun, rng, numbered)
    programmes = Programmes(certificates, tekun, dibao, poor)
    number_cases(population, programmes, numbered)
    return programmes
