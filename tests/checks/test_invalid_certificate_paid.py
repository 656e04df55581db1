"""invalid_certificate_paid 证件失效仍领取: living- or care-subsidy lines in the window (2024-11 … 2026-10)
for months outside the certificate's validity, and care-subsidy lines on grade 3–4; months after
the payee's death or move-out belong to deceased_paid / moved_out_paid."""

import pytest

from tests.county import run_check


def test_invalid_certificate_paid_recovers_lines_after_expiry(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2016-03-01", valid_until="2026-02-28", status="过期")
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-06"), amount=80, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == number
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-06")
    assert finding.overpaid_amount == 4 * 80  # March, April, May, June; February is the last valid month
    assert finding.backpay_amount == 0


def test_invalid_certificate_paid_skips_lines_within_validity(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2016-07-01", valid_until="2026-06-30", status="过期")
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-06"), amount=80, case_no=number)
    assert run_check("invalid_certificate_paid", county) == []


def test_invalid_certificate_paid_recovers_lines_before_the_issue_month(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2026-03-10", valid_until="2036-03-09")
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-06"), amount=80, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-01", "2026-02")
    assert finding.overpaid_amount == 2 * 80  # January, February; valid from March, the issue month


def test_invalid_certificate_paid_recovers_every_care_line_on_grade_3(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2019-05-10", valid_until="2029-05-09")
    county.pay(person, programme="care_subsidy", months=("2026-05", "2026-10"), amount=100, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-05", "2026-10")
    assert finding.overpaid_amount == 6 * 100  # May … October 2026, a valid certificate of a grade that does not qualify


def test_invalid_certificate_paid_skips_care_lines_on_grade_2(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=2, issued="2019-05-10", valid_until="2029-05-09")
    county.pay(person, programme="care_subsidy", months=("2026-05", "2026-10"), amount=100, case_no=number)
    assert run_check("invalid_certificate_paid", county) == []


def test_invalid_certificate_paid_skips_death_cancelled_certificate_paid_through_the_death_month(county):
    person = county.person(name="蒋春生", born="1942-07-07", died="2026-06-10")
    number = county.certificate(person, grade=1, issued="2019-05-10", valid_until="2029-05-09", status="注销")
    county.pay(person, programme="care_subsidy", months=("2026-01", "2026-06"), amount=100, case_no=number)
    assert run_check("invalid_certificate_paid", county) == []


def test_invalid_certificate_paid_recovers_lines_on_a_certificate_replaced_by_reassessment(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    old = county.certificate(person, grade=2, issued="2018-03-01", valid_until="2028-02-29", status="注销")
    county.certificate(person, grade=1, issued="2026-06-05", valid_until="2036-06-04")
    county.pay(person, programme="care_subsidy", months=("2026-01", "2026-10"), amount=80, case_no=old)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert finding.case_no == old
    assert (finding.period_start, finding.period_end) == ("2026-07", "2026-10")
    assert finding.overpaid_amount == 4 * 80  # July … October; the old one was cancelled in June, when the new one was issued


def test_invalid_certificate_paid_skips_cancelled_certificate_with_unknown_cancellation_month(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=2, issued="2018-03-01", valid_until="2028-02-29", status="注销")
    county.pay(person, programme="care_subsidy", months=("2026-01", "2026-10"), amount=80, case_no=number)
    assert run_check("invalid_certificate_paid", county) == []  # nothing provable


def test_invalid_certificate_paid_skips_lines_on_a_number_not_in_the_disability_roster(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    county.pay(person, programme="care_subsidy", months=("2026-05", "2026-10"), amount=100, case_no=person.id_number + "43")
    assert run_check("invalid_certificate_paid", county) == []


def test_invalid_certificate_paid_counts_only_months_inside_the_window(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2014-07-01", valid_until="2024-06-30", status="过期")
    county.pay(person, programme="living_subsidy", months=("2024-09", "2025-02"), amount=80, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2025-02")
    assert finding.overpaid_amount == 4 * 80  # November, December 2024, January, February 2025


def test_invalid_certificate_paid_leaves_months_after_death_to_deceased_paid(county):
    person = county.person(name="蒋春生", born="1942-07-07", died="2026-04-15")
    number = county.certificate(person, grade=3, issued="2016-03-01", valid_until="2026-02-28", status="过期")
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-06"), amount=80, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-04")
    assert finding.overpaid_amount == 2 * 80  # March, April (the death month); May, June are deceased_paid's


RENEWALS = (
    # (old row's 有效期至, its 证件状态, the new row's 发证日期): renewed without a lapse (换证)
    ("2026-02-28", "注销", "2026-01-20"),  # cancelled when the new card was issued
    ("2026-02-28", "过期", "2026-03-05"),  # expired, renewed the month after
    ("2026-05-31", "正常", "2026-02-10"),  # the old row still says 正常, with the earlier 有效期至
)


@pytest.mark.parametrize(("old_valid_until", "old_status", "renewed"), RENEWALS)
def test_invalid_certificate_paid_skips_lines_before_a_renewal_under_the_same_number(county, old_valid_until, old_status,
                                                                                      renewed):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=2, issued="2016-03-01", valid_until=old_valid_until, status=old_status)
    renewed_number = county.certificate(person, grade=2, issued=renewed, valid_until="2036-01-19")
    assert renewed_number == number  # same category and grade: the number is kept
    county.pay(person, programme="care_subsidy", months=("2025-06", "2026-10"), amount=80, case_no=number)
    assert run_check("invalid_certificate_paid", county) == []


def test_invalid_certificate_paid_recovers_lines_in_a_lapse_between_renewal_rows(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    number = county.certificate(person, grade=3, issued="2015-12-10", valid_until="2025-12-09", status="过期")
    county.certificate(person, grade=3, issued="2026-04-10", valid_until="2036-04-09")
    county.pay(person, programme="living_subsidy", months=("2025-06", "2026-10"), amount=80, case_no=number)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert finding.case_no == number
    assert (finding.period_start, finding.period_end) == ("2026-01", "2026-03")
    assert finding.overpaid_amount == 3 * 80  # January, February, March: the old card expired in December, the new one came in April


def test_invalid_certificate_paid_ends_a_renewed_certificate_when_reassessed_to_another_grade(county):
    person = county.person(name="蒋春生", born="1972-07-07")
    old = county.certificate(person, grade=2, issued="2014-03-01", valid_until="2024-02-29", status="注销")
    county.certificate(person, grade=2, issued="2024-01-15", valid_until="2034-01-14", status="注销")  # renewed
    county.certificate(person, grade=1, issued="2026-06-05", valid_until="2036-06-04")  # re-assessed
    county.pay(person, programme="care_subsidy", months=("2025-01", "2026-10"), amount=80, case_no=old)
    (finding,) = run_check("invalid_certificate_paid", county)
    assert finding.case_no == old
    assert (finding.period_start, finding.period_end) == ("2026-07", "2026-10")
    assert finding.overpaid_amount == 4 * 80  # July … October; grade 2 ran from 2014 through June 2026, across the renewal
