"""transfer_gap 转特困断档: months strictly between a dibao case's 停保年月 and the tekun 开始年月, inside
the window (2024-11 … 2026-10), in which neither that case's 低保金 nor 特困供养金 was paid; back-pay at
the tekun row's 月供养金."""

from dataclasses import replace

from tests.county import run_check


def moved_to_tekun(county, *, stopped="2025-06", tekun_start="2025-10", covered=True, moved_out=None):
    """An old man alone on dibao DB0001 (520 a month) until `stopped`, on tekun TK0001 (700) from `tekun_start`."""
    person = county.person(name="孙有福", born="1948-02-14", moved_out=moved_out)
    county.dibao_case("DB0001", person, [(person, covered)], start="2019-01", stopped=stopped, amount=520)
    county.pay(person, programme="dibao", months=("2024-11", stopped), amount=520, case_no="DB0001")
    county.tekun(person, case_no="TK0001", start=tekun_start, amount=700)
    county.pay(person, programme="tekun", months=(tekun_start, "2026-10"), amount=700, case_no="TK0001")
    return person


def test_transfer_gap_backpays_months_between_stop_and_tekun_start(county):
    person = moved_to_tekun(county)
    (finding,) = run_check("transfer_gap", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == "TK0001"
    assert (finding.period_start, finding.period_end) == ("2025-07", "2025-09")
    assert finding.backpay_amount == 3 * 700  # July, August, September 2025 at the tekun amount, not dibao's 520
    assert finding.overpaid_amount == 0


def test_transfer_gap_skips_tekun_starting_the_month_after_stop(county):
    # 2025-06 and 2025-07 are adjacent: nothing strictly between, even with both months themselves unpaid
    person = county.person(name="孙有福", born="1948-02-14")
    county.dibao_case("DB0001", person, [(person, True)], start="2019-01", stopped="2025-06", amount=520)
    county.pay(person, programme="dibao", months=("2024-11", "2025-05"), amount=520, case_no="DB0001")
    county.tekun(person, case_no="TK0001", start="2025-07", amount=700)
    county.pay(person, programme="tekun", months=("2025-08", "2026-10"), amount=700, case_no="TK0001")
    assert run_check("transfer_gap", county) == []


def test_transfer_gap_skips_months_the_dibao_case_still_paid(county):
    person = moved_to_tekun(county)
    county.pay(person, programme="dibao", months=("2025-07", "2025-09"), amount=520, case_no="DB0001")
    assert run_check("transfer_gap", county) == []


def test_transfer_gap_counts_only_the_unpaid_gap_months(county):
    person = moved_to_tekun(county)
    county.pay(person, programme="dibao", months=("2025-07", "2025-07"), amount=520, case_no="DB0001")
    (finding,) = run_check("transfer_gap", county)
    assert (finding.period_start, finding.period_end) == ("2025-08", "2025-09")
    assert finding.backpay_amount == 2 * 700  # August, September 2025; July was paid by dibao


def test_transfer_gap_skips_months_paid_by_backdated_tekun(county):
    person = moved_to_tekun(county)
    county.pay(person, programme="tekun", months=("2025-07", "2025-09"), amount=700, case_no="TK0001")
    assert run_check("transfer_gap", county) == []


def test_transfer_gap_counts_only_months_inside_the_window(county):
    person = county.person(name="孙有福", born="1948-02-14")
    county.dibao_case("DB0001", person, [(person, True)], start="2019-01", stopped="2024-06", amount=520)
    county.tekun(person, case_no="TK0001", start="2025-02", amount=700)
    county.pay(person, programme="tekun", months=("2025-02", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("transfer_gap", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2025-01")
    # July 2024 … January 2025 are the gap; only November, December 2024 and January 2025 are in the window
    assert finding.backpay_amount == 3 * 700


def test_transfer_gap_measures_from_the_latest_case_stopped_before_tekun(county):
    person = county.person(name="孙有福", born="1948-02-14")
    county.dibao_case("DB0001", person, [(person, True)], start="2015-01", stopped="2023-12", amount=480)
    county.dibao_case("DB0002", person, [(person, True)], start="2024-06", stopped="2025-06", amount=520)
    county.pay(person, programme="dibao", months=("2024-11", "2025-06"), amount=520, case_no="DB0002")
    county.tekun(person, case_no="TK0001", start="2025-10", amount=700)
    county.pay(person, programme="tekun", months=("2025-10", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("transfer_gap", county)
    assert (finding.period_start, finding.period_end) == ("2025-07", "2025-09")
    assert finding.backpay_amount == 3 * 700  # July, August, September 2025, after DB0002 stopped


def test_transfer_gap_skips_declared_member_not_covered(county):
    moved_to_tekun(county, covered=False)
    assert run_check("transfer_gap", county) == []


def test_transfer_gap_counts_only_months_living_and_present(county):
    person = moved_to_tekun(county, moved_out="2025-08-20")  # the tekun row went on regardless
    (finding,) = run_check("transfer_gap", county)
    assert (finding.period_start, finding.period_end) == ("2025-07", "2025-08")
    assert finding.backpay_amount == 2 * 700  # July, August 2025 (the move-out month); not September
    assert finding.id_number == person.id_number


def test_transfer_gap_finds_covered_member_who_is_not_the_head(county):
    head = county.person(name="孙大海", born="1972-03-03")
    mother = county.person(name="钱桂兰", born="1944-01-20", sex="女", household_no=head.household_no, relation="母亲")
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], start="2019-01", stopped="2025-06", amount=1040)
    county.pay(head, programme="dibao", months=("2024-11", "2025-06"), amount=1040, case_no="DB0001")
    county.tekun(mother, case_no="TK0001", start="2025-10", amount=700, mode="集中")
    county.pay(mother, programme="tekun", months=("2025-10", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("transfer_gap", county)
    assert finding.id_number == mother.id_number
    assert finding.backpay_amount == 3 * 700  # July, August, September 2025


def test_transfer_gap_counts_a_support_listed_twice_once(county):
    # the support is listed again with a corrected 月供养金: one period, at the larger amount either row gives
    person = moved_to_tekun(county)
    county.tekun(replace(person, name="孙有富"), case_no="TK0001", start="2025-10", amount=750)
    (finding,) = run_check("transfer_gap", county)
    assert finding.case_no == "TK0001"
    assert (finding.period_start, finding.period_end) == ("2025-07", "2025-09")
    assert finding.backpay_amount == 3 * 750  # July, August, September 2025, once, at 750
