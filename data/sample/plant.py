"""Planted findings and near misses: events and payment behaviour for chosen people.

Each scenario picks people from the rosters, gives them a death or move-out
inside the window and says how long their payments run on (`paid_through`)
and what the records show (register updated late, cremated or not, a blank
cremation number). Nothing here computes findings: `truth.py` derives them
from the rows actually written, so a scenario that went wrong shows up as a
missing or unplanned finding rather than a wrong expected amount.

Counts scale with the number of households (the base counts are for 5,000),
each scenario at least once. The other checks' scenarios live in
`scenarios.py` and run after these, on what they left; `plant()` then
settles what the rows will show (certificate statuses, waivers, deaths a
roster household's records must show) and numbers the cases.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from data.sample import county
from data.sample.households import IdIssuer, Population, new_outsider
from data.sample.model import Calendar, DibaoCase, Person, TekunCase, full_age, month_of
from data.sample.programmes import Programmes, number_cases
from data.sample.scenarios import Scenarios

BASE_HOUSEHOLDS = 5000
DEATH_SCENARIOS = (
    ("tekun_after_death", 14),
    ("dibao_single_after_death", 5),
    ("dibao_alone_after_death", 3),
    ("dibao_partial_after_death", 6),
    ("care_after_death", 10),
)
MOVE_SCENARIOS = (
    ("tekun_after_move_out", 4),
    ("dibao_household_moved_out", 2),
    ("dibao_member_moved_out", 4),
    ("care_after_move_out", 4),
    ("moved_out_then_died", 2),
)
NEAR_MISS_SCENARIOS = (
    ("paid_through_death_month", 6),
    ("not_covered_member_died", 4),
    ("paid_through_move_out_month", 4),
    ("namesake_alive", 4),
    ("outside_county_cremation", 4),
)
# deaths the register does not show yet and whose cremation row has no usable number
CREMATION_ONLY_UNUSABLE = (("id_blank", 3), ("id_typo", 1))
CREMATION_SHARE = 0.8  # deaths with a cremation record (burial and other customs exist)
OUTSIDE_CREMATION_SHARE = 0.08  # cremations of people registered in other counties, per county cremation


@dataclass
class Planted:
    """What was planted, by scenario, for the summary and the truth notes."""

    by_scenario: dict[str, list[Person]] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)  # scenario → how many found no candidate

    def add(self, scenario: str, person: Person) -> None:
        self.by_scenario.setdefault(scenario, []).append(person)


def scaled(base: int, households: int) -> int:
    return max(1, round(base * households / BASE_HOUSEHOLDS))


def _day_in(rng: random.Random, month: int, not_before: dt.date) -> dt.date:
    year, mon = month // 12, month % 12 + 1
    days = calendar.monthrange(year, mon)[1]
    day = dt.date(year, mon, rng.randint(1, days))
    return max(day, not_before + dt.timedelta(days=1)) if month_of(not_before) == month else day


class _Planter:
    def __init__(self, population: Population, programmes: Programmes, cal: Calendar, seed: int | str) -> None:
        self.population = population
        self.programmes = programmes
        self.cal = cal
        self.rng = random.Random(f"{seed}:plant")
        self.used: set[int] = set()
        self.planted = Planted()
        self.unusable = [label for label, n in CREMATION_ONLY_UNUSABLE for _ in range(scaled(n, len(population.households)))]
        tekun_of = programmes.tekun_of()
        covering = programmes.dibao_covering()
        rng = self.rng
        # candidate pools, shuffled once so every scenario draws without replacement
        self.tekun = [t for t in programmes.tekun if t.person.event_month is None]
        self.care = [
            c for c in programmes.certificates
            if c.grade <= 2 and c.person.event_month is None and c.valid_month >= cal.as_of
            and c.person.pid not in tekun_of and c.person.pid not in covering
        ]
        self.dibao = [c for c in programmes.dibao if c.income_stop is None and c.head.event_month is None]
        for pool in (self.tekun, self.care, self.dibao):
            rng.shuffle(pool)

    # -- helpers ---------------------------------------------------------------
    def free(self, *people: Person) -> bool:
        return all(p.pid not in self.used and p.event_month is None for p in people)

    def take(self, scenario: str, person: Person, *others: Person) -> None:
        for p in (person, *others):
            self.used.add(p.pid)
        person.scenario = scenario
        self.planted.add(scenario, person)

    def month_between(self, first: int, last: int) -> int | None:
        return self.rng.randint(first, last) if first <= last else None

    def die(self, p: Person, month: int, *, unusable: bool = False) -> None:
        """Death in `month`, with records as a real county has them."""
        p.death = _day_in(self.rng, month, p.birth)
        p.move_out = None
        if unusable and self.unusable:
            p.register_late, p.cremated = True, True
            p.force_noise["cremation"] = self.unusable.pop(0)
            return
        draw = self.rng.random()
        if draw < 0.5:
            p.register_late, p.cremated = False, True
        elif draw < 0.7:
            p.register_late, p.cremated = False, False
        else:
            # the register is updated late: only the cremation record shows the death
            p.register_late, p.cremated = True, True

    def move(self, p: Person, month: int) -> None:
        p.move_out = _day_in(self.rng, month, p.birth)
        p.death = None

    def overpay_months(self) -> int:
        return self.rng.randint(1, 8)

    # -- deceased_paid -----------------------------------------------------------
    def tekun_after_death(self, n: int) -> int:
        return self._stream_after_event(n, "tekun_after_death", self.tekun, death=True)

    def care_after_death(self, n: int) -> int:
        return self._stream_after_event(n, "care_after_death", self.care, death=True)

    def _stream_after_event(self, n: int, scenario: str, pool: list, *, death: bool, overpay: bool = True) -> int:
        cal = self.cal
        for item in pool:
            if n == 0:
                break
            p = item.person
            if not self.free(p):
                continue
            start = item.start if isinstance(item, TekunCase) else item.issue_month
            k = self.overpay_months() if overpay else 0
            month = self.month_between(max(cal.window_start, start, month_of(p.birth) + 1), cal.as_of - max(k, 1))
            if month is None:
                continue
            if death:
                self.die(p, month, unusable=overpay)
            else:
                self.move(p, month)
            p.paid_through = month + k if overpay else None
            self.take(scenario, p)
            n -= 1
        return n

    def dibao_after_death(self, n: int, scenario: str) -> int:
        cal = self.cal
        for case in self.dibao:
            if n == 0:
                break
            member = self._dibao_member(case, scenario)
            if member is None or not self.free(member, case.head):
                continue
            month = self.month_between(max(cal.window_start, case.start, month_of(member.birth) + 1), cal.as_of - 1)
            if month is None:
                continue
            self.die(member, month)
            if scenario == "dibao_partial_after_death":
                member.paid_through = cal.as_of  # still marked covered, the case never recalculated
            else:
                member.paid_through = min(cal.as_of, month + self.overpay_months())
            self.take(scenario, member, case.head)
            n -= 1
        return n

    @staticmethod
    def _dibao_member(case: DibaoCase, scenario: str) -> Person | None:
        if scenario == "dibao_single_after_death":
            return case.covered[0] if case.inclusion == "单人" else None
        if scenario == "dibao_alone_after_death":
            return case.head if len(case.members) == 1 else None
        if scenario in ("dibao_partial_after_death", "dibao_member_moved_out"):
            others = [p for p in case.covered if p is not case.head]
            if case.inclusion != "整户" or len(case.covered) < 2 or not others:
                return None
            if scenario == "dibao_partial_after_death":
                return others[0] if len(case.covered) == 2 else None
            adults = [p for p in others if p.relation in ("子", "女", "孙子", "孙女", "兄弟", "姐妹")]
            return adults[0] if adults else None
        return None

    # -- moved_out_paid --------------------------------------------------------
    def dibao_member_moved_out(self, n: int) -> int:
        cal = self.cal
        for case in self.dibao:
            if n == 0:
                break
            member = self._dibao_member(case, "dibao_member_moved_out")
            if member is None or not self.free(member, case.head):
                continue
            month = self.month_between(max(cal.window_start, case.start, month_of(member.birth) + 1), cal.as_of - 1)
            if month is None:
                continue
            self.move(member, month)
            member.paid_through = cal.as_of  # still covered, living elsewhere
            self.take("dibao_member_moved_out", member, case.head)
            n -= 1
        return n

    def dibao_household_moved_out(self, n: int) -> int:
        cal = self.cal
        for case in self.dibao:
            if n == 0:
                break
            if case.inclusion != "整户" or len(case.members) > 3 or not self.free(*case.household.members):
                continue
            youngest = max(month_of(p.birth) for p in case.members)
            k = self.overpay_months()
            month = self.month_between(max(cal.window_start, case.start, youngest + 1), cal.as_of - k)
            if month is None:
                continue
            day = _day_in(self.rng, month, max(p.birth for p in case.members))
            for p in case.household.members:
                p.move_out = day
                p.paid_through = month + k
            for p in case.covered:
                self.take("dibao_household_moved_out", p, *case.household.members)
            n -= 1
        return n

    def moved_out_then_died(self, n: int) -> int:
        cal = self.cal
        pool = [*self.tekun, *self.care]
        for item in pool:
            if n == 0:
                break
            p = item.person
            if not self.free(p):
                continue
            start = item.start if isinstance(item, TekunCase) else item.issue_month
            moved = self.month_between(max(cal.window_start, start, month_of(p.birth) + 1), cal.as_of - 3)
            if moved is None:
                continue
            died = self.rng.randint(moved + 1, cal.as_of - 1)
            self.move(p, moved)
            p.death = _day_in(self.rng, died, p.birth)
            p.cremated = True  # brought home to be cremated; the register only knows the move
            p.paid_through = self.rng.randint(died, cal.as_of)
            self.take("moved_out_then_died", p)
            n -= 1
        return n

    # -- near misses -------------------------------------------------------------
    def not_covered_member_died(self, n: int) -> int:
        """A member the case does not cover dies while the case goes on being paid.

        Either the head of a 单人 case (the money still goes to the dead head's
        account) or, failing that, a member of a 整户 case who died and was
        correctly taken off (否) while the others stay covered.
        """
        cal = self.cal
        for case in self.dibao:
            if n == 0:
                break
            if case.inclusion != "单人" or not self.free(case.head, *case.covered):
                continue
            month = self.month_between(max(cal.window_start, case.start), cal.as_of - 2)
            if month is None:
                continue
            self.die(case.head, month)
            self.take("not_covered_member_died", case.head, *case.covered)
            n -= 1
        for case in self.dibao:
            if n == 0:
                break
            others = [p for p in case.covered if p is not case.head]
            if case.inclusion != "整户" or len(case.covered) < 2 or not others or not self.free(case.head, *case.covered):
                continue
            month = self.month_between(max(cal.window_start, case.start, month_of(others[-1].birth) + 1), cal.as_of - 2)
            if month is None:
                continue
            self.die(others[-1], month)  # taken off the case at death: 否 from then on
            self.take("not_covered_member_died", others[-1], *case.covered)
            n -= 1
        return n

    def recipients_paid_at_as_of(self) -> list[Person]:
        """Living beneficiaries paid through as_of: tekun, care subsidy, covered dibao members."""
        people = [t.person for t in self.tekun] + [c.person for c in self.care]
        people += [p for case in self.dibao for p in case.covered]
        return [p for p in people if self.free(p) and not p.minority]

    def namesake_alive(self, n: int) -> int:
        """A living beneficiary shares name, sex and township with someone who died.

        The dead namesake is a natural death when there is one in the township;
        otherwise someone on no roster at all is given a death (no payments
        hang on them, so no finding can follow).
        """
        cal = self.cal
        on_roster = {p.pid for case in self.programmes.dibao for p in case.members}
        on_roster |= {t.person.pid for t in self.programmes.tekun} | {c.person.pid for c in self.programmes.certificates}
        dead_by_place: dict[tuple[int, str], list[Person]] = {}
        alive_by_place: dict[tuple[int, str], list[Person]] = {}
        for p in self.population.persons:
            if p.minority or p.pid in self.used:
                continue
            if p.death is not None and p.move_out is None and cal.window_start - 12 <= month_of(p.death) <= cal.as_of - 1:
                dead_by_place.setdefault((p.township, p.sex), []).append(p)
            elif p.event_month is None and p.pid not in on_roster and full_age(p.birth, cal.end_date) >= 30:
                alive_by_place.setdefault((p.township, p.sex), []).append(p)
        for q in self.recipients_paid_at_as_of():
            if n == 0:
                break
            place = (q.township, q.sex)
            candidates = [p for p in dead_by_place.get(place, []) if p.household != q.household and p.pid not in self.used]
            if not candidates:
                spare = [p for p in alive_by_place.get(place, []) if p.household != q.household and p.pid not in self.used]
                if not spare:
                    continue
                dead = self.rng.choice(spare)
                dead.death = _day_in(self.rng, self.rng.randint(cal.window_start, cal.as_of - 1), dead.birth)
                candidates = [dead]
            same_surname = [p for p in candidates if p.name[0] == q.name[0]]
            dead = self.rng.choice(same_surname or candidates)
            dead.cremated = True
            dead.register_late = False
            q.name = dead.name
            self.population.pairs.append((dead, q, "namesake_same_township"))
            self.take("namesake_alive", q, dead)
            n -= 1
        return n

    def outside_county_cremation(self, n: int, issuer: IdIssuer) -> int:
        """Someone registered in another county, with a county recipient's name, is cremated here."""
        cal = self.cal
        for q in self.recipients_paid_at_as_of():
            if n == 0:
                break
            birth = q.birth + dt.timedelta(days=self.rng.randint(-1500, 1500))
            outsider = new_outsider(self.rng, issuer, -1, q.name, q.sex, birth)
            died = self.rng.randint(cal.window_start, cal.as_of - 1)
            outsider.death = _day_in(self.rng, died, birth)
            outsider.cremated = True
            if self.rng.random() < 0.5:
                outsider.force_noise["cremation"] = "id_blank"
            self.add_outsider(outsider)
            self.population.pairs.append((outsider, q, "namesake_outside_county"))
            self.take("outside_county_cremation", q)
            n -= 1
        return n

    def add_outsider(self, outsider: Person) -> None:
        outsider.pid = len(self.population.persons) + len(self.population.outsiders)
        self.population.outsiders.append(outsider)
        self.used.add(outsider.pid)

    # -- the remaining people ----------------------------------------------------
    def outsiders(self, issuer: IdIssuer) -> None:
        """Cremations of people registered elsewhere, about 8% of the county's."""
        cal = self.cal
        rng = self.rng
        county_cremations = sum(1 for p in self.population.persons if p.cremated)
        first = dt.date(2021, 1, 1)
        for _ in range(round(OUTSIDE_CREMATION_SHARE * county_cremations)):
            sex = "M" if rng.random() < 0.55 else "F"
            age = rng.randint(50, 96)
            birth = dt.date(cal.end_date.year - age, rng.randint(1, 12), rng.randint(1, 28))
            surname = rng.choices(county.SURNAME_CHOICES, county.SURNAME_WEIGHTS)[0]
            firsts, seconds, _ = county.GIVEN_NAMES[(county.era(birth.year), sex)]
            name = surname + rng.choice(firsts) + rng.choice(seconds)
            outsider = new_outsider(rng, issuer, -1, name, sex, birth)
            outsider.death = first + dt.timedelta(days=rng.randrange((cal.end_date - first).days + 1))
            outsider.cremated = True
            self.add_outsider(outsider)

    def decide_cremations(self) -> None:
        for p in self.population.persons:
            if p.death is not None and p.cremated is None:
                p.cremated = self.rng.random() < CREMATION_SHARE

    def certificate_status(self) -> None:
        """注销 for most holders who died (not for the planted ones: nobody noticed), 过期 when expired."""
        end = self.cal.end_date
        for cert in self.programmes.certificates:
            p = cert.person
            if cert.status_fixed:
                continue
            if p.death is not None and p.paid_through is None and p.move_out is None:
                cert.status = "注销" if self.rng.random() < 0.6 else "正常"
            elif cert.valid_until < end:
                cert.status = "过期" if self.rng.random() < 0.85 else "正常"


