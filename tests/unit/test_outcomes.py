"""Outcomes: whether confirmed overpayments stopped, whether back-pay was paid, what inspectors measured."""

import datetime as dt
import json
from types import SimpleNamespace

import duckdb
import pytest

from hecha.audit.history import apply_history, open_state, record_run_in, transaction
from hecha.audit.outcomes import RecoveryError, record_outcomes_in, record_recovered, track_outcomes
from hecha.config import load_policy
from hecha.flows.pipeline import analyse_drop
from hecha.storage.database import attached
from tests.county import TEST_SECRET, County

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # UTC, as the history keeps its times
POLICY_30_DAYS = load_policy() | {"outcomes": {"verdict_deadline_days": 30}}
FINDING_COLUMNS = (
    "check_code varchar, person_id varchar, id_number varchar, name varchar, township varchar, village varchar, "
    "case_no varchar, period_start date, period_end date, overpaid_amount double, backpay_amount double, "
    "link_confidence double, needs_confirmation boolean, evidence varchar, case_key varchar"
)


def month(text):
    return dt.date.fromisoformat(f"{text}-01")


def rows(con, sql):
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [SimpleNamespace(**dict(zip(names, row))) for row in cursor.fetchall()]


class Folder:
    """An output folder whose runs are published by hand, in the pipeline's order.

    checks → history → outcomes in the run's database; then the run and its
    outcomes recorded in the case history in one transaction, as publication does.
    """

    def __init__(self, path):
        self.path = path
        self.state = path / "audit.duckdb"
        self.runs = 0

    def publish(self, build, as_of, *, at=NOW, policy=None, record_outcomes=True):
        self.runs += 1
        run_id = f"{as_of}_r{self.runs}"
        run_dir = self.path / run_id
        run_dir.mkdir(parents=True)
        con = duckdb.connect(str(run_dir / "hecha.duckdb"))
        build(con)
        apply_history(con, state=self.state, run_id=run_id)
        summary = track_outcomes(con, state=self.state, run_id=run_id, as_of=as_of, policy=policy)
        outcomes = {row.case_key: row for row in rows(con, "select * from chk.outcome")}
        findings = {row.case_key: row for row in rows(con, "select * from chk.finding")}
        con.close()
        record = {"run_id": run_id, "parameters": {"as_of": as_of}, "findings": {},
                  "finished_at": at.replace(tzinfo=dt.timezone.utc).isoformat()}
        (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
        with open_state(self.state) as history, attached(history, run_dir / "hecha.duckdb", "published", read_only=True), \
                transaction(history):
            record_run_in(history, record=record, run_dir=run_dir)  # records the run's outcomes too
        if not record_outcomes:  # a history written before outcomes were recorded
            with open_state(self.state) as history:
                history.execute("drop table if exists audit.outcome")
                history.execute("drop table if exists audit.recovery")
        return SimpleNamespace(run_id=run_id, outcomes=outcomes, findings=findings, summary=summary)

    def verdict(self, run, case_key, conclusion, at):
        """An inspector's 核查结论 on a finding of `run`, as the feedback import records it."""
        with open_state(self.state) as history:
            history.execute(
                "insert into audit.disposition (case_key, conclusion, inspector, recorded_at, run_id, source_row) "
                "values (?, ?, '张科员', ?, ?, 2)",
                [case_key, conclusion, at, run.run_id],
            )


@pytest.fixture
def folder(tmp_path):
    return Folder(tmp_path / "out")


def drop_of(county, as_of):
    def build(con):
        county.as_of = as_of
        analyse_drop(con, county.write(), codes=["deceased_paid", "missed_care_subsidy"], secret=TEST_SECRET)
    return build


def minimal_run(findings):
    """A run database with only what outcomes read: findings, and an empty ledger."""
    def build(con):
        con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
        con.execute("create schema stg; create table stg.payments (source_row integer, paid_month date, programme varchar, "
                    "case_no varchar, amount decimal(12,2))")
        con.execute("create schema int; create table int.person_month_paid (ledger_row integer, paid_month date, "
                    "programme varchar, case_no varchar, person_id varchar, amount double)")
        for row in findings:
            con.execute("insert into chk.finding values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    return build


def finding(key, code="deceased_paid", overpaid=300.0, backpay=0.0):
    return (code, f"P{key}", "130534195001010011", f"人{key}", "城关镇", "东关村", "TK1", "2026-08-01", "2026-10-01",
            overpaid, backpay, 1.0, False, "死亡后仍发放 3 个月", key)


def test_outcomes_over_three_monthly_drops(folder, tmp_path):
    county = County(tmp_path / "county")
    # A died in May: tekun 600 and care subsidy 100 a month paid on through August, then stopped
    a = county.person(died="2026-05-15")
    a_certificate = county.certificate(a, grade=1)
    county.pay(a, programme="tekun", months=("2024-01", "2026-08"), amount=600, case_no="TK-A")
    county.pay(a, programme="care_subsidy", months=("2024-01", "2026-08"), amount=100, case_no=a_certificate)
    # B died in June: tekun 500 a month paid every month since
    b = county.person(died="2026-06-10")
    county.pay(b, programme="tekun", months=("2024-01", "2026-08"), amount=500, case_no="TK-B")
    # C, grade 1: care subsidy not paid for March, April, May 2026 (3 × 100 due), paid back in the third drop
    c = county.person()
    c_certificate = county.certificate(c, grade=1)
    county.pay(c, programme="care_subsidy", months=("2024-01", "2026-02"), amount=100, case_no=c_certificate)
    county.pay(c, programme="care_subsidy", months=("2026-06", "2026-08"), amount=100, case_no=c_certificate)

    august = folder.publish(drop_of(county, "2026-08"), "2026-08", at=NOW - dt.timedelta(days=60))
    keys = {f.id_number: key for key, f in august.findings.items()}
    a_key, b_key = (keys[p.id_number] for p in (a, b))
    c_key = next(key for key, f in august.findings.items() if f.check_code == "missed_care_subsidy")
    assert august.findings[a_key].overpaid_amount == 3 * 600 + 3 * 100  # June, July, August
    assert august.findings[c_key].backpay_amount == 3 * 100
    assert set(august.outcomes) == {c_key}  # no verdict yet: only the back-pay finding is tracked
    folder.verdict(august, a_key, "属实", NOW - dt.timedelta(days=55))
    folder.verdict(august, b_key, "属实", NOW - dt.timedelta(days=55))

    county.pay(b, programme="tekun", months=("2026-09", "2026-09"), amount=500, case_no="TK-B")
    county.pay(c, programme="care_subsidy", months=("2026-09", "2026-09"), amount=100, case_no=c_certificate)
    september = folder.publish(drop_of(county, "2026-09"), "2026-09", at=NOW - dt.timedelta(days=30))
    stopped = september.outcomes[a_key]
    assert (stopped.verdict, stopped.stopped, stopped.last_paid_month, stopped.stopped_month) == (
        "属实", True, month("2026-08"), month("2026-09"))
    assert stopped.overpaid_monthly_before == 600 + 100  # August: tekun and care subsidy
    assert stopped.monthly_stopped_amount == 600 + 100  # September: nothing
    assert september.outcomes[c_key].backpay_paid == 0

    county.pay(b, programme="tekun", months=("2026-10", "2026-10"), amount=500, case_no="TK-B")
    county.pay(c, programme="care_subsidy", months=("2026-10", "2026-10"), amount=100, case_no=c_certificate)
    county.pay(c, programme="care_subsidy", months=("2026-03", "2026-05"), amount=100, case_no=c_certificate)
    october = folder.publish(drop_of(county, "2026-10"), "2026-10")
    assert c_key not in october.findings  # paid back: the check no longer finds it
    still_stopped, continuing, paid_back = (october.outcomes[key] for key in (a_key, b_key, c_key))
    assert (still_stopped.stopped, still_stopped.stopped_month, still_stopped.monthly_stopped_amount) == (
        True, month("2026-09"), 700)
    assert (continuing.stopped, continuing.last_paid_month, continuing.stopped_month) == (False, month("2026-10"), None)
    assert (continuing.overpaid_monthly_before, continuing.monthly_stopped_amount) == (500, 0)
    assert (paid_back.backpay_due, paid_back.backpay_paid, paid_back.backpay_paid_months) == (300, 3 * 100, 3)

    deceased, care = october.summary["checks"]["deceased_paid"], october.summary["checks"]["missed_care_subsidy"]
    assert (deceased["findings"], deceased["true_count"], deceased["stopped_cases"], deceased["monthly_stopped_amount"]) == (2, 2, 1, 700)
    assert (care["backpay_due"], care["backpay_paid"], care["backpay_paid_cases"]) == (300, 300, 1)
    with open_state(folder.state, read_only=True) as history:
        recorded = history.execute("select run_id, count(*) from audit.outcome group by run_id order by run_id").fetchall()
    assert recorded == [(august.run_id, 1), (september.run_id, 3), (october.run_id, 3)]


def test_outcome_rates_are_the_precision_inspectors_measured(folder):
    first = folder.publish(minimal_run([finding(f"k{n}") for n in range(1, 6)]), "2026-10")
    for key, conclusion in (("k1", "属实"), ("k2", "属实"), ("k3", "属实"), ("k4", "不属实"), ("k5", "已整改")):
        folder.verdict(first, key, conclusion, NOW)
    second = folder.publish(minimal_run([finding(f"k{n}") for n in range(1, 6)]), "2026-10")
    rates = second.summary["checks"]["deceased_paid"]
    assert (rates["true_count"], rates["not_true_count"], rates["rectified_count"], rates["no_verdict_count"]) == (3, 1, 1, 0)
    assert rates["true_rate"] == 0.75  # 3 / (3 + 1): a rectified case is counted apart
    assert rates["not_true_rate"] == 0.25
    assert set(second.outcomes) == {"k1", "k2", "k3", "k5"}  # confirmed cases are tracked, the refuted one is not


def test_cases_open_past_the_verdict_deadline(folder):
    first = folder.publish(minimal_run([finding("old"), finding("judged")]), "2026-10", at=NOW - dt.timedelta(days=40))
    folder.verdict(first, "judged", "属实", NOW - dt.timedelta(days=35))
    folder.publish(minimal_run([finding("old"), finding("judged"), finding("recent")]), "2026-10", at=NOW - dt.timedelta(days=20))
    latest = folder.publish(minimal_run([finding("old"), finding("judged"), finding("recent"), finding("new")]), "2026-10",
                            policy=POLICY_30_DAYS)
    # old: first seen 40 days ago, no verdict; recent: 20 days; judged has a verdict; new was first seen tonight
    assert latest.summary["checks"]["deceased_paid"]["open_past_deadline"] == 1
    assert latest.summary["verdict_deadline_days"] == 30


def test_recovered_amount_is_refused_above_the_overpaid_amount(folder):
    first = folder.publish(minimal_run([finding("k1", overpaid=300.0)]), "2026-10")
    folder.verdict(first, "k1", "属实", NOW)
    for amount, expected in ((300.01, "more than the 300.00 overpaid"), (-1, "below 0"), (12.345, "fen")):
        with pytest.raises(RecoveryError, match=expected):
            record_recovered(folder.state, "k1", amount, "王科员", first.run_id, "book.xlsx 死亡人员仍领取 row 2")
    with pytest.raises(RecoveryError, match="not a case"):
        record_recovered(folder.state, "k9", 10, "王科员", first.run_id, "book.xlsx")
    record_recovered(folder.state, "k1", 200, "王科员", first.run_id, "book.xlsx 死亡人员仍领取 row 2")
    with open_state(folder.state) as history, transaction(history):  # as the workbook import calls it
        record_recovered(history, "k1", 300, "王科员", first.run_id, "book2.xlsx 死亡人员仍领取 row 2")
    second = folder.publish(minimal_run([finding("k1", overpaid=300.0)]), "2026-10")
    assert second.outcomes["k1"].recovered_amount == 300  # the latest record: what has been recovered so far
    assert second.summary["checks"]["deceased_paid"]["recovered_amount"] == 300


def test_outcomes_read_a_history_written_before_outcomes_were_recorded(folder):
    first = folder.publish(minimal_run([finding("k1")]), "2026-10", record_outcomes=False)
    with open_state(folder.state, read_only=True) as history:
        assert history.execute("select count(*) from duckdb_tables() where table_name = 'outcome'").fetchall() == [(0,)]
    folder.verdict(first, "k1", "属实", NOW)
    second = folder.publish(minimal_run([finding("k1")]), "2026-10")
    assert second.outcomes["k1"].verdict == "属实"
    with open_state(folder.state) as history, \
            attached(history, folder.path / second.run_id / "hecha.duckdb", "published", read_only=True), transaction(history):
        assert record_outcomes_in(history, second.run_id) == 1  # recorded again: replaced, not doubled
