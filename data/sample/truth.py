"""Ground truth, computed from the rows as written: records, findings, persons, pairs.

The findings are not copied from what `plant.py` intended. They are worked
out again from the rows written (after noise), with the true person behind
each row, by the rules of POLICY.md: death month = the earlier of the
register's 死亡 date and a cremation record's 死亡日期; move-out month = the
register's 迁出 date; a line counts under the person's earlier event; for
低保金 the beneficiaries are the case's covered members (是), each owed
line amount / covered count. The event month itself is paid correctly.

Near misses are found by the same rules: people whose situation looks like a
finding but is exempt (`paid_through_death_month`, `not_covered_member_died`,
`paid_through_move_out_month`, `namesake_alive`, `outside_county_cremation`).

The other nine checks (person_not_household … identity_anomaly) are computed
the same way, by the check semantics `sql/checks/*.sql` implement (POLICY.md
with every open choice pinned down), in `_Facts`: coverage, certificate validity (a 注销 certificate
valid through the holder's death month or its replacement's issue month; the rows of one number and
grade are one certificate, valid in any month one of them is — a renewal listed twice), members and
supports listed twice after a correction counted once,
shares of 低保金 lines, living and present by month. Their near misses are the
people `scenarios.py` tagged (`Person.near`), listed only when the rows bear
the exemption out and the person is no finding of that check; naive rules
would raise far more people (every child on dibao, every old couple), so the
tags keep the list to the cases planted to test each exemption.

`needs_fuzzy_link` is true when an exact citizen-number linker cannot build
the whole finding: some row it rests on (the death or move-out evidence that
gives the event month — a usable register row is enough —, each overpaid
ledger line (its payee number; for 低保金 the head's), and for 低保金 the
member's dibao row) carries a number that is blank or does not normalize to
the true number. For the other checks the rows are those each finding
rests on (the covered member's dibao row, the tekun row, the certificate
row, the lines paid or counted); an unrepairable number (identity_anomaly
kind (a)) is its own key and needs no link. A number that is valid but
someone else's form (a mistyped 15-digit number, a wrong division code, two
slips passing the check) does not normalize to the true number either, so
its row counts as unusable like a blank one. And when the register row's own
number is wrong, no row of that person links to the register exactly: every
finding and near miss about them needs a fuzzy link.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from data.sample.households import Population
from data.sample.ids import is_valid, normalize
from data.sample.model import Calendar, Person, full_age, month_of, month_text, parse_month
from data.sample.rows import Row
from data.sample.scenarios import FINDINGS, NO_LABOUR_MAX_GRADE, TEKUN_MAX_MINOR_AGE, TEKUN_MIN_AGE, one_slip_variants

FINDING_COLUMNS = (
    "check_code", "kind", "true_id_number", "name", "case_no", "period_start", "period_end",
    "overpaid_amount", "backpay_amount", "needs_fuzzy_link", "note",
)
EXEMPTIONS = (
    "paid_through_death_month", "not_covered_member_died", "paid_through_move_out_month", "namesake_alive", "outside_county_cremation",
)
SCENARIO_NOTES = {
    "tekun_after_death": "tekun support paid after death",
    "care_after_death": "care subsidy paid after death",
    "dibao_single_after_death": "single-person dibao beneficiary died and the head kept receiving",
    "dibao_alone_after_death": "the only member of a dibao case died and the case kept paying",
    "dibao_partial_after_death": "covered member died but stayed marked covered (case not recalculated)",
    "tekun_after_move_out": "tekun support paid after moving out of the county",
    "care_after_move_out": "care subsidy paid after moving out of the county",
    "dibao_household_moved_out": "the whole dibao household moved out and the case kept paying",
    "dibao_member_moved_out": "covered member moved out but stayed marked covered",
    "moved_out_then_died": "moved out and later died (counted under the earlier move-out)",
}


def yuan(amount: Fraction) -> str:
    """Exact amount rounded half-up to the fen, as text."""
    value = Decimal(amount.numerator) / Decimal(amount.denominator)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _month(text: str | None) -> int | None:
    return parse_month(text.strip()) if text and text.strip() else None


def _is_usable(row: Row, column: str = "id_number", person: Person | None = None) -> bool:
    target = person or row.person
    return normalize(row.values.get(column)) == target.id_number


@dataclass
class _Event:
    kind: str  # death / move_out
    month: int
    usable: bool  # some row giving this month carries a number that normalizes
    evidence: str


@dataclass
class _Accrual:
    months: set[int] = field(default_factory=set)
    amount: Fraction = Fraction(0)
    cases: set[str] = field(default_factory=set)
    fuzzy: bool = False


@dataclass
class Truth:
    records: list[tuple[str, int, str, str, str]]
    findings: list[dict[str, str]]


def _events(rows: dict[str, list[Row]]) -> dict[int, _Event]:
    """Each person's earlier event, as the register and the cremation rows show it."""
    deaths: dict[int, list[tuple[int, bool, str]]] = defaultdict(list)
    moves: dict[int, tuple[int, bool]] = {}
    for row in rows["household_register"]:
        status = (row.values["person_status"] or "").strip()
        month = _month(row.values["change_date"])
        if status == "死亡":
            deaths[row.person.pid].append((month, _is_usable(row), "register"))
        elif status == "迁出":
            moves[row.person.pid] = (month, _is_usable(row))
    for row in rows["cremation"]:
        deaths[row.person.pid].append((_month(row.values["death_date"]), _is_usable(row), "cremation"))
    events: dict[int, _Event] = {}
    for pid, found in deaths.items():
        month = min(m for m, _, _ in found)
        sources = sorted({source for m, _, source in found if m == month})
        events[pid] = _Event("death", month, any(usable for m, usable, _ in found if m == month), "+".join(sources))
    for pid, (month, usable) in moves.items():
        death = events.get(pid)
        if death is None or month < death.month:
            events[pid] = _Event("move_out", month, usable, "register")
    return events


