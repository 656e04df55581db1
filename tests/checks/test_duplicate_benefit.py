"""duplicate_benefit 重复享受: months in the window (2024-11 … 2026-10) in which one person is covered by
dibao and tekun, by two dibao cases, or has two ledger lines of the same 项目. Overpaid: the dibao
share (tekun stays), the later case's share, or every line beyond the first."""

from dataclasses import replace

from tests.county import run_check


def dibao_then_tekun(county, *, stopped=None, died=None, dibao_paid=("2024-11", "2026-10")):
    """An old man alone on dibao DB0001 (520 a month since 2019) who also entered tekun TK0001 (700) in 2026-08."""
    person = county.person(name="冯长顺", born="1947-12-01", died=died)
    county.dibao_case("DB0001", person, [(person, True)], start="2019-01", stopped=stopped, amount=520)
    county.pay(person, programme="dibao", months=dibao_paid, amount=520, case_no="DB0001")
    county.tekun(person, case_no="TK0001", start="2026-08", amount=700)
    county.pay(person, programme="tekun", months=("2026-08", "2026-10"), amount=700, case_no="TK0001")
    return person


def test_duplicate_benefit_recovers_dibao_paid_while_on_tekun(county):
    person = dibao_then_tekun(county)
    (finding,) = run_check("duplicate_benefit", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == "DB0001、TK0001"
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.overpaid_amount == 3 * 520  # August, September, October 2026: the dibao lines, tekun stays
    assert finding.backpay_amount == 0


def test_duplicate_benefit_skips_dibao_stopped_the_month_before_tekun(county):
    dibao_then_tekun(county, stopped="2026-07", dibao_paid=("2024-11", "2026-07"))
    assert run_check("duplicate_benefit", county) == []


def test_duplicate_benefit_counts_dibao_stopped_in_the_tekun_start_month(county):
    dibao_then_tekun(county, stopped="2026-08", dibao_paid=("2024-11", "2026-08"))
    (finding,) = run_check("duplicate_benefit", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-08")
    assert finding.overpaid_amount == 1 * 520  # August 2026, covered by both


def test_duplicate_benefit_recovers_the_members_share_of_a_household_case(county):
    head = county.person(name="冯大成", born="1975-04-04")
    mother = county.person(name="陈素珍", born="1945-03-08", sex="女", household_no=head.household_no, relation="母亲")
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], start="2019-01", amount=1040)
    county.pay(head, programme="dibao", months=("2024-11", "2026-10"), amount=1040, case_no="DB0001")
    county.tekun(mother, case_no="TK0001", start="2026-08", amount=700, mode="集中")
    county.pay(mother, programme="tekun", months=("2026-08", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("duplicate_benefit", county)
    assert finding.id_number == mother.id_number
    assert finding.overpaid_amount == 3 * 1040 / 2  # August, September, October 2026; her share of two covered


def test_duplicate_benefit_skips_declared_member_not_covered_while_on_tekun(county):
    head = county.person(name="冯大成", born="1975-04-04")
    mother = county.person(name="陈素珍", born="1945-03-08", sex="女", household_no=head.household_no, relation="母亲")
    county.dibao_case("DB0001", head, [(head, True), (mother, False)], start="2019-01", amount=1040)
    county.pay(head, programme="dibao", months=("2024-11", "2026-10"), amount=1040, case_no="DB0001")
    county.tekun(mother, case_no="TK0001", start="2026-08", amount=700, mode="集中")
    county.pay(mother, programme="tekun", months=("2026-08", "2026-10"), amount=700, case_no="TK0001")
    assert run_check("duplicate_benefit", county) == []


def test_duplicate_benefit_recovers_the_later_of_two_dibao_cases(county):
    father = county.person(name="冯长顺", born="1947-12-01")
    son = county.person(name="冯小军", born="1976-06-06")  # registered in his own household
    county.dibao_case("DB0001", father, [(father, True)], start="2019-01", amount=480)
    county.pay(father, programme="dibao", months=("2024-11", "2026-10"), amount=480, case_no="DB0001")
    county.dibao_case("DB0002", son, [(son, True), (father, True)], start="2026-06", amount=1000)
    county.pay(son, programme="dibao", months=("2026-06", "2026-10"), amount=1000, case_no="DB0002")
    (finding,) = run_check("duplicate_benefit", county)
    assert finding.id_number == father.id_number
    assert finding.case_no == "DB0001、DB0002"
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-10")
    assert finding.overpaid_amount == 5 * 1000 / 2  # June … October 2026; his share of DB0002, the later case


def test_duplicate_benefit_recovers_every_repeated_line_beyond_the_first(county):
    person = county.person(name="冯长顺", born="1947-12-01")
    county.tekun(person, case_no="TK0001", start="2020-01", amount=700)
    county.pay(person, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no="TK0001")
    county.pay(person, programme="tekun", months=("2026-09", "2026-09"), amount=700, case_no="TK0001")
    (finding,) = run_check("duplicate_benefit", county)
    assert (finding.period_start, finding.period_end) == ("2026-09", "2026-09")
    assert finding.overpaid_amount == 1 * 700  # the second September line


def test_duplicate_benefit_skips_lines_of_different_programmes_in_one_month(county):
    person = county.person(name="郑国庆", born="1961-10-01")
    number = county.certificate(person, category="肢体", grade=1)
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-10"), amount=80, case_no=number)
    county.pay(person, programme="care_subsidy", months=("2026-01", "2026-10"), amount=100, case_no=number)
    assert run_check("duplicate_benefit", county) == []


def test_duplicate_benefit_counts_only_months_inside_the_window(county):
    person = county.person(name="冯长顺", born="1947-12-01")
    county.dibao_case("DB0001", person, [(person, True)], start="2019-01", amount=520)
    county.pay(person, programme="dibao", months=("2024-01", "2026-10"), amount=520, case_no="DB0001")
    county.tekun(person, case_no="TK0001", start="2020-01", amount=700)
    (finding,) = run_check("duplicate_benefit", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2026-10")
    assert finding.overpaid_amount == 24 * 520  # November 2024 … October 2026; earlier lines are not evidenced


def test_duplicate_benefit_ends_with_the_death_month(county):
    # the October line, after his death, is deceased_paid's, not a duplicate
    dibao_then_tekun(county, died="2026-09-10")
    (finding,) = run_check("duplicate_benefit", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-09")
    assert finding.overpaid_amount == 2 * 520  # August, September 2026


def test_duplicate_benefit_recovers_a_line_once_when_two_kinds_meet(county):
    person = dibao_then_tekun(county)
    county.pay(person, programme="dibao", months=("2026-09", "2026-09"), amount=520, case_no="DB0001")  # paid twice
    (finding,) = run_check("duplicate_benefit", county)
    # August 1 line, September 2 lines, October 1 line: each dibao line overpaid once, while on tekun
    assert finding.overpaid_amount == 4 * 520


def test_duplicate_benefit_recovers_one_share_of_a_member_listed_twice_after_a_name_correction(county):
    head = county.person(name="冯大成", born="1975-04-04")
    mother = county.person(name="陈素珍", born="1945-03-08", sex="女", household_no=head.household_no, relation="母亲")
    county.dibao_case("DB0001", head, [(head, True), (replace(mother, name="陈淑珍"), True), (mother, True)], start="2019-01",
                      amount=1040)
    county.pay(head, programme="dibao", months=("2024-11", "2026-10"), amount=1040, case_no="DB0001")
    county.tekun(mother, case_no="TK0001", start="2026-08", amount=700, mode="集中")
    county.pay(mother, programme="tekun", months=("2026-08", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("duplicate_benefit", county)
    assert finding.id_number == mother.id_number
    assert finding.overpaid_amount == 3 * 1040 / 2  # August … October 2026; her share of two members, not of three rows


def test_duplicate_benefit_skips_a_member_listed_twice_after_a_start_month_correction(county):
    person = county.person(name="冯长顺", born="1967-12-01")
    county.dibao_case("DB0000", person, [(person, True)], start="2015-01", stopped="2018-12", amount=400)  # an earlier case
    county.dibao_case("DB0001", person, [(person, True)], start="2019-01", amount=520)
    county.dibao_case("DB0001", person, [(person, True)], start="2019-03", amount=520)  # the corrected copy
    county.pay(person, programme="dibao", months=("2024-11", "2026-10"), amount=520, case_no="DB0001")
    assert run_check("duplicate_benefit", county) == []


def test_duplicate_benefit_recovers_the_later_case_once_when_a_member_is_listed_twice_on_it(county):
    father = county.person(name="冯长顺", born="1947-12-01")
    son = county.person(name="冯小军", born="1976-06-06")  # registered in his own household
    county.dibao_case("DB0001", father, [(father, True)], start="2019-01", amount=480)
    county.pay(father, programme="dibao", months=("2024-11", "2026-10"), amount=480, case_no="DB0001")
    county.dibao_case("DB0002", son, [(son, True), (father, True), (replace(father, name="冯常顺"), True)], start="2026-06",
                      amount=1000)
    county.pay(son, programme="dibao", months=("2026-06", "2026-10"), amount=1000, case_no="DB0002")
    (finding,) = run_check("duplicate_benefit", county)
    assert finding.id_number == father.id_number
    assert finding.case_no == "DB0001、DB0002"
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-10")
    assert finding.overpaid_amount == 5 * 1000 / 2  # June … October 2026; his share of DB0002's two members, not three rows

