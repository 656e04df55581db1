"""missed_living_subsidy 困难残疾人生活补贴漏发: months in the window (2024-11 … 2026-10) in which a
certificate holder is a covered member of a dibao case, living, present and not on tekun, and no
困难残疾人生活补贴 line was paid; back-pay 80 a month."""

from tests.county import run_check


def disabled_wife_on_dibao(county, *, died=None, covered=True, issued="2019-05-10", valid_until="2029-05-09",
                           status="正常", stopped=None, paid=("2024-11", "2026-07"), on_dibao=True):
    """Wife with a grade-3 certificate, covered with her husband by 整户 case DB0001; subsidy paid `paid`."""
    head = county.person(name="周建华", born="1970-01-15")
    wife = county.person(name="吴玉梅", born="1973-05-20", sex="女", household_no=head.household_no, relation="配偶", died=died)
    number = county.certificate(wife, category="肢体", grade=3, issued=issued, valid_until=valid_until, status=status)
    if on_dibao:
        county.dibao_case("DB0001", head, [(head, True), (wife, covered)], start="2018-01", stopped=stopped, amount=1040)
    if paid:
        county.pay(wife, programme="living_subsidy", months=paid, amount=80, case_no=number)
    return wife, number


def test_missed_living_subsidy_backpays_each_unpaid_month(county):
    wife, number = disabled_wife_on_dibao(county)
    (finding,) = run_check("missed_living_subsidy", county)
    assert finding.id_number == wife.id_number
    assert finding.case_no == number
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.backpay_amount == 3 * 80  # August, September, October 2026
    assert finding.overpaid_amount == 0


def test_missed_living_subsidy_counts_from_the_certificate_issue_month(county):
    wife, number = disabled_wife_on_dibao(county, issued="2025-03-15", valid_until="2035-03-14", paid=None)
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2025-03", "2026-10")
    assert finding.backpay_amount == 20 * 80  # March … December 2025 (10), January … October 2026 (10)


def test_missed_living_subsidy_counts_only_months_inside_the_window(county):
    wife, number = disabled_wife_on_dibao(county, paid=None)  # never paid since 2019
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2026-10")
    assert finding.backpay_amount == 24 * 80  # November 2024 … October 2026


def test_missed_living_subsidy_skips_person_on_tekun(county):
    wife, number = disabled_wife_on_dibao(county)
    county.tekun(wife, start="2020-01")
    assert run_check("missed_living_subsidy", county) == []


def test_missed_living_subsidy_stops_when_tekun_starts(county):
    wife, number = disabled_wife_on_dibao(county)
    county.tekun(wife, start="2026-09")
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.backpay_amount == 1 * 80  # August 2026 only; from September she is on tekun


def test_missed_living_subsidy_skips_declared_member_not_covered(county):
    disabled_wife_on_dibao(county, covered=False)
    assert run_check("missed_living_subsidy", county) == []


def test_missed_living_subsidy_skips_person_not_on_dibao(county):
    disabled_wife_on_dibao(county, on_dibao=False)
    assert run_check("missed_living_subsidy", county) == []


def test_missed_living_subsidy_ends_with_the_death_month(county):
    disabled_wife_on_dibao(county, died="2026-08-20")
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.backpay_amount == 1 * 80  # August 2026, the month she died; nothing after


def test_missed_living_subsidy_ends_with_the_certificate_expiry_month(county):
    disabled_wife_on_dibao(county, issued="2016-09-01", valid_until="2026-08-31", status="过期")
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.backpay_amount == 1 * 80  # August 2026, the last month of validity


def test_missed_living_subsidy_ends_with_the_dibao_stop_month(county):
    disabled_wife_on_dibao(county, stopped="2026-08")
    (finding,) = run_check("missed_living_subsidy", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.backpay_amount == 1 * 80  # August 2026, the last covered month


def test_missed_living_subsidy_skips_cancelled_certificate_with_unknown_cancellation_month(county):
    # 注销 with no death and no replacing certificate: validity cannot be shown, nothing is owed
    disabled_wife_on_dibao(county, status="注销")
    assert run_check("missed_living_subsidy", county) == []
