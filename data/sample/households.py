"""The county's people: households of realistic shapes, names, numbers, life events.

Builds the register population (who lives together, born when, named what,
with which citizen number) and their natural deaths and move-outs. Benefits
are assigned afterwards in `programmes.py`; planted events in `plant.py`
override the natural ones for the people they pick.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from data.sample import county
from data.sample.ids import make_id_number
from data.sample.model import Calendar, Household, Person, full_age

# Household shapes and their shares; rural counties have many elderly living alone.
SHAPES = (
    ("elderly_alone", 13),
    ("elderly_couple", 13),
    ("couple", 7),
    ("nuclear", 33),
    ("three_generation", 23),
    ("single_adult", 6),
    ("siblings", 3),
    ("other", 2),
)
MINORITY_SHARE = 0.02
EVENTS_FROM = dt.date(2021, 1, 1)  # natural deaths and move-outs from here on


@dataclass
class Population:
    """Everyone the generator knows, and pairs that look alike on purpose."""

    townships: tuple[county.Township, ...]
    households: list[Household]
    persons: list[Person]  # register people in register order
    outsiders: list[Person] = field(default_factory=list)  # cremated here, registered elsewhere
    pairs: list[tuple[Person, Person, str]] = field(default_factory=list)  # (left, right, kind)


class IdIssuer:
    """Issues unique citizen numbers whose sequence parity matches the sex.

    `taken`: numbers the county's earlier shards issued or wrote (`taken.TakenNumbers`), never issued again.
    """

    def __init__(self, rng: random.Random, taken: Container[str] = ()) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.taken = taken

    def issue(self, area: str, birth: dt.date, sex: str) -> str:
        while True:
            sequence = self.rng.randrange(1, 500) * 2 - (1 if sex == "M" else 0)
            number = make_id_number(area, birth, sequence)
            if number not in self.used and number not in self.taken:
                self.used.add(number)
                return number


class _Builder:
    """Makes the people of one household at a time."""

    def __init__(self, rng: random.Random, cal: Calendar, issuer: IdIssuer) -> None:
        self.rng = rng
        self.end = cal.end_date
        self.issuer = issuer
        self.pairs: list[tuple[Person, Person, str]] = []

    # -- names ---------------------------------------------------------------
    def surname(self) -> str:
        return self.rng.choices(county.SURNAME_CHOICES, county.SURNAME_WEIGHTS)[0]

    def given_name(self, birth_year: int, sex: str, avoid: set[str], first: str | None = None) -> str:
        era = county.era(birth_year)
        firsts, seconds, singles = county.GIVEN_NAMES[(era, sex)]
        for _ in range(20):
            if first is not None:
                given = first + self.rng.choice(seconds)
            elif self.rng.random() < county.SINGLE_NAME_SHARE[era]:
                given = self.rng.choice(singles)
            else:
                given = self.rng.choice(firsts) + self.rng.choice(seconds)
            if given not in avoid and (len(given) == 1 or given[0] != given[1]):
                return given
        return given

    def minority_name(self, sex: str, father_given: str) -> str:
        own = self.rng.choice([g for g in county.MINORITY_GIVEN[sex] if g != father_given])
        return own + "·" + father_given

    # -- people --------------------------------------------------------------
    def birth_for_age(self, age: int) -> dt.date:
        anchor = dt.date(self.end.year - age, self.end.month, min(self.end.day, 28))
        return anchor - dt.timedelta(days=self.rng.randrange(365))

    def area(self, married_in: bool) -> str:
        # spouses often married in from elsewhere in the province; a few older people too
        share = 0.3 if married_in else 0.04
        if self.rng.random() < share:
            code = self.rng.choice(county.NEIGHBOUR_COUNTIES)[0]
            # a county of a province issues its own numbers only: the same draws, so the rest of the county is unchanged
            return code if county.ISSUES_OTHER_CODES else county.COUNTY_CODE
        return county.COUNTY_CODE

    def person(self, name: str, sex: str, birth: dt.date, relation: str, *, married_in: bool = False, minority: bool = False) -> Person:
        number = self.issuer.issue(self.area(married_in), birth, sex)
        return Person(pid=-1, name=name, sex=sex, birth=birth, id_number=number, household=-1, relation=relation, township=-1, village=-1, minority=minority)

    def household(self, shape: str, clan: str | None, minority: bool) -> list[Person]:
        """The members of one household, head first."""
        rng = self.rng
        members: list[Person] = []
        used_given: set[str] = set()
        family_surname = clan if clan is not None and rng.random() < 0.5 else self.surname()

        def add(sex: str, age: int, relation: str, *, surname: str | None = None, married_in: bool = False,
                father: Person | None = None, birth: dt.date | None = None, first: str | None = None) -> Person:
            birth = birth or self.birth_for_age(age)
            if minority:
                father_given = father.name.split("·")[0] if father is not None else rng.choice(county.MINORITY_GIVEN["M"])
                name = self.minority_name(sex, father_given)
            else:
                given = self.given_name(birth.year, sex, used_given, first)
                used_given.add(given)
                name = (surname or family_surname) + given
            p = self.person(name, sex, birth, relation, married_in=married_in, minority=minority)
            members.append(p)
            return p

        def children(mother_age: int, father: Person | None, surname: str, count: int, son: str, daughter: str) -> list[Person]:
            kids: list[Person] = []
            age = mother_age - rng.randint(21, 30)
            for _ in range(count):
                if age < 0:
                    break
                sex = "M" if rng.random() < 0.52 else "F"
                older = kids[-1] if kids else None
                draw = rng.random()
                if older is not None and draw < 0.03 and rng.random() < 0.7:
                    sex = older.sex  # most twins in the sample are same-sex
                relation = son if sex == "M" else daughter
                if older is not None and draw < 0.03:
                    # twins: same birth date, often a shared generation character
                    first = None if minority or len(older.name) != len(surname) + 2 else older.name[-2]
                    kid = add(sex, 0, relation, surname=surname, father=father, birth=older.birth, first=first)
                    self.pairs.append((older, kid, "twins"))
                elif older is not None and draw < 0.07 and older.birth.year < self.end.year and older.birth.month <= 3:
                    # siblings born in the same calendar year (January and December)
                    birth = dt.date(older.birth.year, 12, rng.randint(10, 28))
                    kid = add(sex, 0, relation, surname=surname, father=father, birth=birth)
                    self.pairs.append((older, kid, "siblings_same_birth_year"))
                else:
                    kid = add(sex, age, relation, surname=surname, father=father)
                kids.append(kid)
                age -= rng.randint(2, 6)
            return kids

        if shape == "elderly_alone":
            sex = "F" if rng.random() < 0.6 else "M"
            add(sex, rng.randint(62, 95), "户主", married_in=sex == "F")
        elif shape == "elderly_couple":
            age = rng.randint(62, 90)
            add("M", age, "户主")
            add("F", max(58, age - rng.randint(0, 5)), "配偶", surname=self.surname(), married_in=True)
        elif shape == "couple":
            age = rng.randint(24, 59)
            add("M", age, "户主")
            add("F", max(20, age - rng.randint(0, 4)), "配偶", surname=self.surname(), married_in=True)
        elif shape == "nuclear":
            age = rng.randint(27, 56)
            head = add("M", age, "户主")
            mother_age = max(22, age - rng.randint(0, 4))
            add("F", mother_age, "配偶", surname=self.surname(), married_in=True)
            children(mother_age, head, family_surname, rng.choice((1, 1, 2, 2, 2, 3)), "子", "女")
        elif shape == "three_generation":
            if rng.random() < 0.5:
                # a middle-aged head with his parents and children
                age = rng.randint(32, 58)
                head = add("M", age, "户主")
                mother_age = max(22, age - rng.randint(0, 4))
                add("F", mother_age, "配偶", surname=self.surname(), married_in=True)
                if age + 23 <= 92 and rng.random() < 0.7:
                    add("M", min(95, age + rng.randint(23, 34)), "父亲")
                if rng.random() < 0.8:
                    add("F", min(95, age + rng.randint(20, 32)), "母亲", surname=self.surname(), married_in=True)
                children(mother_age, head, family_surname, rng.choice((1, 1, 2, 2, 3)), "子", "女")
            else:
                # an elderly head with a married son and grandchildren
                age = rng.randint(58, 84)
                head = add("M", age, "户主")
                if rng.random() < 0.75:
                    add("F", max(55, age - rng.randint(0, 5)), "配偶", surname=self.surname(), married_in=True)
                son_age = age - rng.randint(23, 33)
                son = add("M", son_age, "子", father=head)
                wife_age = max(20, son_age - rng.randint(0, 4))
                add("F", wife_age, "儿媳", surname=self.surname(), married_in=True)
                children(wife_age, son, family_surname, rng.choice((1, 2, 2, 3)), "孙子", "孙女")
        elif shape == "single_adult":
            sex = "M" if rng.random() < 0.7 else "F"
            add(sex, rng.randint(20, 59), "户主")
        elif shape == "siblings":
            age = rng.randint(38, 72)
            add("M", age, "户主")
            for _ in range(rng.choice((1, 1, 2))):
                sex = "M" if rng.random() < 0.6 else "F"
                add(sex, max(30, age + rng.randint(-10, 10)), "兄弟" if sex == "M" else "姐妹")
            if age < 60 and rng.random() < 0.4:
                add("F", age + rng.randint(22, 30), "母亲", surname=self.surname(), married_in=True)
        else:  # other: an uxorilocal family, or a couple raising a niece or nephew
            if rng.random() < 0.5:
                age = rng.randint(55, 80)
                head = add("M", age, "户主")
                daughter_age = age - rng.randint(22, 32)
                add("F", daughter_age, "女", father=head)
                in_law_surname = self.surname()
                son_in_law = add("M", daughter_age + rng.randint(0, 4), "女婿", surname=in_law_surname, married_in=True)
                # uxorilocal grandchildren take either side's surname
                if rng.random() < 0.5:
                    children(daughter_age, son_in_law, in_law_surname, rng.choice((1, 2)), "孙子", "孙女")
                else:
                    children(daughter_age, head, family_surname, rng.choice((1, 2)), "孙子", "孙女")
            else:
                age = rng.randint(40, 70)
                add("M", age, "户主")
                add("F", max(25, age - rng.randint(0, 5)), "配偶", surname=self.surname(), married_in=True)
                add("M" if rng.random() < 0.5 else "F", max(3, age - rng.randint(20, 35)), "其他", surname=self.surname())
        return members


def _death_hazard(age: int) -> float:
    """Yearly probability of death at `age` (rough rural Hebei life table)."""
    if age < 40:
        return 0.001
    if age < 50:
        return 0.002
    if age < 60:
        return 0.005
    if age < 70:
        return 0.012
    if age < 80:
        return 0.035
    if age < 90:
        return 0.09
    return 0.2


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def add_natural_events(population: Population, cal: Calendar, seed: int) -> None:
    """Natural deaths and move-outs since 2021 (the register keeps those people)."""
    rng = random.Random(f"{seed}:events")
    end = cal.end_date
    years = (end - EVENTS_FROM).days / 365.25
    for household in population.households:
        moved = None
        if len(household.members) > 1 and rng.random() < 0.01:
            youngest = max(p.birth for p in household.members)
            moved = _random_date(rng, max(EVENTS_FROM, youngest + dt.timedelta(days=1)), end)
        for p in household.members:
            age = full_age(p.birth, end)
            start = max(EVENTS_FROM, p.birth + dt.timedelta(days=1))
            if start > end:
                continue
            if rng.random() < 1 - math.exp(-_death_hazard(age) * years):
                p.death = _random_date(rng, start, end)
            if moved is not None:
                p.move_out = moved
            elif rng.random() < (0.03 if 18 <= age <= 40 else 0.008):
                p.move_out = _random_date(rng, start, end)
            if p.death is not None and p.move_out is not None:
                # one event is enough for a natural life; the planted ones combine them
                if p.death <= p.move_out:
                    p.move_out = None
                else:
                    p.death = None
            # recent deaths are often not yet in the register
            if p.death is not None:
                recent = (end - p.death).days < 100
                p.register_late = rng.random() < (0.4 if recent else 0.03)


def build_population(seed: int | str, n_households: int, cal: Calendar, *, townships: tuple[county.Township, ...] | None = None,
                     taken: Container[str] = (), numbered: Mapping[str, int] | None = None) -> Population:
    """Households of realistic shapes spread over the county's villages, with natural events.

    A shard of a larger county (`generate.py`) passes its group's `townships`, the numbers earlier
    shards took (`taken`) and the last 户号 sequence each village reached in them (`numbered`, by the
    户号's first six digits), so its households and people continue the county's numbering.
    """
    rng = random.Random(f"{seed}:households")
    townships = townships if townships is not None else county.build_townships(seed)
    places: list[tuple[int, int]] = []
    weights: list[float] = []
    for t_index, township in enumerate(townships):
        for v_index, _ in enumerate(township.villages):
            places.append((t_index, v_index))
            weights.append((3.0 if township.urban else 1.0) * rng.uniform(0.6, 1.4))
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    shape_names = tuple(s for s, _ in SHAPES)
    shape_weights = tuple(w for _, w in SHAPES)

    builder = _Builder(rng, cal, IdIssuer(random.Random(f"{seed}:ids"), taken))
    drafts: list[tuple[int, int, int, str, list[Person]]] = []
    for order in range(n_households):
        t_index, v_index = rng.choices(places, cum_weights=cumulative)[0]
        township = townships[t_index]
        shape = rng.choices(shape_names, shape_weights)[0]
        clan = None if township.urban else county.village_surname(township.villages[v_index])
        minority = rng.random() < MINORITY_SHARE
        drafts.append((t_index, v_index, order, shape, builder.household(shape, clan, minority)))
    drafts.sort(key=lambda d: (d[0], d[1], d[2]))

    households: list[Household] = []
    persons: list[Person] = []
    sequence: dict[str, int] = dict(numbered or {})
    for t_index, v_index, _, shape, members in drafts:
        village = f"{townships[t_index].code}{v_index + 1:03d}"
        sequence[village] = sequence.get(village, 0) + 1
        number = f"{village}{sequence[village]:05d}"
        household = Household(index=len(households), household_no=number, township=t_index, village=v_index, shape=shape)
        for p in members:
            p.pid = len(persons)
            p.household = household.index
            p.township = t_index
            p.village = v_index
            persons.append(p)
        household.members = members
        households.append(household)
    population = Population(townships=townships, households=households, persons=persons, pairs=builder.pairs)
    add_natural_events(population, cal, seed)
    return population


def new_outsider(rng: random.Random, issuer: IdIssuer, pid: int, name: str, sex: str, birth: dt.date) -> Person:
    """A person registered in another county of the province (only ever in cremation records)."""
    code, county_name, townships, villages = rng.choice(county.NEIGHBOUR_COUNTIES)
    number = issuer.issue(code, birth, sex)
    address = county_name + rng.choice(townships) + rng.choice(villages)
    return Person(pid=pid, name=name, sex=sex, birth=birth, id_number=number, household=-1, relation="", township=-1, village=-1,
                  address=address, minority="·" in name)