def compute_truth(rows: dict[str, list[Row]], population: Population, cal: Calendar) -> Truth:
    """Records, findings and near misses from the written rows."""
    records = [
        (stem, number, row.person.id_number, row.head.id_number if row.head is not None else "", ";".join(row.labels))
        for stem, stem_rows in rows.items()
        for number, row in enumerate(stem_rows, start=1)
    ]
    people = {p.pid: p for p in (*population.persons, *population.outsiders)}
    events = _events(rows)

    # covered members of each dibao case, as the roster says
    # a member listed twice (a corrected copy) is one member: usable when every row of theirs is
    covered_rows: dict[str, dict[int, tuple[Person, bool]]] = defaultdict(dict)
    not_covered: dict[str, list[Person]] = defaultdict(list)
    for row in rows["dibao"]:
        case_no = row.values["case_no"]
        if (row.values["is_covered"] or "").strip() == "是":
            known = covered_rows[case_no].get(row.person.pid)
            covered_rows[case_no][row.person.pid] = (row.person, _is_usable(row) and (known is None or known[1]))
        else:
            not_covered[case_no].append(row.person)
    covered = {case_no: list(members.values()) for case_no, members in covered_rows.items()}

    accruals: dict[tuple[str, int], _Accrual] = {}
    paid: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))  # pid → month → cases
    paid_usable: dict[tuple[int, int], bool] = {}
    case_months: dict[str, set[int]] = defaultdict(set)
    for row in rows["payments"]:
        month = _month(row.values["paid_month"])
        programme = row.values["programme"].strip()
        case_no = row.values["case_no"]
        amount = Fraction(Decimal(row.values["amount"]))
        line_usable = _is_usable(row)
        case_months[case_no].add(month)
        if programme == "低保金":
            members = covered.get(case_no, [])
            beneficiaries = [(p, amount / len(members), line_usable and usable) for p, usable in members]
        else:
            beneficiaries = [(row.person, amount, line_usable)]
        for p, share, usable in beneficiaries:
            paid[p.pid][month].add(case_no)
            paid_usable[(p.pid, month)] = paid_usable.get((p.pid, month), True) and usable
            event = events.get(p.pid)
            if event is None or month <= event.month:
                continue
            check = "deceased_paid" if event.kind == "death" else "moved_out_paid"
            accrual = accruals.setdefault((check, p.pid), _Accrual())
            accrual.months.add(month)
            accrual.amount += share
            accrual.cases.add(case_no)
            accrual.fuzzy |= not usable

    findings = []
    for (check, pid), accrual in sorted(accruals.items(), key=lambda item: (item[0][0], people[item[0][1]].id_number)):
        p = people[pid]
        event = events[pid]
        note = _note(check, p)
        note += f"; {event.kind.replace('_', '-')} shown by {event.evidence}"
        if event.evidence == "cremation":
            note += " only (register not updated)"
        if not event.usable:
            note += "; that row's number is blank or mistyped"
        if accrual.fuzzy:
            note += "; a ledger or dibao row carries a mistyped number"
        findings.append({
            "check_code": check, "kind": "planted", "true_id_number": p.id_number, "name": p.name,
            "case_no": "、".join(sorted(accrual.cases)), "period_start": month_text(min(accrual.months)),
            "period_end": month_text(max(accrual.months)), "overpaid_amount": yuan(accrual.amount), "backpay_amount": "0.00",
            "needs_fuzzy_link": "true" if accrual.fuzzy or not event.usable else "false", "note": note,
        })
    near = _near_misses(rows, population, cal, events, paid, paid_usable, not_covered, case_months, accruals)
    facts = _Facts(rows, population, cal, events)
    more, more_near = facts.findings()
    findings += more
    findings.sort(key=lambda f: (f["check_code"], f["true_id_number"]))
    near += more_near
    near.sort(key=lambda f: (f["check_code"], f["note"], f["true_id_number"]))
    misregistered = {row.person.id_number for row in rows["household_register"] if not _is_usable(row)}
    for finding in findings + near:
        if finding["true_id_number"] in misregistered:
            finding["needs_fuzzy_link"] = "true"
    return Truth(records, findings + near)


def _near_misses(rows, population, cal, events, paid, paid_usable, not_covered, case_months, accruals) -> list[dict[str, str]]:
    """People a careless check would flag, each with the exemption that clears them."""
    found: dict[tuple[str, int], tuple[Person, set[str], bool]] = {}
    people = {p.pid: p for p in (*population.persons, *population.outsiders)}

    def add(exemption: str, p: Person, cases: set[str], usable: bool) -> None:
        key = (exemption, p.pid)
        if key not in found:
            found[key] = (p, set(cases), usable)

    def cases_after(pid: int, month: int) -> tuple[set[str], bool]:
        cases: set[str] = set()
        usable = True
        for m, in_month in paid.get(pid, {}).items():
            if m > month:
                cases |= in_month
                usable = usable and paid_usable[(pid, m)]
        return cases, usable

    # payments stop exactly in the event month
    for pid, event in events.items():
        months = paid.get(pid)
        if not months or event.month >= cal.as_of or event.month not in months or max(months) > event.month:
            continue
        exemption = "paid_through_death_month" if event.kind == "death" else "paid_through_move_out_month"
        add(exemption, people[pid], months[event.month], event.usable and paid_usable[(pid, event.month)])
    # a non-covered member died while the case is paid
    for case_no, members in not_covered.items():
        for p in members:
            event = events.get(p.pid)
            if event is None or event.kind != "death" or ("deceased_paid", p.pid) in accruals:
                continue
            if any(m > event.month for m in case_months.get(case_no, ())):
                add("not_covered_member_died", p, {case_no}, event.usable)
    # the living namesake of a dead person is still paid
    by_name_place: dict[tuple[str, int], list[Person]] = defaultdict(list)
    by_name: dict[str, list[Person]] = defaultdict(list)
    for p in population.persons:
        if p.pid in paid and p.pid not in events:
            by_name_place[(p.name, p.township)].append(p)
            by_name[p.name].append(p)
    for pid, event in events.items():
        dead = people[pid]
        if event.kind != "death" or dead.township < 0:
            continue
        for q in by_name_place.get((dead.name, dead.township), ()):
            cases, usable = cases_after(q.pid, event.month)
            if q.pid != pid and cases:
                add("namesake_alive", q, cases, usable)
    # a body registered in another county carries a county recipient's name
    for row in rows["cremation"]:
        outsider = row.person
        if outsider.township >= 0:
            continue
        month = _month(row.values["death_date"])
        for q in by_name.get(outsider.name, ()):
            cases, usable = cases_after(q.pid, month)
            if cases:
                add("outside_county_cremation", q, cases, usable)

    check_of = {
        "paid_through_death_month": "deceased_paid", "not_covered_member_died": "deceased_paid", "namesake_alive": "deceased_paid",
        "outside_county_cremation": "deceased_paid", "paid_through_move_out_month": "moved_out_paid",
    }
    result = []
    for (exemption, _), (p, cases, usable) in sorted(found.items(), key=lambda item: (check_of[item[0][0]], item[0][0], item[1][0].id_number)):
        result.append({
            "check_code": check_of[exemption], "kind": "near_miss", "true_id_number": p.id_number, "name": p.name,
            "case_no": "、".join(sorted(cases)), "period_start": "", "period_end": "", "overpaid_amount": "0.00",
            "backpay_amount": "0.00", "needs_fuzzy_link": "false" if usable else "true", "note": exemption,
        })
    return result


