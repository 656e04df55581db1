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

`needs_fuzzy_link` is true when an exact citizen-number linker cannot build
the whole finding: some row it rests on (the death or move-out evidence that
gives the event month — a usable register row is enough —, each overpaid
ledger line (its payee number; for 低保金 the head's), and for 低保金 the
member's dibao row) carries a number that is blank or does not normalize to
the true number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from data.sample.households import Population
from data.sample.ids import normalize
from data.sample.model import Calendar, Person, month_text, parse_month
from data.sample.rows import Row

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
    covered: dict[str, list[tuple[Person, bool]]] = defaultdict(list)
    not_covered: dict[str, list[Person]] = defaultdict(list)
    for row in rows["dibao"]:
        case_no = row.values["case_no"]
        if (row.values["is_covered"] or "").strip() == "是":
            covered[case_no].append((row.person, _is_usable(row)))
        else:
            not_covered[case_no].append(row.person)

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
        note = SCENARIO_NOTES.get(p.scenario, "unplanned")
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
    findings += _near_misses(rows, population, cal, events, paid, paid_usable, not_covered, case_months, accruals)
    return Truth(records, findings)


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
