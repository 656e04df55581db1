"""deceased_paid 死亡人员仍领取: lines for months after the death month, every programme."""

from tests.county import run_check


def test_deceased_paid_counts_each_month_after_death(county):
    person = county.person(died="2026-03-15")
    county.pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    (finding,) = run_check("deceased_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-04", "2026-06")
    assert finding.overpaid_amount == 3 * 600  # April, May, June
    assert finding.id_number == person.id_number
    assert finding.link_confidence == 1.0


def test_deceased_paid_ignores_payment_in_death_month(county):
    person = county.person(died="2026-03-15")
    county.pay(person, programme="tekun", months=("2026-01", "2026-03"), amount=600)
    assert run_check("deceased_paid", county) == []


def test_deceased_paid_sums_programmes_into_one_finding_per_person(county):
    person = county.person(died="2026-05-31")
    county.pay(person, programme="tekun", months=("2026-01", "2026-07"), amount=900)
    county.pay(person, programme="care_subsidy", months=("2026-01", "2026-08"), amount=100, case_no=person.id_number + "41")
    (finding,) = run_check("deceased_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-08")
    # tekun June, July = 2 × 900; care subsidy June, July, August = 3 × 100
    assert finding.overpaid_amount == 2 * 900 + 3 * 100
    assert "特困供养金" in finding.evidence and "重度残疾人护理补贴" in finding.evidence


def test_deceased_paid_known_only_from_cremation_record(county):
    person = county.person()  # the register still says 正常: it is updated late
    county.cremate(person, "2026-07-02", age=77)
    county.pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=600)
    (finding,) = run_check("deceased_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.overpaid_amount == 3 * 600  # August, September, October
    assert "火化记录" in finding.evidence


def test_deceased_paid_uses_the_earlier_of_register_and_cremation_dates(county):
    person = county.person(died="2026-06-20")  # registered a month late
    county.cremate(person, "2026-05-18")
    county.pay(person, programme="tekun", months=("2026-04", "2026-07"), amount=600)
    (finding,) = run_check("deceased_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-07")
    assert finding.overpaid_amount == 2 * 600  # June, July: May is the death month


def test_deceased_paid_counts_only_months_inside_the_window(county):
    # as_of 2026-10 with a 24-month window: 2024-11 … 2026-10
    person = county.person(died="2024-02-10")
    county.pay(person, programme="tekun", months=("2024-01", "2025-01"), amount=500)
    (finding,) = run_check("deceased_paid", county)
    assert (finding.period_start, finding.period_end) == ("2024-11", "2025-01")
    assert finding.overpaid_amount == 3 * 500  # Nov, Dec 2024, Jan 2025; earlier months are not evidenced


def test_deceased_paid_single_inclusion_member_died_while_head_keeps_receiving(county):
    head = county.person(name="王大山")
    son = county.person(name="王小山", born="1985-03-03", died="2026-04-11", household_no=head.household_no, relation="子")
    county.dibao_case("DB0002", head, [(head, False), (son, True)], inclusion="单人", amount=520)
    county.pay(head, programme="dibao", months=("2026-01", "2026-09"), amount=520, case_no="DB0002")
    (finding,) = run_check("deceased_paid", county)
    assert finding.id_number == son.id_number  # the beneficiary, not the head who receives the money
    assert (finding.period_start, finding.period_end) == ("2026-05", "2026-09")
    assert finding.overpaid_amount == 5 * 520  # May … September, the whole line: he was the only covered member


def test_deceased_paid_dibao_share_of_a_dead_covered_member(county):
    head = county.person(name="王大山")
    wife = county.person(name="李秀英", sex="女", died="2026-02-10", household_no=head.household_no, relation="配偶")
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    county.pay(head, programme="dibao", months=("2025-11", "2026-05"), amount=1040, case_no="DB0001")
    (finding,) = run_check("deceased_paid", county)
    assert finding.id_number == wife.id_number
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-05")
    assert finding.overpaid_amount == 3 * 1040 / 2  # March, April, May; her share of a 2-person case
    assert finding.case_no == "DB0001"


def test_deceased_paid_skips_dead_member_not_covered_by_the_case(county):
    head = county.person(name="王大山")
    father = county.person(name="王老汉", born="1930-01-01", died="2026-02-10", household_no=head.household_no, relation="父亲")
    county.dibao_case("DB0003", head, [(head, True), (father, False)], amount=520)
    county.pay(head, programme="dibao", months=("2025-11", "2026-05"), amount=520, case_no="DB0003")
    assert run_check("deceased_paid", county) == []


def test_deceased_paid_skips_living_namesake_of_a_dead_person(county):
    dead = county.person(name="张伟", died="2026-02-10")
    alive = county.person(name="张伟", born="1951-07-07")
    county.pay(alive, programme="tekun", months=("2026-01", "2026-10"), amount=600)
    county.pay(dead, programme="tekun", months=("2026-01", "2026-02"), amount=600)
    assert run_check("deceased_paid", county) == []


def test_deceased_paid_case_key_is_stable_and_ignores_row_numbers(county, tmp_path):
    person = county.person(died="2026-03-15")
    county.pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    (first,) = run_check("deceased_paid", county)
    county.person(name="另一人")  # shifts nothing about this finding but the rows around it
    county.pay(person, programme="tekun", months=("2026-07", "2026-08"), amount=600)
    (second,) = run_check("deceased_paid", county)
    assert first.case_key == second.case_key
    assert second.overpaid_amount == 5 * 600


def test_deceased_paid_finds_a_death_known_only_through_a_fuzzy_cremation_link(county):
    from tests.unit.test_linking import villagers

    villagers(county)
    person = county.person(name="郝立琳", born="1954-08-12", sex="女")  # the register still says 正常
    county.cremate(person, "2026-07-13", id_number=None, name="郝立林", age=72)  # 虚岁, same-sound name
    county.pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=600)
    (finding,) = run_check("deceased_paid", county)
    assert finding.id_number == person.id_number
    assert (finding.period_start, finding.period_end) == ("2026-08", "2026-10")
    assert finding.overpaid_amount == 3 * 600  # August, September, October
    assert "概率匹配" in finding.evidence
    assert 0.95 <= finding.link_confidence < 1.0
