"""missed_care_subsidy 重度残疾人护理补贴漏发: months in the window (2024-11 … 2026-10) in which a holder
of a valid grade 1–2 certificate is living and present and no 重度残疾人护理补贴 line was paid, on dibao
or tekun or neither; back-pay 100 a month for grade 1, 80 for grade 2."""

from tests.county import run_check


def severely_disabled(county, *, grade=1, died=None, moved_out=None, issued="2019-05-10", valid_until="2029-05-09",
                      status="正常", paid=("2024-11", "2026-07")):
    """A man with a 肢体 certificate of `grade`, care subsidy paid `paid` at the grade's standard."""
    person = county.person(name="郑国庆", born="1961-10-01", died=died, moved_out=moved_out)
    number = county.certificate(person, category="肢体", grade=grade, issued=issued, valid_until=valid_until, status=status)
    if paid:
        county.pay(person, programme="care_subsidy", months=paid, amount={1: 100, 2: 80}.get(grade, 100), case_no=number)
    return person, number


def test_missed_care_subsidy_backpays_grade_1_at_100(county):
    person, number = severely_disabled(county)
    (finding,) = run_check("missed_care_subsidy", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == number
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.backpay_amount == 3 * 100  # August, September, October 2026
    assert finding.overpaid_amount == 0


def test_missed_care_subsidy_backpays_grade_2_at_80(county):
    severely_disabled(county, grade=2)
    (finding,) = run_check("missed_care_subsidy", county)
    assert finding.backpay_amount == 3 * 80  # August, September, October 2026


def test_missed_care_subsidy_skips_grade_3(county):
    severely_disabled(county, grade=3, paid=None)
    assert run_check("missed_care_subsidy", county) == []


def test_missed_care_subsidy_skips_months_paid(county):
    severely_disabled(county, paid=("2024-11", "2026-10"))
    assert run_check("missed_care_subsidy", county) == []


def test_missed_care_subsidy_applies_to_tekun_people_too(county):
    person, number = severely_disabled(county)
    county.tekun(person, start="2020-01", mode="集中")
    (finding,) = run_check("missed_care_subsidy", county)
    assert finding.id_number == person.id_number
    assert finding.backpay_amount == 3 * 100  # August, September, October 2026


def test_missed_care_subsidy_counts_from_the_certificate_issue_month(county):
    severely_disabled(county, issued="2025-06-10", valid_until="2035-06-09", paid=None)
    (finding,) = run_check("missed_care_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2025-06", "2026-10")
    assert finding.backpay_amount == 17 * 100  # June … December 2025 (7), January … October 2026 (10)


def test_missed_care_subsidy_counts_only_months_inside_the_window(county):
    severely_disabled(county, paid=None)  # never paid since 2019
    (finding,) = run_check("missed_care_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2026-10")
    assert finding.backpay_amount == 24 * 100  # November 2024 … October 2026


def test_missed_care_subsidy_ends_with_the_death_month_although_the_certificate_says_valid(county):
    severely_disabled(county, died="2026-08-20")
    (finding,) = run_check("missed_care_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.backpay_amount == 1 * 100  # August 2026, the month he died


def test_missed_care_subsidy_ends_with_the_move_out_month(county):
    severely_disabled(county, moved_out="2026-09-03")
    (finding,) = run_check("missed_care_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-09")
    assert finding.backpay_amount == 2 * 100  # August, September 2026


def test_missed_care_subsidy_uses_the_most_severe_grade_valid_in_the_month(county):
    # re-assessed: the grade-2 certificate is cancelled by a grade-1 one issued 2026-09-05;
    # the old one is valid through September, the month the new one was issued
    person, old = severely_disabled(county, grade=2, issued="2018-03-01", valid_until="2028-02-29", status="注销")
    county.certificate(person, category="肢体", grade=1, issued="2026-09-05", valid_until="2036-09-04")
    (finding,) = run_check("missed_care_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.backpay_amount == 80 + 100 + 100  # August grade 2; September both valid, grade 1; October grade 1


def test_missed_care_subsidy_skips_cancelled_certificate_with_unknown_cancellation_month(county):
    severely_disabled(county, status="注销")
    assert run_check("missed_care_subsidy", county) == []
