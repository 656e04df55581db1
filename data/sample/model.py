"""The generator's in-memory county: people, households, cases, month arithmetic.

Only data classes and calendar helpers live here. Who lives where is decided
in `households.py`, who receives what in `programmes.py`, the planted findings
in `plant.py`; nothing here writes files.

Months are integers (`year * 12 + month - 1`) so that "the month after death"
is `+ 1` and windows are ranges.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field


def month_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def parse_month(text: str) -> int:
    """'2026-10' or '202610' → month number."""
    digits = text.replace("-", "")
    return int(digits[:4]) * 12 + int(digits[4:6]) - 1


def month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def month_compact(month: int) -> str:
    return f"{month // 12:04d}{month % 12 + 1:02d}"


def month_year(month: int) -> int:
    return month // 12


def first_day(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def last_day(month: int) -> dt.date:
    year, mon = month // 12, month % 12 + 1
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def full_age(birth: dt.date, on: dt.date) -> int:
    """Completed years on `on`."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Calendar:
    """The drop's time frame: as_of and the 24-month window ending at it."""

    as_of: int
    window_months: int = 24

    @property
    def window_start(self) -> int:
        return self.as_of - self.window_months + 1

    @property
    def end_date(self) -> dt.date:
        return last_day(self.as_of)

    def window(self) -> range:
        return range(self.window_start, self.as_of + 1)


@dataclass(eq=False, slots=True)
class Person:
    """One true person, in the county register or (outsiders) only in cremation records."""

    pid: int
    name: str
    sex: str  # "M" / "F"
    birth: dt.date
    id_number: str  # the true 18-character number
    household: int  # index into the household list; -1 for outsiders
    relation: str  # relation to the register head, as exported (户主, 配偶 …)
    township: int  # index into the township list; -1 for outsiders
    village: int
    minority: bool = False
    death: dt.date | None = None
    move_out: dt.date | None = None
    # What the records show, decided by events and by planting:
    register_late: bool = False  # the register still says 正常 although the person died
    cremated: bool | None = None  # None: decided at random when cremation rows are made
    address: str = ""  # 户籍地址 for outsiders
    # Planting: the last month the person's payments run although the event came earlier.
    paid_through: int | None = None
    scenario: str = ""  # planted scenario, for the findings' note
    force_noise: dict[str, str] = field(default_factory=dict)  # source stem → noise label
    # What the rows show that is not the plain truth (identity scenarios):
    register_birth: dt.date | None = None  # the register's 出生日期 when it contradicts the number
    register_sex: str | None = None  # the register's 性别 when it contradicts the number
    roster_birth: dt.date | None = None  # benefit rosters' 出生日期 (a lunar birthday)
    written_id: str | None = None  # the number every roster writes when it is not the true one
    near: list[tuple[str, str]] = field(default_factory=list)  # (check, exemption) planted near misses
    on_roster: bool = False  # in a household some roster knows: its register row is never damaged

    @property
    def written_number(self) -> str:
        return self.written_id or self.id_number

    @property
    def event_month(self) -> int | None:
        """Month of the earlier of death and move-out (what stops payments normally)."""
        months = [month_of(d) for d in (self.death, self.move_out) if d is not None]
        return min(months) if months else None

    @property
    def shown_event_month(self) -> int | None:
        """The event month the rows can show: a death the register has not recorded needs a cremation row."""
        months = [month_of(self.move_out)] if self.move_out is not None else []
        if self.death is not None and (not self.register_late or self.cremated):
            months.append(month_of(self.death))
        return min(months) if months else None

    @property
    def pay_until(self) -> int | None:
        """Last month payments run for this person; None when they run on."""
        if self.paid_through is not None:
            return self.paid_through
        return self.event_month

    def runs_in(self, month: int) -> bool:
        """Whether payments for this person run in `month` (born, not stopped)."""
        until = self.pay_until
        return month_of(self.birth) <= month and (until is None or month <= until)


@dataclass(eq=False)
class Household:
    """A register 户号: the people registered together, head first."""

    index: int
    household_no: str
    township: int
    village: int
    shape: str
    members: list[Person] = field(default_factory=list)

    @property
    def head(self) -> Person:
        return self.members[0]


# What a roster row listed twice after a correction differs in: its copy's 姓名 (a same-sound
# character), amount, or start month (earlier, before the window).
CORRECTIONS = ("name", "amount", "start")


@dataclass(eq=False)
class DibaoCase:
    """One 低保 case: the household declared, who is covered, from when."""

    case_no: str
    household: Household
    inclusion: str  # 整户 / 单人
    start: int  # first covered month
    area_type: str  # 城市 / 农村
    members: list[Person]  # declared members, head first
    covered: list[Person]  # members the case pays for (before events)
    income_stop: int | None = None  # last month when stopped for a reason other than an event
    waivers: frozenset[int] = frozenset()  # pids with 特困放弃协议 是
    paid_after_stop: int = 0  # months the ledger goes on paying after the roster's 停保 month
    repeat_months: frozenset[int] = frozenset()  # months the ledger carries the line twice
    # members listed twice after a correction: pid → what the corrected copy fixed (CORRECTIONS)
    listed_twice: dict[int, str] = field(default_factory=dict)

    @property
    def head(self) -> Person:
        return self.members[0]

    def last_month(self, as_of: int) -> int:
        """The last month paid: the cap, or when the last covered member's payments stopped."""
        cap = min(self.income_stop if self.income_stop is not None else as_of, as_of)
        untils = [p.pay_until for p in self.covered]
        latest = cap if any(u is None for u in untils) else max(untils)
        return min(cap, latest)

    def paid_count(self, month: int) -> int:
        return sum(1 for p in self.covered if p.runs_in(month))


@dataclass(eq=False)
class TekunCase:
    case_no: str
    person: Person
    start: int
    mode: str  # 分散 / 集中
    repeat_months: frozenset[int] = frozenset()  # months the ledger carries the line twice
    listed_twice: str | None = None  # listed again after a correction: what the copy fixed (CORRECTIONS)

    def last_month(self, as_of: int) -> int:
        until = self.person.pay_until
        return as_of if until is None else min(until, as_of)


@dataclass(eq=False)
class Certificate:
    """A disability certificate (残疾人证)."""

    person: Person
    category: str  # 视力 … 多重
    grade: int  # 1..4
    issue: dt.date
    valid_until: dt.date
    status: str = "正常"  # decided once events are known
    status_fixed: bool = False  # planted status, left alone when statuses are decided
    care_paid: bool | None = None  # None: care subsidy paid when the grade qualifies; True: paid on any grade
    lines_from: int | None = None  # first month subsidy lines are paid on it (default: issue month)
    lines_until: int | None = None  # last month lines are paid on it (default: valid month)
    living_skip: frozenset[int] = frozenset()  # months the living subsidy was not paid
    care_skip: frozenset[int] = frozenset()  # months the care subsidy was not paid
    repeat_months: frozenset[int] = frozenset()  # months the care line is in the ledger twice

    @property
    def valid_month(self) -> int:
        return month_of(self.valid_until)

    @property
    def issue_month(self) -> int:
        return month_of(self.issue)


@dataclass(eq=False)
class PoorHousehold:
    """A household in the 建档立卡 / monitoring system."""

    number: str
    household: Household
    household_type: str  # 脱贫户 / 监测户 / 未脱贫户
    extra_members: int = 0  # relatives registered elsewhere, counted in 家庭人口数
    safety_net_shown: str | None = None  # 兜底保障 when the system disagrees with the rosters
