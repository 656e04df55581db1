"""Planted findings and near misses of the checks after deceased_paid and moved_out_paid.

Like `plant.py`, this only shapes people, cases and records; `truth.py` works
the findings out again from the rows written. Each scenario takes households
nobody else uses (no roster knows them, nobody in them has an event) and puts
them on the rosters it needs, or takes people from the rosters' natural pools,
so one scenario does not raise another check's finding. Near misses are tagged
on the person (`Person.near`, check and exemption); the truth lists a tag only
when the rows bear it out.

Counts scale with the number of households (the base counts are for 5,000),
each scenario at least once. Everything here draws from its own random stream,
so the deceased and moved-out scenarios planted before are unchanged.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Callable, Container

from data.sample import county
from data.sample.households import IdIssuer, Population
from data.sample.ids import check_char, is_valid, make_id_number
from data.sample.model import (
    CORRECTIONS,
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
from data.sample.programmes import Programmes
from data.sample.rows import active_at

# (check, scenario, base count at 5,000 households): planted findings
FINDINGS = (
    ("person_not_household", "member_not_covered", 4),
    ("person_not_household", "member_not_declared", 3),
    ("should_be_tekun", "lone_elderly_no_waiver", 4),
    ("should_be_tekun", "co_resident_gone", 4),
    ("should_be_tekun", "disabled_adult_alone", 2),
    ("transfer_gap", "transfer_gap", 4),
    ("transfer_gap", "transfer_gap_window_edge", 1),
    ("transfer_gap", "transfer_gap_partly_paid", 2),
    ("missed_living_subsidy", "living_subsidy_months_missed", 5),
    ("missed_living_subsidy", "living_subsidy_never_paid", 2),
    ("missed_care_subsidy", "care_subsidy_months_missed", 7),
    ("duplicate_benefit", "dibao_and_tekun", 4),
    ("duplicate_benefit", "two_dibao_cases", 3),
    ("duplicate_benefit", "repeated_line", 4),
    ("status_mismatch", "safety_net_wrong", 7),
    ("invalid_certificate_paid", "paid_after_expiry", 3),
    ("invalid_certificate_paid", "care_on_grade_3", 3),
    ("invalid_certificate_paid", "reassessed_old_certificate_paid", 3),
    ("invalid_certificate_paid", "paid_in_renewal_lapse", 2),
    ("identity_anomaly", "unrepairable_number", 3),
    ("identity_anomaly", "register_birth_contradicts_number", 2),
    ("identity_anomaly", "register_sex_contradicts_number", 2),
    ("identity_anomaly", "older_than_110", 2),
)
# (check, exemption, base count): near misses a careless rule would raise
NEAR_MISSES = (
    ("person_not_household", "single_inclusion", 3),  # also should_be_tekun other_member_present,
    # missed_living_subsidy not_covered_single_case and status_mismatch single_case_dibao
    ("person_not_household", "uncovered_member_gone", 3),
    ("person_not_household", "covered_by_other_case", 2),
    ("person_not_household", "on_tekun", 2),
    ("should_be_tekun", "waiver", 3),
    ("should_be_tekun", "other_member_present", 2),
    ("should_be_tekun", "age_edge_59", 2),
    ("transfer_gap", "no_gap", 2),  # also duplicate_benefit stopped_month_before_tekun
    ("transfer_gap", "gap_paid", 2),
    ("missed_living_subsidy", "on_tekun", 2),
    ("missed_living_subsidy", "expired_certificate", 2),
    ("missed_care_subsidy", "grade_2_paid", 2),  # also invalid_certificate_paid grade_2_care_paid
    ("missed_care_subsidy", "grade_3_not_paid", 2),
    ("missed_care_subsidy", "died_certificate_normal", 2),
    ("invalid_certificate_paid", "death_cancelled_paid_to_death", 2),
    ("invalid_certificate_paid", "reassessed_switched", 2),
    ("invalid_certificate_paid", "renewed_paid_before_reissue", 3),  # one certificate across the renewal
    ("invalid_certificate_paid", "renewal_lapse_unpaid", 2),
    ("duplicate_benefit", "dibao_member_listed_twice", 3),  # one membership, one share
    ("duplicate_benefit", "tekun_listed_twice", 3),  # one support period
    ("identity_anomaly", "one_slip_typo", 2),
    ("identity_anomaly", "fifteen_digit", 2),
    ("identity_anomaly", "lunar_birthday", 2),
    ("identity_anomaly", "age_110", 1),
)
SHOULD_BE_TEKUN = {scenario for check, scenario, _ in FINDINGS if check == "should_be_tekun"}
# no labour capacity (config/policy.yaml tekun.no_labour_max_grade)
NO_LABOUR_MAX_GRADE = {"智力": 3, "精神": 3, "肢体": 2, "视力": 1}
TEKUN_MIN_AGE, TEKUN_MAX_MINOR_AGE = 60, 16


def _day_in(rng: random.Random, month: int, not_before: dt.date | None = None) -> dt.date:
    year, mon = month // 12, month % 12 + 1
    day = dt.date(year, mon, rng.randint(1, calendar.monthrange(year, mon)[1]))
    if not_before is not None and day <= not_before:
        day = not_before + dt.timedelta(days=1)
    return day


def one_slip_variants(number: str) -> set[str]:
    """Every number one substituted character or one adjacent swap away."""
    variants = set()
    for i, char in enumerate(number):
        for other in "0123456789X":
            if other != char:
                variants.add(number[:i] + other + number[i + 1:])
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            variants.add(number[:i] + number[i + 1] + number[i] + number[i + 2:])
    return variants


class Scenarios:
    """Plants the scenarios of FINDINGS and NEAR_MISSES on a planter's population."""

    def __init__(self, population: Population, programmes: Programmes, cal: Calendar, seed: int | str, used: set[int],
                 take: Callable[..., None], add_outsider: Callable[[Person], None], short: dict[str, int],
                 tekun_pool: list[TekunCase], care_pool: list[Certificate], *, taken: Container[str] = ()) -> None:
        self.population = population
        self.programmes = programmes
        self.cal = cal
        self.rng = random.Random(f"{seed}:plant-checks")
        self.taken = taken  # numbers the county's earlier shards issued or wrote
        self.issuer = IdIssuer(random.Random(f"{seed}:plant-check-ids"), taken)
        self.issuer.used.update(p.id_number for p in (*population.persons, *population.outsiders))
        self.used = used
        self._take = take
        self.add_outsider = add_outsider
        self.short = short
        self.tekun_pool = tekun_pool
        self.care_pool = care_pool
        self.end = cal.end_date
        involved = {case.household.index for case in programmes.dibao}
        involved |= {t.person.household for t in programmes.tekun}
        involved |= {c.person.household for c in programmes.certificates}
        involved |= {poor.household.index for poor in programmes.poor}
        self.fresh = [
            h for h in population.households
            if h.index not in involved and all(p.event_month is None and p.pid not in used for p in h.members)
        ]
        self.rng.shuffle(self.fresh)

    # -- helpers -----------------------------------------------------------------
    def age(self, p: Person) -> int:
        return full_age(p.register_birth or p.birth, self.end)

    def free(self, *people: Person) -> bool:
        return all(p.pid not in self.used and p.event_month is None for p in people)

    def take(self, scenario: str, person: Person, *others: Person) -> None:
        self._take(scenario, person, *others)

    def near(self, check: str, label: str, person: Person, *others: Person) -> None:
        person.near.append((check, label))
        self.used.update(p.pid for p in (person, *others))

    def household(self, accept: Callable[[Household], bool]) -> Household | None:
        """A fresh household (no roster, no event, nobody used) that `accept` likes, taken out of the pool."""
        for i, h in enumerate(self.fresh):
            if accept(h) and self.free(*h.members):
                del self.fresh[i]
                self.used.update(p.pid for p in h.members)
                return h
        return None

    def alone_old(self, h: Household, low: int = 62, high: int = 100) -> bool:
        return len(h.members) == 1 and low <= self.age(h.head) < high

    def adults(self, h: Household, low: int = 18, high: int = 60, *, head: bool = False) -> list[Person]:
        return [p for p in h.members if (head or p is not h.head) and low <= self.age(p) < high]

    def before_window(self, back: int = 48) -> int:
        return self.rng.randint(self.cal.window_start - back, self.cal.window_start - 2)

    def dibao(self, h: Household, covered: list[Person], *, members: list[Person] | None = None, inclusion: str = "整户",
              start: int, stop: int | None = None, waivers: tuple[Person, ...] = ()) -> DibaoCase:
        members = list(h.members) if members is None else members
        area = "城市" if self.population.townships[h.township].urban else "农村"
        case = DibaoCase("", h, inclusion, start, area, members, list(covered), stop, frozenset(p.pid for p in waivers))
        self.programmes.dibao.append(case)
        return case

    def tekun(self, p: Person, start: int, mode: str = "分散") -> TekunCase:
        case = TekunCase("", p, start, mode)
        self.programmes.tekun.append(case)
        return case

    def certificate(self, p: Person, category: str, grade: int, issue: dt.date, *, status: str = "正常",
                    valid_until: dt.date | None = None) -> Certificate:
        if valid_until is None:
            valid_until = dt.date(issue.year + 10, issue.month, min(issue.day, 28)) - dt.timedelta(days=1)
        cert = Certificate(p, category, grade, issue, valid_until, status, status_fixed=True)
        self.programmes.certificates.append(cert)
        return cert

    def issue_before(self, month: int, p: Person) -> dt.date:
        """An issue date some years before `month` (after the holder's second birthday), valid past as_of."""
        first = max(month_of(p.birth) + 25, month - 96, self.cal.as_of - 110)
        return _day_in(self.rng, self.rng.randint(first, month - 1))

    def expiring(self, p: Person, month: int) -> tuple[dt.date, dt.date]:
        """(issue, valid_until) of a ten-year certificate whose last valid month is `month`."""
        year, mon = (month - 120) // 12, (month - 120) % 12 + 1
        issue = dt.date(year, mon, self.rng.randint(2, 28))
        return issue, dt.date(issue.year + 10, issue.month, issue.day) - dt.timedelta(days=1)

    def die(self, p: Person, month: int) -> None:
        """A death the records show (the register, a cremation row, or both)."""
        p.death = _day_in(self.rng, month, p.birth)
        p.move_out = None
        draw = self.rng.random()
        p.register_late, p.cremated = (False, True) if draw < 0.5 else (False, False) if draw < 0.7 else (True, True)

    def move(self, p: Person, month: int) -> None:
        p.move_out = _day_in(self.rng, month, p.birth)
        p.death = None

    def rebirth(self, p: Person, birth: dt.date) -> None:
        """Another birth date, and the citizen number that goes with it."""
        p.birth = birth
        p.id_number = self.issuer.issue(p.id_number[:6], birth, p.sex)

    def run(self, first: int, last: int, low: int, high: int) -> frozenset[int]:
        """A run of `low`..`high` consecutive months inside first..last."""
        length = min(self.rng.randint(low, high), last - first + 1)
        begin = self.rng.randint(first, last - length + 1)
        return frozenset(range(begin, begin + length))

    def tekun_person(self) -> tuple[Person, TekunCase] | None:
        """Someone on tekun since before the window: from the roster, or an old person living alone put on it."""
        for case in self.tekun_pool:
            p = case.person
            if self.free(p) and p.household >= 0 and case.start < self.cal.window_start and not p.force_noise:
                self.used.add(p.pid)
                return p, case
        h = self.household(self.alone_old)
        if h is None:
            return None
        return h.head, self.tekun(h.head, self.before_window())

    def care_holder(self, grade: int | None = None) -> Certificate | None:
        """A natural care-subsidy holder (grade 1–2, valid through as_of, on no roster) nobody uses."""
        for cert in self.care_pool:
            if self.free(cert.person) and (grade is None or cert.grade == grade) and not cert.repeat_months:
                self.used.add(cert.person.pid)
                return cert
        return None

    # -- person_not_household ------------------------------------------------------
    def member_not_covered(self, n: int, scenario: str) -> int:
        """A 整户 case leaves out a living adult of the household: declared 否, or not declared at all."""
        while n:
            h = self.household(lambda h: len(h.members) >= 3 and self.adults(h, 16, 100))
            if h is None:
                break
            x = self.rng.choice(self.adults(h, 16, 100))
            covered = [p for p in h.members if p is not x]
            self.dibao(h, covered, members=h.members if scenario == "member_not_covered" else covered, start=self.before_window())
            self.take(scenario, x)
            n -= 1
        return n

    def single_inclusion(self, n: int) -> int:
        """单人 cases: a severely disabled adult covered alone in a family that is not.

        The other members are near misses of person_not_household; the covered
        member (no labour capacity, but not alone) of should_be_tekun; the head
        holds a grade-3 certificate and no living subsidy (not covered); the
        family is registered poor and says 低保 (correct).
        """
        while n:
            h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 18, 60))
            if h is None:
                break
            y = self.rng.choice(self.adults(h, 18, 60))
            start = self.before_window()
            category, grade = self.rng.choice((("肢体", 1), ("智力", 2), ("精神", 2)))
            self.certificate(y, category, grade, self.issue_before(start, y))
            self.dibao(h, [y], inclusion="单人", start=start)
            for p in h.members:
                if p is not y:
                    self.near("person_not_household", "single_inclusion", p)
            self.near("should_be_tekun", "other_member_present", y)
            self.certificate(h.head, self.rng.choice(("听力", "言语", "肢体")), self.rng.choice((3, 4)),
                             self.issue_before(self.cal.window_start, h.head))
            self.near("missed_living_subsidy", "not_covered_single_case", h.head)
            self.add_poor(h)
            self.near("status_mismatch", "single_case_dibao", h.head)
            n -= 1
        return n

    def add_poor(self, h: Household) -> None:
        code = self.population.townships[h.township].code
        prefix = f"{county.COUNTY_CODE}{code}"
        taken = [int(poor.number[len(prefix):]) for poor in self.programmes.poor if poor.number.startswith(prefix)]
        self.programmes.poor.append(PoorHousehold(f"{prefix}{max(taken, default=0) + 1:06d}", h, "脱贫户"))

    def uncovered_member_gone(self, n: int) -> int:
        """A member of a 整户 case died or moved out and was taken off (否): no finding."""
        while n:
            born = self.cal.window_start - 1  # someone born before the window: any month of it will do
            h = self.household(lambda h: len(h.members) >= 3 and any(month_of(p.birth) < born for p in h.members[1:]))
            if h is None:
                break
            z = self.rng.choice([p for p in h.members[1:] if month_of(p.birth) < born])
            start = self.before_window()
            month = self.rng.randint(self.cal.window_start, self.cal.as_of - 2)
            (self.die if n % 2 else self.move)(z, month)
            self.dibao(h, h.members, start=start)
            self.near("person_not_household", "uncovered_member_gone", z)
            n -= 1
        return n

    def covered_elsewhere(self, n: int, label: str) -> int:
        """A household member outside the 整户 case is covered by another dibao case or is on tekun."""
        while n:
            h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 18, 100))
            if h is None:
                break
            x = self.rng.choice(self.adults(h, 18, 100))
            others = [p for p in h.members if p is not x]
            self.dibao(h, others, start=self.before_window())
            if label == "covered_by_other_case":
                self.dibao(h, [x], members=[x], start=self.before_window())
                for p in others:  # the other case's 整户 check sees them covered by the first
                    self.near("person_not_household", label, p)
            else:
                self.tekun(x, self.before_window())
            self.near("person_not_household", label, x)
            n -= 1
        return n

    # -- should_be_tekun -----------------------------------------------------------
    def lone_on_dibao(self, n: int, scenario: str) -> int:
        """A person alone in the register household on dibao: old, or unable to work."""
        while n:
            if scenario == "disabled_adult_alone":
                h = self.household(lambda h: len(h.members) == 1 and 18 <= self.age(h.head) < 60)
            elif scenario == "age_edge_59":
                if self.end.month == 12 and self.end.day == 31:
                    break  # nobody born in as_of's year minus 60 after as_of
                h = self.household(lambda h: len(h.members) == 1 and 20 <= self.age(h.head) < 60)
            else:
                h = self.household(self.alone_old)
            if h is None:
                break
            p = h.head
            start = self.before_window() if self.rng.random() < 0.6 else self.rng.randint(self.cal.window_start, self.cal.as_of - 2)
            if scenario == "age_edge_59":
                # born after the last day of as_of in the year 60 years before: 59 at as_of
                first, last = self.end + dt.timedelta(days=1), dt.date(self.end.year, 12, 31)
                day = first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))
                self.rebirth(p, dt.date(day.year - 60, day.month, min(day.day, 28) if day.month == 2 else day.day))
                start = self.before_window()
            if scenario == "disabled_adult_alone":
                category, grade = self.rng.choice((("智力", 2), ("精神", 3), ("肢体", 1), ("视力", 1)))
                self.certificate(p, category, grade, self.issue_before(start, p))
            self.dibao(h, [p], start=start, waivers=(p,) if scenario == "waiver" else ())
            if scenario in SHOULD_BE_TEKUN:
                self.take(scenario, p)
            else:
                self.near("should_be_tekun", scenario, p)
            n -= 1
        return n

    def co_resident_gone(self, n: int) -> int:
        """An old member's only co-resident died or moved out: alone now, and no waiver."""
        while n:
            h = self.household(lambda h: len(h.members) == 2 and any(self.age(p) >= 62 for p in h.members))
            if h is None:
                break
            stays = max(h.members, key=lambda p: (self.age(p), p.pid))
            gone = h.members[1] if stays is h.members[0] else h.members[0]
            start = self.before_window()
            month = self.rng.randint(self.cal.window_start, self.cal.as_of - 1)
            (self.die if n % 2 else self.move)(gone, month)
            self.dibao(h, h.members, start=start)
            self.take("co_resident_gone", stays)
            n -= 1
        return n

    def other_member_present(self, n: int) -> int:
        """An old couple on dibao: old enough, but not alone."""
        while n:
            h = self.household(lambda h: len(h.members) == 2 and all(self.age(p) >= 60 for p in h.members))
            if h is None:
                break
            self.dibao(h, h.members, start=self.before_window())
            self.near("should_be_tekun", "other_member_present", max(h.members, key=lambda p: (self.age(p), p.pid)))
            n -= 1
        return n

    # -- transfer_gap / duplicate_benefit --------------------------------------------
    def transfer(self, n: int, scenario: str) -> int:
        """Off dibao (停保), later onto tekun: with months of neither, or none, or paid after all."""
        cal = self.cal
        while n:
            h = self.household(self.alone_old)
            if h is None:
                break
            p = h.head
            paid_after = 0
            if scenario == "transfer_gap_window_edge":
                stop, gap = cal.window_start - 3, 4  # two gap months before the window, two inside
            elif scenario == "no_gap":
                stop, gap = self.rng.randint(cal.window_start, cal.as_of - 3), 0
            elif scenario == "gap_paid":
                gap = self.rng.randint(1, 3)
                stop, paid_after = self.rng.randint(cal.window_start, cal.as_of - gap - 2), gap
            elif scenario == "transfer_gap_partly_paid":
                gap = self.rng.randint(3, 5)
                stop, paid_after = self.rng.randint(cal.window_start, cal.as_of - gap - 2), 1
            else:
                gap = self.rng.randint(1, 5)
                stop = self.rng.randint(cal.window_start, cal.as_of - gap - 2)
            case = self.dibao(h, [p], start=stop - self.rng.randint(6, 40), stop=stop)
            case.paid_after_stop = paid_after
            self.tekun(p, stop + gap + 1, "集中" if self.rng.random() < 0.25 else "分散")
            if scenario == "no_gap":
                self.near("transfer_gap", "no_gap", p)
                self.near("duplicate_benefit", "stopped_month_before_tekun", p)
            elif scenario == "gap_paid":
                self.near("transfer_gap", "gap_paid", p)
            else:
                self.take(scenario, p)
            n -= 1
        return n

    def dibao_and_tekun(self, n: int) -> int:
        """On tekun while a dibao case still covers them: until as_of, or until the case stopped."""
        cal = self.cal
        while n:
            h = self.household(self.alone_old)
            if h is None:
                break
            p = h.head
            start = self.rng.randint(cal.window_start + 1, cal.as_of - 1)
            stop = None if n % 2 else self.rng.randint(start, cal.as_of - 1)
            self.dibao(h, [p], start=self.before_window(), stop=stop)
            self.tekun(p, start)
            self.take("dibao_and_tekun", p)
            if stop is None:
                p.near.append(("should_be_tekun", "on_tekun"))
            n -= 1
        return n

    def two_dibao_cases(self, n: int) -> int:
        """A member of a 整户 case also heads a case of their own, started later."""
        cal = self.cal
        while n:
            h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 18, 100))
            if h is None:
                break
            x = self.rng.choice(self.adults(h, 18, 100))
            self.dibao(h, h.members, start=self.before_window())
            self.dibao(h, [x], members=[x], start=self.rng.randint(cal.window_start + 1, cal.as_of - 2))
            self.take("two_dibao_cases", x)
            n -= 1
        return n

    def repeated_line(self, n: int) -> int:
        """A ledger line entered twice: tekun support, care subsidy, or a couple's 低保金 (half each)."""
        cal = self.cal
        kind, limit = 0, 4 * n + 40
        while n and kind < limit:
            kind += 1
            if kind % 3 == 1:
                found = self.tekun_person()
                if found is None:
                    continue
                p, case = found
                case.repeat_months = self.run(cal.window_start, cal.as_of, 1, 2)
                self.take("repeated_line", p)
            elif kind % 3 == 2:
                cert = self.care_holder()
                if cert is None:
                    continue
                cert.repeat_months = self.run(max(cert.issue_month, cal.window_start), cal.as_of, 1, 2)
                self.take("repeated_line", cert.person)
            else:
                h = self.household(lambda h: len(h.members) == 2 and all(18 <= self.age(p) < 60 for p in h.members))
                if h is None:
                    continue
                case = self.dibao(h, h.members, start=self.before_window())
                case.repeat_months = self.run(cal.window_start, cal.as_of, 1, 1)
                for p in h.members:
                    self.take("repeated_line", p)
            n -= 1
        return n

    # -- missed_living_subsidy / missed_care_subsidy -----------------------------------
    def living_missed(self, n: int, scenario: str) -> int:
        """A certified member of a covered household without the living subsidy for some months, or all."""
        cal = self.cal
        while n:
            h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 16, 100, head=True))
            if h is None:
                break
            y = self.rng.choice(self.adults(h, 16, 100, head=True))
            start = self.before_window()
            cert = self.certificate(y, self.rng.choice(("听力", "言语", "肢体", "视力")), self.rng.choice((3, 4)),
                                    self.issue_before(start, y))
            self.dibao(h, h.members, start=start)
            if scenario == "living_subsidy_never_paid":
                cert.living_skip = frozenset(cal.window())
            else:
                cert.living_skip = self.run(cal.window_start, cal.as_of, 2, 8)
            self.take(scenario, y)
            n -= 1
        return n

    def living_near(self, n: int, label: str) -> int:
        cal = self.cal
        attempts, limit = 0, 4 * n + 40
        while n and attempts < limit:
            attempts += 1
            if label == "on_tekun":
                found = self.tekun_person()
                if found is None:
                    break
                p = found[0]
                if any(c.person is p for c in self.programmes.certificates):
                    continue
                self.certificate(p, self.rng.choice(("听力", "肢体", "视力")), self.rng.choice((3, 4)),
                                 self.issue_before(cal.window_start, p))
            else:  # expired_certificate: the subsidy stops with the certificate
                h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 16, 100, head=True))
                if h is None:
                    break
                p = self.rng.choice(self.adults(h, 16, 100, head=True))
                issue, valid_until = self.expiring(p, self.rng.randint(cal.window_start + 2, cal.as_of - 2))
                self.certificate(p, self.rng.choice(("听力", "言语", "肢体")), self.rng.choice((3, 4)), issue,
                                 valid_until=valid_until, status="过期")
                self.dibao(h, h.members, start=self.before_window())
            self.near("missed_living_subsidy", label, p)
            n -= 1
        return n

    def care_missed(self, n: int) -> int:
        """A grade 1–2 holder not paid the care subsidy for some months: on no roster, on tekun, or on dibao."""
        cal = self.cal
        kind, limit = 0, 4 * n + 40
        while n and kind < limit:
            kind += 1
            if kind % 3 == 1:
                cert = self.care_holder()
                if cert is None:
                    continue
            elif kind % 3 == 2:
                found = self.tekun_person()
                if found is None or any(c.person is found[0] for c in self.programmes.certificates):
                    continue
                p = found[0]
                cert = self.certificate(p, self.rng.choice(("肢体", "视力", "多重")), self.rng.choice((1, 2)),
                                        self.issue_before(cal.window_start, p))
            else:
                h = self.household(lambda h: len(h.members) >= 2 and self.adults(h, 16, 100, head=True))
                if h is None:
                    continue
                p = self.rng.choice(self.adults(h, 16, 100, head=True))
                start = self.before_window()
                cert = self.certificate(p, self.rng.choice(("肢体", "视力", "多重")), self.rng.choice((1, 2)),
                                        self.issue_before(start, p))
                self.dibao(h, h.members, start=start)
            cert.care_skip = self.run(max(cert.issue_month, cal.window_start), cal.as_of, 2, 6)
            self.take("care_subsidy_months_missed", cert.person)
            n -= 1
        return n

    def care_near(self, n: int, label: str) -> int:
        cal = self.cal
        while n:
            if label == "grade_3_not_paid":
                h = self.household(lambda h: bool(self.adults(h, 16, 100, head=True)))
                if h is None:
                    break
                p = self.rng.choice(self.adults(h, 16, 100, head=True))
                self.certificate(p, self.rng.choice(("智力", "精神", "肢体")), 3, self.issue_before(cal.window_start, p))
                self.near("missed_care_subsidy", label, p)
            else:
                cert = self.care_holder(2 if label == "grade_2_paid" else None)
                if cert is None:
                    break
                p = cert.person
                if label == "grade_2_paid":
                    self.near("missed_care_subsidy", label, p)
                    self.near("invalid_certificate_paid", "grade_2_care_paid", p)
                else:
                    # died in the window: paid through the death month, nothing after
                    first = max(cal.window_start, cert.issue_month + 1)
                    if first > cal.as_of - 2:
                        continue
                    self.die(p, self.rng.randint(first, cal.as_of - 2))
                    cert.status, cert.status_fixed = ("正常", True) if label == "died_certificate_normal" else ("注销", True)
                    self.near("invalid_certificate_paid" if label == "death_cancelled_paid_to_death" else "missed_care_subsidy",
                              label, p)
            n -= 1
        return n

    # -- invalid_certificate_paid ------------------------------------------------------
    def invalid_certificate(self, n: int, scenario: str) -> int:
        """Subsidy lines a certificate does not support: after expiry, care on grade 3, on the replaced certificate."""
        cal = self.cal
        while n:
            h = self.household(lambda h: bool(self.adults(h, 16, 100, head=True)))
            if h is None:
                break
            p = self.rng.choice(self.adults(h, 16, 100, head=True))
            if scenario == "paid_after_expiry":
                month = self.rng.randint(cal.window_start + 1, cal.as_of - 6)
                issue, valid_until = self.expiring(p, month)
                cert = self.certificate(p, self.rng.choice(("肢体", "视力", "多重")), self.rng.choice((1, 2)), issue,
                                        valid_until=valid_until, status=self.rng.choice(("过期", "过期", "正常")))
                cert.lines_until = cert.valid_month + self.rng.randint(1, 5)
                if n % 2 == 0 and len(h.members) >= 2:
                    self.dibao(h, h.members, start=self.before_window())  # the living subsidy runs on too
                self.take(scenario, p)
            elif scenario == "care_on_grade_3":
                cert = self.certificate(p, self.rng.choice(("智力", "精神")), 3, self.issue_before(cal.window_start, p))
                cert.care_paid = True
                cert.lines_from = self.rng.randint(cal.window_start, cal.as_of - 3)
                self.take(scenario, p)
            else:
                # re-assessed: the old grade-2 certificate is cancelled when the new one is issued
                reissued = self.rng.randint(cal.window_start + 1, cal.as_of - 4)
                old = self.certificate(p, "肢体", 2, self.issue_before(reissued - 12, p), status="注销")
                new_grade = 1 if scenario == "reassessed_switched" else self.rng.choice((3, 4))
                new = self.certificate(p, "肢体", new_grade, _day_in(self.rng, reissued))
                if scenario == "reassessed_switched":
                    old.lines_until, new.lines_from = reissued, reissued + 1
                    self.near("invalid_certificate_paid", scenario, p)
                else:
                    old.lines_until = reissued + self.rng.randint(1, 3)
                    self.take(scenario, p)
            n -= 1
        return n

    def renewal(self, n: int, scenario: str) -> int:
        """A certificate renewed under its number (换证: same category and grade), listed as two rows.

        Renewed in time (the old row 注销, 过期 or still 正常, valid until the month before the new
        issue or later) with the subsidy paid on across it: one certificate, nothing to raise. Or
        renewed after a lapse (the old row 过期 months before the new issue): lines paid in the
        lapse are a finding; lines that stop with the old row and resume with the new are not.
        Grade 1–2 on no roster (care subsidy), or every other in-time renewal grade 3–4 in a
        dibao household (living subsidy).
        """
        cal = self.cal
        while n:
            living = scenario == "renewed_paid_before_reissue" and n % 2 == 0
            h = self.household(lambda h: bool(self.adults(h, 16, 100, head=True)) and (len(h.members) >= 2 or not living))
            if h is None:
                break
            p = self.rng.choice(self.adults(h, 16, 100, head=True))
            category = self.rng.choice(("肢体", "视力", "多重"))
            grade = self.rng.choice((3, 4) if living else (1, 2))
            reissued = self.rng.randint(cal.window_start + 6, cal.as_of - 2)  # the new row's issue month
            if scenario == "renewed_paid_before_reissue":
                status = ("注销", "过期", "正常")[n % 3]
                old_last = min(reissued - 1 + self.rng.randint(0, 3), cal.as_of - 1)
            else:
                status, old_last = "过期", reissued - self.rng.randint(2, 5)
            issue, valid_until = self.expiring(p, old_last)
            old = self.certificate(p, category, grade, issue, valid_until=valid_until, status=status)
            self.certificate(p, category, grade, _day_in(self.rng, reissued))
            old.lines_until = old_last if scenario == "renewal_lapse_unpaid" else reissued - 1
            if living:
                self.dibao(h, h.members, start=self.before_window())
            if scenario == "paid_in_renewal_lapse":
                self.take(scenario, p)
            else:
                self.near("invalid_certificate_paid", scenario, p)
            n -= 1
        return n

    # -- listed twice -------------------------------------------------------------------
    def dibao_member_listed_twice(self, n: int) -> int:
        """A member of a 整户 case listed again after a correction (name, amount or start month).

        The one whose start month was corrected was on a case of their own before (stopped before
        either start): on two cases, so only the case number tells the two rows of one case apart.
        """
        while n:
            h = self.household(lambda h: len(h.members) >= 2)
            if h is None:
                break
            start = self.before_window()
            x = self.rng.choice(h.members)
            correction = CORRECTIONS[n % len(CORRECTIONS)]
            if correction == "start":
                stop = start - 8  # the copy starts at most six months earlier
                self.dibao(h, [x], members=[x], start=stop - self.rng.randint(6, 24), stop=stop)
            case = self.dibao(h, h.members, start=start)
            case.listed_twice = {x.pid: correction}
            self.near("duplicate_benefit", "dibao_member_listed_twice", x)
            n -= 1
        return n

    def tekun_listed_twice(self, n: int) -> int:
        """Someone on tekun since before the window whose support is listed again after a correction."""
        while n:
            found = self.tekun_person()
            if found is None:
                break
            p, case = found
            case.listed_twice = CORRECTIONS[n % len(CORRECTIONS)]
            self.near("duplicate_benefit", "tekun_listed_twice", p)
            n -= 1
        return n

    # -- status_mismatch ---------------------------------------------------------------
    def safety_net_wrong(self, n: int) -> int:
        """Registered-poor households whose 兜底保障 the rosters contradict (run last: the rosters are final)."""
        tekun_active, dibao_active = active_at(self.programmes, self.cal.as_of)
        poor = list(self.programmes.poor)
        self.rng.shuffle(poor)
        for household in poor:
            if n == 0:
                break
            members = household.household.members
            if household.safety_net_shown or not self.free(*members):
                continue
            pids = {p.pid for p in members}
            expected = "特困" if pids & tekun_active else "低保" if pids & dibao_active else "无"
            shown = {"特困": "低保", "低保": ("无", "特困")[n % 2], "无": "低保"}[expected]
            household.safety_net_shown = shown
            self.take("safety_net_wrong", household.household.head, *members)
            n -= 1
        return n

    # -- identity_anomaly -------------------------------------------------------------
    def unrepairable_number(self, n: int) -> int:
        """Someone on tekun in an institution, in no register here, whose number is garbage."""
        register = {p.id_number for p in self.population.persons}
        names = {(p.name, p.township) for p in self.population.persons}
        rural = [i for i, t in enumerate(self.population.townships) if not t.urban]
        attempts, limit = 0, 4 * n + 100
        while n and attempts < limit:
            attempts += 1
            sex = "M" if self.rng.random() < 0.6 else "F"
            birth = dt.date(self.end.year - self.rng.randint(62, 88), self.rng.randint(1, 12), self.rng.randint(1, 28))
            township = self.rng.choice(rural)
            firsts, seconds, _ = county.GIVEN_NAMES[(county.era(birth.year), sex)]
            name = self.rng.choice(county.SURNAME_CHOICES) + self.rng.choice(firsts) + self.rng.choice(seconds)
            if (name, township) in names:
                continue
            number = self.garbage(birth, sex, register)
            p = Person(pid=-1, name=name, sex=sex, birth=birth, id_number=number, household=-1, relation="",
                       township=township, village=self.rng.randrange(len(self.population.townships[township].villages)))
            p.force_noise.update(tekun="clean", payments="clean")  # the number stays as written
            self.add_outsider(p)
            self.tekun(p, self.before_window(), "集中")
            self.take("unrepairable_number", p)
            n -= 1
        return n

    def garbage(self, birth: dt.date, sex: str, register: set[str]) -> str:
        """An 18-character number with two characters wrong: fails its check, no slip from a register number.

        Nor from a number an earlier shard took; the generator keeps the valid numbers one slip from it
        out of later shards (`generate.py`).
        """
        while True:
            sequence = self.rng.randrange(1, 500) * 2 - (1 if sex == "M" else 0)
            good = make_id_number(county.COUNTY_CODE, birth, sequence)
            position = self.rng.choice((8, 9, 14, 15))
            digit = self.rng.choice([d for d in "0123456789" if d != good[position]])
            first17 = good[:position] + digit + good[position + 1:17]
            wrong = self.rng.choice([c for c in "0123456789X" if c not in (check_char(first17), good[17])])
            number = first17 + wrong
            if not is_valid(number) and not (one_slip_variants(number) & register) and number not in register:
                if not any(variant in self.taken for variant in one_slip_variants(number)):
                    return number

    def identity(self, n: int, scenario: str) -> int:
        """Recipients on tekun whose register record contradicts itself, who are implausibly old, or near misses."""
        while n:
            if scenario in ("older_than_110", "age_110"):
                h = self.household(self.alone_old)
                if h is None:
                    break
                p = h.head
                age = 110 if scenario == "age_110" else self.rng.randint(111, 114)
                born = self.end - dt.timedelta(days=self.rng.randint(30, 330))
                self.rebirth(p, dt.date(born.year - age, born.month, min(born.day, 28)))
                self.tekun(p, self.before_window())
            else:
                found = self.tekun_person()
                if found is None:
                    break
                p = found[0]
                if scenario == "register_birth_contradicts_number":
                    p.register_birth = p.birth + dt.timedelta(days=self.rng.choice((-1, 1)) * self.rng.randint(200, 900))
                elif scenario == "register_sex_contradicts_number":
                    p.register_sex = "F" if p.sex == "M" else "M"
                elif scenario == "one_slip_typo":
                    p.force_noise.update(tekun="id_transposed", payments="id_typo")
                elif scenario == "fifteen_digit":
                    p.force_noise.update(tekun="id_15", payments="id_15")
                elif scenario == "lunar_birthday":
                    p.roster_birth = p.birth + dt.timedelta(days=self.rng.choice((-1, 1)) * self.rng.randint(20, 40))
            if scenario in ("one_slip_typo", "fifteen_digit", "lunar_birthday", "age_110"):
                self.near("identity_anomaly", scenario, p)
            else:
                self.take(scenario, p)
            n -= 1
        return n

    # -- everything, in order -------------------------------------------------------------
    def plant(self, scaled: Callable[[int], int]) -> None:
        steps: list[tuple[str, int, Callable[[int], int]]] = []
        counts = {(check, name): base for check, name, base in (*FINDINGS, *NEAR_MISSES)}

        def step(check: str, name: str, run: Callable[[int], int]) -> None:
            steps.append((f"{check}:{name}", scaled(counts[(check, name)]), run))

        step("person_not_household", "member_not_covered", lambda k: self.member_not_covered(k, "member_not_covered"))
        step("person_not_household", "member_not_declared", lambda k: self.member_not_covered(k, "member_not_declared"))
        step("person_not_household", "single_inclusion", self.single_inclusion)
        step("person_not_household", "uncovered_member_gone", self.uncovered_member_gone)
        step("person_not_household", "covered_by_other_case", lambda k: self.covered_elsewhere(k, "covered_by_other_case"))
        step("person_not_household", "on_tekun", lambda k: self.covered_elsewhere(k, "on_tekun"))
        for name in ("lone_elderly_no_waiver", "disabled_adult_alone"):
            step("should_be_tekun", name, lambda k, name=name: self.lone_on_dibao(k, name))
        step("should_be_tekun", "co_resident_gone", self.co_resident_gone)
        for name in ("waiver", "age_edge_59"):
            step("should_be_tekun", name, lambda k, name=name: self.lone_on_dibao(k, name))
        step("should_be_tekun", "other_member_present", self.other_member_present)
        for check, name in (("transfer_gap", "transfer_gap"), ("transfer_gap", "transfer_gap_window_edge"),
                            ("transfer_gap", "transfer_gap_partly_paid"), ("transfer_gap", "no_gap"), ("transfer_gap", "gap_paid")):
            step(check, name, lambda k, name=name: self.transfer(k, name))
        step("duplicate_benefit", "dibao_and_tekun", self.dibao_and_tekun)
        step("duplicate_benefit", "two_dibao_cases", self.two_dibao_cases)
        step("duplicate_benefit", "repeated_line", self.repeated_line)
        for name in ("living_subsidy_months_missed", "living_subsidy_never_paid"):
            step("missed_living_subsidy", name, lambda k, name=name: self.living_missed(k, name))
        for name in ("on_tekun", "expired_certificate"):
            step("missed_living_subsidy", name, lambda k, name=name: self.living_near(k, name))
        step("missed_care_subsidy", "care_subsidy_months_missed", self.care_missed)
        for name in ("grade_2_paid", "grade_3_not_paid", "died_certificate_normal"):
            step("missed_care_subsidy", name, lambda k, name=name: self.care_near(k, name))
        step("invalid_certificate_paid", "death_cancelled_paid_to_death", lambda k: self.care_near(k, "death_cancelled_paid_to_death"))
        for name in ("paid_after_expiry", "care_on_grade_3", "reassessed_old_certificate_paid", "reassessed_switched"):
            step("invalid_certificate_paid", name, lambda k, name=name: self.invalid_certificate(k, name))
        step("identity_anomaly", "unrepairable_number", self.unrepairable_number)
        for name in ("register_birth_contradicts_number", "register_sex_contradicts_number", "older_than_110",
                     "one_slip_typo", "fifteen_digit", "lunar_birthday", "age_110"):
            step("identity_anomaly", name, lambda k, name=name: self.identity(k, name))
        for name in ("paid_in_renewal_lapse", "renewed_paid_before_reissue", "renewal_lapse_unpaid"):
            step("invalid_certificate_paid", name, lambda k, name=name: self.renewal(k, name))
        step("duplicate_benefit", "dibao_member_listed_twice", self.dibao_member_listed_twice)
        step("duplicate_benefit", "tekun_listed_twice", self.tekun_listed_twice)
        step("status_mismatch", "safety_net_wrong", self.safety_net_wrong)
        for label, k, run in steps:
            missing = run(k)
            if missing:
                self.short[label] = missing

    # -- settling the natural population ---------------------------------------------------
    def settle(self) -> None:
        """Keep the natural population from raising findings nobody planted.

        A death on a roster household leaves a trace in the rows (else the
        person looks alive and unpaid); a covered dibao member who meets the
        tekun criteria alone has chosen dibao in writing, unless planted.
        Run after certificate statuses are decided.
        """
        involved = {case.household.index for case in self.programmes.dibao}
        involved |= {t.person.household for t in self.programmes.tekun}
        involved |= {c.person.household for c in self.programmes.certificates}
        involved |= {poor.household.index for poor in self.programmes.poor}
        involved.discard(-1)
        for index in involved:
            for p in self.population.households[index].members:
                p.on_roster = True
                if p.death is not None and p.register_late and not p.cremated:
                    p.register_late = False
        as_of = self.cal.as_of
        tekun_active, _ = active_at(self.programmes, as_of)
        certificates: dict[int, list[Certificate]] = {}
        for cert in self.programmes.certificates:
            certificates.setdefault(cert.person.pid, []).append(cert)
        for case in self.programmes.dibao:
            if case.last_month(as_of) != as_of:
                continue
            for p in case.covered:
                if (p.pay_until is not None and p.pay_until < as_of) or p.shown_event_month is not None or p.household < 0:
                    continue
                if p.scenario in SHOULD_BE_TEKUN or p.pid in case.waivers or p.pid in tekun_active:
                    continue
                alone = all(q is p or q.shown_event_month is not None for q in self.population.households[p.household].members)
                if alone and self.unable_to_work(p, certificates.get(p.pid, ())):
                    case.waivers = case.waivers | {p.pid}

    def unable_to_work(self, p: Person, certificates) -> bool:
        age = self.age(p)
        if age >= TEKUN_MIN_AGE or age < TEKUN_MAX_MINOR_AGE:
            return True
        return any(
            c.status != "注销" and c.issue_month <= self.cal.as_of <= c.valid_month
            and c.grade <= NO_LABOUR_MAX_GRADE.get(c.category, 0)
            for c in certificates
        )