# -- the other checks -------------------------------------------------------------------
# Each is the rule of the spec applied to the written rows, the true person of
# each row known. A scenario's note says what was planted; a finding no
# scenario of its check explains is "unplanned".

CHECK_OF_SCENARIO = {
    **{scenario: "deceased_paid" for scenario in (
        "tekun_after_death", "care_after_death", "dibao_single_after_death", "dibao_alone_after_death", "dibao_partial_after_death")},
    **{scenario: "moved_out_paid" for scenario in (
        "tekun_after_move_out", "care_after_move_out", "dibao_household_moved_out", "dibao_member_moved_out", "moved_out_then_died")},
    **{scenario: check for check, scenario, _ in FINDINGS},
}
SCENARIO_NOTES.update({
    "member_not_covered": "a living adult of the household declared 否 on a 整户 case",
    "member_not_declared": "a living adult of the household left off a 整户 case's roster",
    "lone_elderly_no_waiver": "60+, alone in the register household, on dibao, no waiver",
    "co_resident_gone": "60+ on dibao, alone since the only co-resident died or moved out",
    "disabled_adult_alone": "alone on dibao with a disability that leaves no labour capacity, no waiver",
    "transfer_gap": "off dibao, onto tekun months later, nothing paid between",
    "transfer_gap_window_edge": "transfer gap that starts before the window: only the window's months count",
    "transfer_gap_partly_paid": "transfer gap whose first month the dibao ledger still paid",
    "living_subsidy_months_missed": "covered dibao member with a certificate, living subsidy not paid for some months",
    "living_subsidy_never_paid": "covered dibao member with a certificate, living subsidy never paid in the window",
    "care_subsidy_months_missed": "grade 1-2 certificate, care subsidy not paid for some months",
    "dibao_and_tekun": "on tekun while a dibao case still covers them",
    "two_dibao_cases": "covered by the household's case and by a later case of their own",
    "repeated_line": "a ledger line entered twice in one month",
    "safety_net_wrong": "registered-poor 兜底保障 contradicts the rosters at as_of",
    "paid_after_expiry": "subsidy lines after the certificate's 有效期至",
    "care_on_grade_3": "care subsidy paid on a grade-3 certificate",
    "reassessed_old_certificate_paid": "re-assessed: care still paid on the replaced (注销) certificate",
    "paid_in_renewal_lapse": "renewed under the same number after a lapse: subsidy paid in the months neither row was valid",
    "unrepairable_number": "on tekun, in no register, with a number two characters wrong",
    "register_birth_contradicts_number": "register 出生日期 contradicts the number's birth date",
    "register_sex_contradicts_number": "register 性别 contradicts the number's sex digit",
    "older_than_110": "recipient older than 110",
})
DIBAO, TEKUN, LIVING, CARE = "低保金", "特困供养金", "困难残疾人生活补贴", "重度残疾人护理补贴"
GRADES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
POLICY_START = parse_month("2016-01")
LIVING_GRADES, LIVING_AMOUNT = (1, 2, 3, 4), Fraction(80)
CARE_AMOUNT = {1: Fraction(100), 2: Fraction(80)}
MAX_AGE = 110
MONEY_CHECKS = {"transfer_gap", "missed_living_subsidy", "missed_care_subsidy", "duplicate_benefit", "invalid_certificate_paid"}
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def _note(check: str, p: Person) -> str:
    if p.scenario and CHECK_OF_SCENARIO.get(p.scenario) == check:
        return SCENARIO_NOTES[p.scenario]
    return f"unplanned ({p.scenario})" if p.scenario else "unplanned"


def _text(row: Row, column: str) -> str:
    return (row.values.get(column) or "").strip()


def _date(text: str | None) -> dt.date | None:
    digits = (text or "").strip().replace("-", "")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if len(digits) == 8 else None
    except ValueError:
        return None


def clean_number(text: str | None) -> str:
    """A number as written, cleaned: trimmed, full-width to ASCII, lower-case x to X."""
    return (text or "").strip().translate(_FULL_WIDTH).upper()


def _embedded_birth(number: str) -> dt.date | None:
    if len(number) == 18:
        return _date(number[6:14])
    if len(number) == 15:
        return _date("19" + number[6:12])
    return None


def _valid_15(number: str) -> bool:
    return len(number) == 15 and number.isdigit() and _embedded_birth(number) is not None


@dataclass
class _Case:
    case_no: str
    inclusion: str
    start: int
    stopped: bool
    stop: int | None
    head: Person
    rows: list[Row] = field(default_factory=list)
    covered: dict[int, Row] = field(default_factory=dict)  # pid → its 是 row

    def last(self, as_of: int) -> int:
        return self.stop if self.stopped and self.stop is not None else as_of

    def covers(self, month: int, as_of: int) -> bool:
        return self.start <= month <= self.last(as_of)

    def active(self, as_of: int) -> bool:
        return self.last(as_of) >= as_of


@dataclass
class _Tekun:
    case_no: str
    start: int
    stop: int | None
    amount: Fraction
    row: Row
    rows: list[Row] = field(default_factory=list)

    def covers(self, month: int, as_of: int) -> bool:
        return self.start <= month <= (as_of if self.stop is None else self.stop)

    def merge(self, other: "_Tekun") -> None:
        """Another row of the same support: the months of both; amount and row of the one reaching latest, then
        starting latest, then with the larger amount (int.tekun_member)."""
        def rank(t: "_Tekun") -> tuple:
            return (t.stop is None, t.stop or 0, t.start, t.amount)
        if rank(other) > rank(self):
            self.amount, self.row = other.amount, other.row
        self.stop = None if self.stop is None or other.stop is None else max(self.stop, other.stop)
        self.start = min(self.start, other.start)
        self.rows += other.rows