def plant(population: Population, programmes: Programmes, cal: Calendar, seed: int | str, *, taken: Container[str] = (),
          numbered: Mapping[str, int] | None = None) -> Planted:
    """Plant findings and near misses, then settle cremations, certificate statuses, waivers and case numbers.

    A shard of a larger county passes the numbers earlier shards took (`taken`: no citizen number is issued
    twice) and the case-number sequences they reached (`numbered`).
    """
    planter = _Planter(population, programmes, cal, seed)
    households = len(population.households)
    issuer = IdIssuer(random.Random(f"{seed}:outsider-ids"), taken)
    issuer.used.update(p.id_number for p in population.persons)
    n = {name: scaled(base, households) for name, base in (*DEATH_SCENARIOS, *MOVE_SCENARIOS, *NEAR_MISS_SCENARIOS)}
    leftover = [*planter.tekun, *planter.care]  # near misses draw from what the findings left
    planter.rng.shuffle(leftover)
    steps = (
        # deceased_paid
        ("tekun_after_death", lambda k: planter.tekun_after_death(k)),
        ("care_after_death", lambda k: planter.care_after_death(k)),
        ("dibao_single_after_death", lambda k: planter.dibao_after_death(k, "dibao_single_after_death")),
        ("dibao_alone_after_death", lambda k: planter.dibao_after_death(k, "dibao_alone_after_death")),
        ("dibao_partial_after_death", lambda k: planter.dibao_after_death(k, "dibao_partial_after_death")),
        # moved_out_paid
        ("tekun_after_move_out", lambda k: planter._stream_after_event(k, "tekun_after_move_out", planter.tekun, death=False)),
        ("care_after_move_out", lambda k: planter._stream_after_event(k, "care_after_move_out", planter.care, death=False)),
        ("dibao_household_moved_out", planter.dibao_household_moved_out),
        ("dibao_member_moved_out", planter.dibao_member_moved_out),
        ("moved_out_then_died", planter.moved_out_then_died),
        # near misses
        ("paid_through_death_month",
         lambda k: planter._stream_after_event(k, "paid_through_death_month", leftover, death=True, overpay=False)),
        ("paid_through_move_out_month",
         lambda k: planter._stream_after_event(k, "paid_through_move_out_month", leftover, death=False, overpay=False)),
        ("not_covered_member_died", planter.not_covered_member_died),
    )
    for scenario, step in steps:
        missing = step(n[scenario])
        if missing:
            planter.planted.short[scenario] = missing
    planter.decide_cremations()
    for scenario, step in (
        ("namesake_alive", planter.namesake_alive),
        ("outside_county_cremation", lambda k: planter.outside_county_cremation(k, issuer)),
    ):
        missing = step(n[scenario])
        if missing:
            planter.planted.short[scenario] = missing
    planter.outsiders(issuer)
    # the other checks' scenarios, on households and people the ones above left alone
    scenarios = Scenarios(population, programmes, cal, seed, planter.used, planter.take, planter.add_outsider,
                          planter.planted.short, planter.tekun, planter.care, taken=taken)
    scenarios.plant(lambda base: scaled(base, households))
    planter.certificate_status()
    scenarios.settle()
    number_cases(population, programmes, numbered)
    return planter.planted
