"""cross_duplicate_benefit 跨县重复享受: the same person paid for one month by two counties."""

import pytest

from tests.cross_county import Province, run_cross_checks

CODE = "cross_duplicate_benefit"
A, B, C = "130501", "130502", "130503"


@pytest.fixture
def province(tmp_path):
    return Province(tmp_path / "store")


def findings(province):
    return run_cross_checks(province, code=CODE)


def test_cross_duplicate_benefit_recovers_the_dibao_share_beside_another_countys_tekun(province):
    person = province.person(name="周福来", born="1945-12-01")
    province.live(B, person)
    province.county(B).pay(person, programme="tekun", months=("2026-01", "2026-10"), amount=700, start="2024-01")
    # A's 2-member dibao case, 600 a month, started later in A but the rule is the same either way
    province.county(A).pay(person, programme="dibao", months=("2026-03", "2026-10"), amount=600, covered=2,
                           case_no="DB-A1", start="2023-06")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (A, B)  # tekun stays, even though dibao began first
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-10")
    assert finding.overpaid_amount == 8 * 300  # March to October, the person's half of 600
    assert finding.case_no == "DB-A1"
    assert "特困" in finding.evidence and "按保障人数 2 人分摊" in finding.evidence and B in finding.evidence


def test_cross_duplicate_benefit_skips_dibao_stopped_the_month_before_tekun(province):
    person = province.person(name="周福来", born="1945-12-01")
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-04"), amount=600, covered=2)
    province.county(B).pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=700)
    assert findings(province) == []


def test_cross_duplicate_benefit_leaves_a_countys_own_dibao_and_tekun_to_it(province):
    person = province.person(name="周福来", born="1945-12-01")
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-04"), amount=600, covered=2)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-04"), amount=700)
    assert findings(province) == []


def test_cross_duplicate_benefit_takes_the_later_started_of_two_dibao_cases(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-06"), amount=500, start="2021-03")
    province.county(B).pay(person, programme="dibao", months=("2026-04", "2026-10"), amount=450, covered=3,
                           start="2026-04", case_no="DB-B7")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (B, A)
    assert (finding.period_start, finding.period_end) == ("2026-04", "2026-06")
    assert finding.overpaid_amount == 3 * 150  # April to June, a third of 450


def test_cross_duplicate_benefit_on_the_same_start_keeps_the_county_holding_the_register_record(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.live(B, person)
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-01")
    province.county(B).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-01")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (A, B)
    assert finding.overpaid_amount == 3 * 500


def test_cross_duplicate_benefit_on_the_same_start_and_no_record_takes_the_higher_code(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(person, programme="care_subsidy", months=("2026-01", "2026-02"), amount=100,
                           case_no=person.id_number + "41", start="2025-01")
    province.county(B).pay(person, programme="care_subsidy", months=("2026-01", "2026-02"), amount=100,
                           case_no=person.id_number + "41", start="2025-01")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (B, A)
    assert finding.overpaid_amount == 2 * 100
    assert person.id_number not in finding.evidence


def test_cross_duplicate_benefit_one_finding_per_kind(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-02"), amount=700, start="2025-01")
    province.county(B).pay(person, programme="dibao", months=("2026-01", "2026-02"), amount=400, start="2025-01")
    province.county(B).pay(person, programme="living_subsidy", months=("2026-01", "2026-02"), amount=80,
                           case_no=person.id_number + "43", start="2025-06")
    province.county(A).pay(person, programme="living_subsidy", months=("2026-01", "2026-02"), amount=80,
                           case_no=person.id_number + "43", start="2025-02")
    found = sorted((f.county, f.other_county, f.overpaid_amount) for f in findings(province))
    assert found == [(B, A, 2 * 80), (B, A, 2 * 400)]
    assert len({f.case_key for f in findings(province)}) == 2


def test_cross_duplicate_benefit_skips_a_number_held_under_another_name(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-01")
    # B pays the same number to someone of another name: a mistyped number, not the same person
    province.county(B).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-06",
                           name="郑国强")
    assert findings(province) == []


def test_cross_duplicate_benefit_matches_a_name_of_the_same_sound(province):
    person = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-01")
    province.county(B).pay(person, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-06",
                           name="吴桂枝")
    (finding,) = findings(province)
    assert (finding.county, finding.name) == (B, "吴桂枝")
    assert "姓名同音" in finding.evidence