@dataclass
class _Cert:
    number: str
    category: str
    grade: int
    issue: dt.date
    valid_until: dt.date
    status: str
    row: Row
    through: int | None = None  # last valid month; None: cancelled, month unknown

    @property
    def issue_month(self) -> int:
        return month_of(self.issue)

    def valid(self, month: int) -> bool:
        return self.through is not None and self.issue_month <= month <= self.through


@dataclass
class _Line:
    number: int  # ledger row number
    month: int
    programme: str
    case_no: str
    amount: Fraction
    row: Row


@dataclass
class _Found:
    months: set[int] = field(default_factory=set)
    overpaid: Fraction = Fraction(0)
    backpay: Fraction = Fraction(0)
    cases: set[str] = field(default_factory=set)
    fuzzy: bool = False
    detail: str = ""


class _Facts:
    """What the rows say, per true person, and the checks applied to it."""

    def __init__(self, rows: dict[str, list[Row]], population: Population, cal: Calendar, events: dict[int, _Event]) -> None:
        self.cal = cal
        self.as_of = cal.as_of
        self.window = range(max(cal.window_start, POLICY_START), cal.as_of + 1)
        self.people = {p.pid: p for p in (*population.persons, *population.outsiders)}
        self.events = events
        # register
        self.register: dict[int, Row] = {}
        self.members: dict[str, list[int]] = defaultdict(list)
        for row in rows["household_register"]:
            if "date_untypeable" in row.labels:
                continue  # quarantined by the loader: out of every check
            self.register[row.person.pid] = row
            self.members[_text(row, "household_no")].append(row.person.pid)
        self.death_month: dict[int, int] = {}
        for row in rows["household_register"]:
            if _text(row, "person_status") == "死亡":
                self._died(row.person.pid, _month(row.values["change_date"]))
        for row in rows["cremation"]:
            self._died(row.person.pid, _month(row.values["death_date"]))
        # dibao
        self.cases: dict[str, _Case] = {}
        for row in rows["dibao"]:
            case_no = _text(row, "case_no")
            case = self.cases.get(case_no)
            if case is None:
                stopped = _text(row, "case_status") == "停保"
                case = self.cases[case_no] = _Case(case_no, _text(row, "inclusion"), _month(row.values["start_month"]), stopped,
                                                   _month(row.values["stop_month"]), row.head)
            else:  # another row of the case: its months count too (a corrected copy may start earlier)
                case.start = min(case.start, _month(row.values["start_month"]))
                if _text(row, "case_status") != "停保":
                    case.stopped, case.stop = False, None
                elif case.stopped:
                    case.stop = max(case.stop, _month(row.values["stop_month"]))
            case.rows.append(row)
            if _text(row, "is_covered") == "是":
                case.covered.setdefault(row.person.pid, row)
        self.covering: dict[int, list[_Case]] = defaultdict(list)  # pid → cases with a 是 row
        for case in self.cases.values():
            for pid in case.covered:
                self.covering[pid].append(case)
        # tekun
        self.tekun: dict[int, list[_Tekun]] = defaultdict(list)
        for row in rows["tekun"]:
            stop = _month(row.values["stop_month"]) if _text(row, "case_status") == "终止" else None
            t = _Tekun(_text(row, "case_no"), _month(row.values["start_month"]), stop, Fraction(Decimal(_text(row, "monthly_amount"))),
                       row, [row])
            same = [other for other in self.tekun[row.person.pid] if other.case_no == t.case_no]
            if same:
                same[0].merge(t)  # listed twice after a correction: one period
            else:
                self.tekun[row.person.pid].append(t)
        # certificates, with the month each stops being valid
        self.certs: dict[int, list[_Cert]] = defaultdict(list)
        self.certs_by_number: dict[str, list[_Cert]] = defaultdict(list)  # a renewal: two rows of one number
        for row in rows["disability"]:
            cert = _Cert(_text(row, "case_no"), _text(row, "disability_category"), GRADES[_text(row, "disability_grade")],
                         _date(row.values["issue_date"]), _date(row.values["valid_until"]), _text(row, "certificate_status"), row)
            self.certs[row.person.pid].append(cert)
            self.certs_by_number[cert.number].append(cert)
        for pid, certs in self.certs.items():
            for cert in certs:
                if cert.status != "注销":
                    cert.through = month_of(cert.valid_until)
                    continue
                ends = [month_of(c.issue) for c in certs if c.issue > cert.issue]
                if pid in self.death_month:
                    ends.append(self.death_month[pid])
                cert.through = min(min(ends), month_of(cert.valid_until)) if ends else None
        # ledger
        self.lines: list[_Line] = []
        self.by_payee: dict[tuple[int, int, str], list[_Line]] = defaultdict(list)  # (pid, month, programme)
        self.lines_of: dict[int, list[_Line]] = defaultdict(list)  # payee pid → lines
        self.dibao_lines: dict[tuple[str, int], list[_Line]] = defaultdict(list)  # (case, month)
        months: dict[str, int] = {}
        amounts: dict[str, Fraction] = {}
        for number, row in enumerate(rows["payments"], start=1):
            text = row.values["paid_month"]
            month = months.get(text)
            if month is None:
                month = months[text] = _month(text)
            if not cal.window_start <= month <= cal.as_of:
                continue
            text = row.values["amount"]
            amount = amounts.get(text)
            if amount is None:
                amount = amounts[text] = Fraction(Decimal(text.strip()))
            line = _Line(number, month, row.values["programme"].strip(), row.values["case_no"].strip(), amount, row)
            self.lines.append(line)
            self.by_payee[(row.person.pid, month, line.programme)].append(line)
            self.lines_of[row.person.pid].append(line)
            if line.programme == DIBAO:
                self.dibao_lines[(line.case_no, month)].append(line)
        self.tekun_active = {pid for pid, cases in self.tekun.items() if any(t.covers(self.as_of, self.as_of) for t in cases)}
        self.dibao_active = {pid for pid, cases in self.covering.items() if any(c.active(self.as_of) for c in cases)}
        self.found: dict[tuple[str, int | str], tuple[Person, _Found]] = {}
        self.rows_poor = rows["registered_poor"]
        self.register_numbers = {self.people[pid].id_number for pid in self.register}
        self.cases_of_household: dict[str, list[_Case]] = defaultdict(list)  # 户号 of the case head → cases
        self.declared: dict[int, list[_Case]] = defaultdict(list)  # pid → cases with a row of theirs
        for case in self.cases.values():
            if case.head.pid in self.register:
                self.cases_of_household[_text(self.register[case.head.pid], "household_no")].append(case)
            for row in case.rows:
                self.declared[row.person.pid].append(case)
        self.poor_headed_by: dict[int, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
        for row in self.rows_poor:
            self.poor_headed_by[row.head.pid][_text(row, "poor_household_no")].append(row)
        near = {p.pid for p in self.people.values() if p.near}
        self.rows_of: dict[int, list[Row]] = defaultdict(list)  # every non-register row of a near miss
        for stem in ("dibao", "tekun", "registered_poor", "disability", "payments"):
            for row in rows[stem]:
                if row.person.pid in near:
                    self.rows_of[row.person.pid].append(row)

    def _died(self, pid: int, month: int | None) -> None:
        if month is not None:
            self.death_month[pid] = min(month, self.death_month.get(pid, month))

    # -- shared facts --------------------------------------------------------------------
    def living(self, pid: int, month: int) -> bool:
        event = self.events.get(pid)
        return event is None or month <= event.month

    def present_at_as_of(self, pid: int) -> bool:
        return pid not in self.events

    def usable(self, row: Row, column: str = "id_number", person: Person | None = None) -> bool:
        return _is_usable(row, column, person)

    def head_usable(self, case: _Case) -> bool:
        return any(normalize(row.values.get("head_id_number")) == case.head.id_number for row in case.rows)

    def birth(self, pid: int) -> dt.date | None:
        row = self.register.get(pid)
        return _date(row.values["birth_date"]) if row is not None else None

    def age(self, pid: int) -> int | None:
        birth = self.birth(pid)
        return full_age(birth, self.cal.end_date) if birth is not None else None

    def alone(self, pid: int) -> bool:
        household = _text(self.register[pid], "household_no")
        return all(q == pid or not self.present_at_as_of(q) for q in self.members[household])

    def on_tekun(self, pid: int, month: int) -> bool:
        return any(t.covers(month, self.as_of) for t in self.tekun.get(pid, ()))

    def dibao_covered(self, pid: int, month: int) -> list[_Case]:
        return [c for c in self.covering.get(pid, ()) if c.covers(month, self.as_of)]

    def share(self, line: _Line, pid: int) -> Fraction:
        if line.programme != DIBAO:
            return line.amount
        return line.amount / len(self.cases[line.case_no].covered)

    def line_usable(self, line: _Line, pid: int) -> bool:
        if line.programme != DIBAO:
            return self.usable(line.row)
        return self.usable(line.row) and self.usable(self.cases[line.case_no].covered[pid])

    def unable_to_work(self, pid: int) -> bool:
        age = self.age(pid)
        if age is not None and (age >= TEKUN_MIN_AGE or age < TEKUN_MAX_MINOR_AGE):
            return True
        return any(c.valid(self.as_of) and c.grade <= NO_LABOUR_MAX_GRADE.get(c.category, 0) for c in self.certs.get(pid, ()))

    def add(self, check: str, p: Person, key: int | str | None = None) -> _Found:
        entry = self.found.get((check, key if key is not None else p.pid))
        if entry is None:
            entry = self.found[(check, key if key is not None else p.pid)] = (p, _Found())
        return entry[1]

    # -- the checks ------------------------------------------------------------------------
    def person_not_household(self) -> None:
        for case in self.cases.values():
            if case.inclusion != "整户" or not case.active(self.as_of) or case.head.pid not in self.register:
                continue
            for pid in self.members[_text(self.register[case.head.pid], "household_no")]:
                if self.uncovered_exemption(case, pid) is None:
                    found = self.add("person_not_household", self.people[pid])
                    found.cases.add(case.case_no)
                    found.fuzzy |= not self.head_usable(case)

    def uncovered_exemption(self, case: _Case, pid: int) -> str | None:
        """Why a register member of an active 整户 case's household is no finding; None when they are one."""
        if pid in case.covered:
            return "covered"
        if not self.present_at_as_of(pid):
            return "uncovered_member_gone"
        if any(c is not case and c.active(self.as_of) for c in self.covering.get(pid, ())):
            return "covered_by_other_case"
        if pid in self.tekun_active:
            return "on_tekun"
        return None

    def should_be_tekun(self) -> None:
        for case in self.cases.values():
            if not case.active(self.as_of):
                continue
            for pid, row in case.covered.items():
                if self.tekun_exemption(pid, row) is None:
                    found = self.add("should_be_tekun", self.people[pid])
                    found.cases.add(case.case_no)
                    found.fuzzy |= not self.usable(row)

    def tekun_exemption(self, pid: int, row: Row) -> str | None:
        """Why a 是 member of an active case is no should_be_tekun finding; None when they are one."""
        if not self.present_at_as_of(pid) or pid not in self.register:
            return "gone_or_unregistered"
        if not self.unable_to_work(pid):
            return "able_to_work"
        if not self.alone(pid):
            return "other_member_present"
        if pid in self.tekun_active:
            return "on_tekun"
        if _text(row, "has_tekun_waiver") == "是":
            return "waiver"
        return None

    def transfer_gap(self) -> None:
        for pid, tekuns in self.tekun.items():
            for t in tekuns:
                gap, case = self.gap_months(pid, t)
                if case is None or not gap:
                    continue
                found = self.add("transfer_gap", self.people[pid])
                found.months |= set(gap)
                found.backpay += len(gap) * t.amount
                found.cases.add(t.case_no)
                found.fuzzy |= not (self.usable(t.row) and self.usable(case.covered[pid]))

    def gap_months(self, pid: int, t: _Tekun) -> tuple[list[int], _Case | None]:
        before = [c for c in self.covering.get(pid, ()) if c.stopped and c.stop is not None and c.stop < t.start]
        if not before:
            return [], None
        case = max(before, key=lambda c: (c.stop, c.case_no))
        gap = [
            m for m in range(case.stop + 1, t.start)
            if self.cal.window_start <= m <= self.as_of and self.living(pid, m)
            and not self.dibao_lines.get((case.case_no, m)) and not self.by_payee.get((pid, m, TEKUN))
        ]
        return gap, case

    def missed_living_subsidy(self) -> None:
        for pid, certs in self.certs.items():
            missed = [m for m in self.window if self.living_missed(pid, certs, m)]
            if missed:
                found = self.add("missed_living_subsidy", self.people[pid])
                found.months |= set(missed)
                found.backpay += len(missed) * LIVING_AMOUNT
                valid = [c for c in certs if c.grade in LIVING_GRADES and any(c.valid(m) for m in missed)]
                found.cases.add(max(valid, key=lambda c: (c.issue, c.number)).number)
                rows = [c.row for c in valid] + [c.covered[pid] for c in self.covering[pid]]
                rows += [line.row for line in self.lines_of[pid] if line.programme == LIVING]
                found.fuzzy |= not all(self.usable(row) for row in rows)

    def living_missed(self, pid: int, certs: list[_Cert], month: int) -> bool:
        return (
            any(c.grade in LIVING_GRADES and c.valid(month) for c in certs)
            and self.living(pid, month) and bool(self.dibao_covered(pid, month)) and not self.on_tekun(pid, month)
            and not self.by_payee.get((pid, month, LIVING))
        )

    def missed_care_subsidy(self) -> None:
        for pid, certs in self.certs.items():
            missed = {}
            for m in self.window:
                grades = [c.grade for c in certs if c.grade in CARE_AMOUNT and c.valid(m)]
                if grades and self.living(pid, m) and not self.by_payee.get((pid, m, CARE)):
                    missed[m] = CARE_AMOUNT[min(grades)]
            if missed:
                found = self.add("missed_care_subsidy", self.people[pid])
                found.months |= set(missed)
                found.backpay += sum(missed.values())
                valid = [c for c in certs if c.grade in CARE_AMOUNT and any(c.valid(m) for m in missed)]
                found.cases.add(max(valid, key=lambda c: (c.issue, c.number)).number)
                rows = [c.row for c in valid]
                rows += [line.row for line in self.lines_of[pid] if line.programme == CARE]
                found.fuzzy |= not all(self.usable(row) for row in rows)

    def duplicate_benefit(self) -> None:
        candidates: set[tuple[int, int]] = set()  # (pid, month) where one of the three kinds can hold
        for pid, cases in self.covering.items():
            if len(cases) >= 2 or pid in self.tekun:
                candidates.update((pid, m) for m in self.window)
        for (pid, month, programme), lines in self.by_payee.items():
            if len(lines) >= 2 and programme != DIBAO:
                candidates.add((pid, month))
        for (case_no, month), lines in self.dibao_lines.items():
            if len(lines) >= 2 and case_no in self.cases:
                candidates.update((pid, month) for pid in self.cases[case_no].covered)
        for pid, m in sorted(candidates):
            if self.living(pid, m):
                self.duplicate_month(pid, m)

    def duplicate_month(self, pid: int, m: int) -> None:
        covering = sorted(self.dibao_covered(pid, m), key=lambda c: (c.start, c.case_no))
        tekuns = [t for t in self.tekun.get(pid, ()) if t.covers(m, self.as_of)]
        overpaid: dict[int, _Line] = {}
        cases: set[str] = set()
        rows: list[Row] = []
        if len(covering) >= 2:  # two dibao cases: the later-started one's lines
            cases.update(c.case_no for c in covering)
            for case in covering[1:]:
                overpaid.update((line.number, line) for line in self.dibao_lines.get((case.case_no, m), ()))
            rows += [c.covered[pid] for c in covering]
        if covering and tekuns:  # dibao and tekun: the dibao lines
            cases.update(c.case_no for c in covering)
            cases.update(t.case_no for t in tekuns)
            for case in covering:
                overpaid.update((line.number, line) for line in self.dibao_lines.get((case.case_no, m), ()))
            rows += [c.covered[pid] for c in covering] + [t.row for t in tekuns]
        repeated = [self.dibao_lines.get((c.case_no, m), []) for c in self.covering.get(pid, ())]
        repeated += [self.by_payee.get((pid, m, programme), []) for programme in (TEKUN, LIVING, CARE)]
        for lines in repeated:
            if len(lines) >= 2:  # a line repeated: every one beyond the first
                ordered = sorted(lines, key=lambda line: line.number)
                cases.add(ordered[0].case_no)
                overpaid.update((line.number, line) for line in ordered[1:])
                rows += [line.row for line in ordered]
        if not cases:
            return
        found = self.add("duplicate_benefit", self.people[pid])
        found.months.add(m)
        found.cases |= cases
        found.overpaid += sum((self.share(line, pid) for line in overpaid.values()), Fraction(0))
        found.fuzzy |= not all(self.usable(row) for row in rows)
        found.fuzzy |= not all(self.line_usable(line, pid) for line in overpaid.values())

    def status_mismatch(self, rows: list[Row]) -> None:
        households: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            households[_text(row, "poor_household_no")].append(row)
        for number, members in households.items():
            expected, deciding = self.expected_safety_net(members)
            if _text(members[0], "safety_net") == expected:
                continue
            head = members[0].head
            found = self.add("status_mismatch", head)
            found.cases.add(number)
            found.fuzzy |= not any(normalize(row.values.get("head_id_number")) == head.id_number for row in members)
            found.fuzzy |= not all(self.usable(row) for row in deciding)

    def expected_safety_net(self, members: list[Row]) -> tuple[str, list[Row]]:
        on_tekun = [row for row in members if row.person.pid in self.tekun_active]
        if on_tekun:
            return "特困", on_tekun
        on_dibao = [row for row in members if row.person.pid in self.dibao_active]
        return ("低保", on_dibao) if on_dibao else ("无", [])

    def certificate_of_line(self, line: _Line) -> tuple[list[_Cert], bool] | None:
        """The certificate a subsidy line is on (its rows) and whether it is valid that month; None when unknown.

        The rows of one number, holder, category and grade are one certificate (a renewal lists two),
        valid in the months any row is; its validity is known when every row's is. Where one number
        names two certificates: the one valid that month, then the most severe grade, then the latest issued.
        """
        groups: dict[tuple[int, str, int], list[_Cert]] = defaultdict(list)
        for cert in self.certs_by_number.get(line.case_no, ()):
            groups[(cert.row.person.pid, cert.category, cert.grade)].append(cert)
        options = []
        for (_, category, grade), certs in groups.items():
            if any(c.through is None for c in certs):
                continue
            valid = any(c.valid(line.month) for c in certs)
            options.append(((not valid, grade, -max(c.issue for c in certs).toordinal(), category), certs, valid))
        if not options:
            return None
        _, certs, valid = min(options, key=lambda option: option[0])
        return certs, valid

    def invalid_certificate_paid(self) -> None:
        for line in self.lines:
            if line.programme not in (LIVING, CARE) or line.case_no not in self.certs_by_number:
                continue
            pid = line.row.person.pid
            if not self.living(pid, line.month):
                continue  # later months belong to deceased_paid / moved_out_paid
            on = self.certificate_of_line(line)
            if on is None:
                continue  # a cancellation month nobody knows: nothing provable
            certs, valid = on
            wrong_grade = line.programme == CARE and certs[0].grade not in CARE_AMOUNT
            if wrong_grade or not valid:
                found = self.add("invalid_certificate_paid", line.row.person)
                found.months.add(line.month)
                found.overpaid += line.amount
                found.cases.add(certs[0].number)
                found.fuzzy |= not (self.usable(line.row) and all(self.usable(c.row) for c in certs))

    def recipients(self) -> dict[int, list[Row]]:
        """Ledger payees in the window, 是 members of active dibao cases, people on active tekun: their rows."""
        found: dict[int, list[Row]] = defaultdict(list)
        for line in self.lines:
            found[line.row.person.pid].append(line.row)
        for case in self.cases.values():
            if case.active(self.as_of):
                for pid, row in case.covered.items():
                    found[pid].append(row)
        for pid, tekuns in self.tekun.items():
            found[pid] += [row for t in tekuns if t.covers(self.as_of, self.as_of) for row in t.rows]
        return found

    def identity_anomaly(self, register_numbers: set[str]) -> None:
        for pid, rows in self._recipients.items():
            p = self.people[pid]
            roster_cases = sorted({_text(row, "case_no") for row in rows if "head_id_number" in row.values or "support_mode" in row.values})
            if pid not in self.register:
                for row in rows:
                    number = clean_number(row.values.get("id_number"))
                    if number and (is_valid(number) or _valid_15(number)):
                        # (c) unregistered: the number's own birth date
                        number = normalize(number)
                        birth = _embedded_birth(number)
                        if number in register_numbers or birth is None or full_age(birth, self.cal.end_date) <= MAX_AGE:
                            continue
                    elif not number or one_slip_variants(number) & register_numbers:
                        continue
                    found = self.add("identity_anomaly", p, key=number)  # (a): the number as written, cleaned
                    found.cases.update(roster_cases)
                    found.detail = number
                continue
            kind = self.register_anomaly(pid)
            if kind:
                found = self.add("identity_anomaly", p)
                found.cases.update(roster_cases)
                found.fuzzy |= not any(self.usable(row) for row in rows)

    def register_anomaly(self, pid: int) -> str | None:
        row = self.register[pid]
        number = self.people[pid].id_number
        birth = self.birth(pid)
        if birth != _embedded_birth(number):
            return "birth"
        if ("男" if int(number[16]) % 2 else "女") != _text(row, "sex"):
            return "sex"
        if full_age(birth, self.cal.end_date) > MAX_AGE:
            return "age"
        return None

    # -- all of them ------------------------------------------------------------------------
    def findings(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        self.person_not_household()
        self.should_be_tekun()
        self.transfer_gap()
        self.missed_living_subsidy()
        self.missed_care_subsidy()
        self.duplicate_benefit()
        self.status_mismatch(self.rows_poor)
        self.invalid_certificate_paid()
        self._recipients = self.recipients()
        self.identity_anomaly(self.register_numbers)
        findings = []
        for (check, key), (p, found) in self.found.items():
            money = check in MONEY_CHECKS
            months = sorted(found.months) if money else [self.as_of]
            findings.append({
                "check_code": check, "kind": "planted", "true_id_number": found.detail or p.id_number, "name": p.name,
                "case_no": "、".join(sorted(found.cases)), "period_start": month_text(months[0]), "period_end": month_text(months[-1]),
                "overpaid_amount": yuan(found.overpaid), "backpay_amount": yuan(found.backpay),
                "needs_fuzzy_link": "true" if found.fuzzy else "false", "note": _note(check, p),
            })
        return findings, self.near_misses()

    # -- near misses ------------------------------------------------------------------------
    def near_misses(self) -> list[dict[str, str]]:
        """The planted near misses (`Person.near`) the rows bear out and that are no finding of their check."""
        result = []
        for p in self.people.values():
            for check, label in p.near:
                if (check, p.pid) in self.found:
                    continue
                cases = getattr(self, "near_" + check)(p.pid, label)
                if cases is None:
                    continue
                result.append({
                    "check_code": check, "kind": "near_miss", "true_id_number": p.id_number, "name": p.name,
                    "case_no": "、".join(sorted(cases)), "period_start": "", "period_end": "", "overpaid_amount": "0.00",
                    "backpay_amount": "0.00",
                    "needs_fuzzy_link": "false" if all(self.usable(row) for row in self.rows_of[p.pid]) else "true", "note": label,
                })
        return result

    # Each near_<check> returns the cases the exemption rests on, or None when the rows do not bear it out.
    def near_person_not_household(self, pid: int, label: str) -> set[str] | None:
        household = _text(self.register[pid], "household_no") if pid in self.register else None
        for case in self.cases_of_household.get(household, ()):
            if not case.active(self.as_of):
                continue
            if label == "single_inclusion":
                if case.inclusion == "单人" and pid not in case.covered and self.present_at_as_of(pid):
                    return {case.case_no}
            elif case.inclusion == "整户" and self.uncovered_exemption(case, pid) == label:
                return {case.case_no}
        return None

    def near_should_be_tekun(self, pid: int, label: str) -> set[str] | None:
        for case in self.cases.values():
            row = case.covered.get(pid)
            if row is None or not case.active(self.as_of):
                continue
            exemption = self.tekun_exemption(pid, row)
            if label == "age_edge_59":
                birth = self.birth(pid)
                if (exemption == "able_to_work" and self.age(pid) == TEKUN_MIN_AGE - 1 and birth.year == self.cal.end_date.year - 60
                        and self.alone(pid) and pid not in self.tekun_active and _text(row, "has_tekun_waiver") != "是"):
                    return {case.case_no}
            elif exemption == label:
                return {case.case_no}
        return None

    def near_transfer_gap(self, pid: int, label: str) -> set[str] | None:
        for t in self.tekun.get(pid, ()):
            gap, case = self.gap_months(pid, t)
            if case is None or gap:
                continue
            if (label == "no_gap") == (case.stop == t.start - 1):
                return {case.case_no, t.case_no}
        return None

    def near_duplicate_benefit(self, pid: int, label: str) -> set[str] | None:
        if label == "dibao_member_listed_twice":
            for case in self.covering.get(pid, ()):
                if sum(row.person.pid == pid for row in case.rows) >= 2:
                    return {case.case_no}
            return None
        if label == "tekun_listed_twice":
            twice = {t.case_no for t in self.tekun.get(pid, ()) if len(t.rows) >= 2}
            return twice or None
        return self.near_transfer_gap(pid, "no_gap")  # stopped_month_before_tekun

    def near_missed_living_subsidy(self, pid: int, label: str) -> set[str] | None:
        certs = self.certs.get(pid, ())
        valid_months = [m for m in self.window if any(c.valid(m) for c in certs)]
        paid = {m for m in self.window if self.by_payee.get((pid, m, LIVING))}
        numbers = {c.number for c in certs}
        if label == "not_covered_single_case":
            single = [c for c in self.declared.get(pid, ()) if c.inclusion == "单人" and pid not in c.covered]
            if valid_months and single and not self.covering.get(pid) and not paid:
                return numbers | {c.case_no for c in single}
        elif label == "on_tekun":
            months = [m for m in valid_months if self.on_tekun(pid, m)]
            if months and not paid & set(months):
                return numbers | {t.case_no for t in self.tekun[pid]}
        elif label == "expired_certificate":
            for cert in certs:
                if cert.through is None or not self.cal.window_start <= cert.through < self.as_of:
                    continue
                after = [m for m in self.window if m > cert.through and self.living(pid, m) and self.dibao_covered(pid, m)]
                if after and not valid_months[-1:] > [cert.through] and not paid & set(after):
                    return {cert.number}
        return None

    def near_missed_care_subsidy(self, pid: int, label: str) -> set[str] | None:
        certs = self.certs.get(pid, ())
        paid = {m for m in self.window if self.by_payee.get((pid, m, CARE))}
        if label == "grade_2_paid":
            months = [m for m in self.window if self.living(pid, m) and any(c.grade == 2 and c.valid(m) for c in certs)]
            if months and set(months) <= paid:
                return {c.number for c in certs if c.grade == 2}
        elif label == "grade_3_not_paid":
            if certs and all(c.grade not in CARE_AMOUNT for c in certs) and any(c.valid(m) for c in certs for m in self.window) \
                    and not paid:
                return {c.number for c in certs}
        elif label == "died_certificate_normal":
            death = self.death_month.get(pid)
            normal = [c for c in certs if c.status == "正常" and c.grade in CARE_AMOUNT]
            if death is not None and normal and death in paid and max(paid) == death:
                return {c.number for c in normal}
        return None

    def near_invalid_certificate_paid(self, pid: int, label: str) -> set[str] | None:
        certs = self.certs.get(pid, ())
        lines = [line for line in self.lines_of[pid] if line.case_no in self.certs_by_number]
        if label == "grade_2_care_paid":
            grade_2 = {c.number for c in certs if c.grade == 2}
            care = [line for line in lines if line.programme == CARE and line.case_no in grade_2]
            if care and all(any(c.valid(line.month) for c in self.certs_by_number[line.case_no]) for line in care):
                return grade_2
        elif label == "death_cancelled_paid_to_death":
            death = self.death_month.get(pid)
            for cert in certs:
                on_it = [line.month for line in lines if line.case_no == cert.number]
                if cert.status == "注销" and death is not None and cert.through == death and on_it and max(on_it) == death:
                    return {cert.number}
        elif label == "reassessed_switched":
            for cert in certs:
                later = [c for c in certs if c.issue > cert.issue]
                on_it = [line.month for line in lines if line.case_no == cert.number]
                if cert.status == "注销" and later and on_it and max(on_it) == cert.through == min(c.issue_month for c in later):
                    return {cert.number} | {c.number for c in later}
        elif label in ("renewed_paid_before_reissue", "renewal_lapse_unpaid"):
            for number, rows in self.certs_by_number.items():
                renewed = [c for c in rows if c.row.person.pid == pid]
                if len(renewed) < 2 or len({(c.category, c.grade) for c in renewed}) > 1 or any(c.through is None for c in renewed):
                    continue
                on_it = {line.month for line in lines if line.case_no == number}
                reissued = max(c.issue_month for c in renewed)
                lapse = [m for m in range(min(c.issue_month for c in renewed), reissued) if not any(c.valid(m) for c in renewed)]
                if label == "renewed_paid_before_reissue":
                    if not lapse and any(self.cal.window_start <= m < reissued for m in on_it):
                        return {number}  # paid before the new row's issue date, on the old row's validity
                elif lapse and not on_it & set(lapse) and any(m < lapse[0] for m in on_it) and any(m > lapse[-1] for m in on_it):
                    return {number}  # paid up to the lapse and again after it, nothing in between
        return None

    def near_status_mismatch(self, pid: int, label: str) -> set[str] | None:
        for number, members in self.poor_headed_by.get(pid, {}).items():
            expected, deciding = self.expected_safety_net(members)
            single = any(c.inclusion == "单人" and c.active(self.as_of) for row in deciding for c in self.covering[row.person.pid])
            if expected == "低保" == _text(members[0], "safety_net") and single:
                return {number}
        return None

    def near_identity_anomaly(self, pid: int, label: str) -> set[str] | None:
        rows = self._recipients.get(pid)
        if not rows or pid not in self.register:
            return None
        true = self.people[pid].id_number
        cases = {_text(row, "case_no") for row in rows if "head_id_number" in row.values or "support_mode" in row.values}
        for row in rows:
            number = clean_number(row.values.get("id_number")).replace(" ", "")
            if label == "one_slip_typo" and number and not is_valid(number) and number in one_slip_variants(true):
                return cases
            if label == "fifteen_digit" and _valid_15(number) and normalize(number) == true:
                return cases
            if label == "lunar_birthday" and "birth_date" in row.values:
                roster, register = _date(row.values["birth_date"]), self.birth(pid)
                if roster is not None and 20 <= abs((roster - register).days) <= 40:
                    return cases
        if label == "age_110" and self.age(pid) == MAX_AGE:
            return cases
        return None
