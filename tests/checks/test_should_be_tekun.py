"""should_be_tekun 该吃五保吃低保: a covered member of an active dibao case who is unable to work,
has no other living, present member in the register household, is not on tekun and signed no
waiver (as_of 2026-10: age is completed years on 2026-10-31)."""

from tests.county import run_check


def old_man_alone(county, *, born="1950-05-06", died=None):
    """76 at as_of, the only person in his register household, covered by 整户 case DB0001."""
    return county.person(name="张守田", born=born, died=died)


def test_should_be_tekun_finds_old_person_alone_on_dibao(county):
    person = old_man_alone(county)
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    (finding,) = run_check("should_be_tekun", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == "DB0001"
    assert (finding.period_start, finding.period_end) == ("2026-10", "2026-10")
    assert finding.overpaid_amount == 0 and finding.backpay_amount == 0
    assert "DB0001" in finding.evidence


def test_should_be_tekun_finds_minor_whose_only_relative_in_the_household_died(county):
    grandfather = county.person(name="刘老根", born="1940-02-02", died="2025-12-01")
    child = county.person(name="刘小宝", born="2014-06-01", household_no=grandfather.household_no, relation="孙子")
    county.dibao_case("DB0001", child, [(child, True)], amount=520)
    (finding,) = run_check("should_be_tekun", county)
    assert finding.id_number == child.id_number
    assert finding.case_no == "DB0001"


def test_should_be_tekun_skips_person_aged_16(county):
    # born 2010-10-31: 16 on 2026-10-31, no longer a minor (under 16 counts)
    child = county.person(name="刘小宝", born="2010-10-31")
    county.dibao_case("DB0001", child, [(child, True)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_finds_adult_with_disability_leaving_no_labour_capacity(county):
    person = county.person(name="赵二成", born="1981-04-04")  # 45: only the disability makes him unable to work
    county.certificate(person, category="智力", grade=3, issued="2021-03-10", valid_until="2031-03-09")
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    (finding,) = run_check("should_be_tekun", county)
    assert finding.id_number == person.id_number
    assert finding.case_no == "DB0001"


def test_should_be_tekun_skips_adult_whose_disability_grade_leaves_labour_capacity(county):
    person = county.person(name="赵二成", born="1981-04-04")
    county.certificate(person, category="肢体", grade=3, issued="2021-03-10", valid_until="2031-03-09")  # 肢体 counts to grade 2
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_adult_whose_certificate_expired_before_as_of(county):
    person = county.person(name="赵二成", born="1981-04-04")
    county.certificate(person, category="智力", grade=3, issued="2016-07-01", valid_until="2026-06-30", status="过期")
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_person_with_another_living_member_in_the_household(county):
    person = old_man_alone(county)
    county.person(name="张小田", born="1978-08-08", household_no=person.household_no, relation="子")
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_member_with_waiver(county):
    person = old_man_alone(county)
    county.dibao_case("DB0001", person, [(person, True)], amount=520, waiver=(person,))
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_person_on_active_tekun(county):
    person = old_man_alone(county)
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    county.tekun(person, start="2026-09")
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_stopped_case(county):
    person = old_man_alone(county)
    county.dibao_case("DB0001", person, [(person, True)], stopped="2026-08", amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_declared_member_not_covered(county):
    person = old_man_alone(county)
    county.dibao_case("DB0001", person, [(person, False)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_skips_person_who_turns_60_after_as_of(county):
    # born 1966-11-01 (as_of year minus 60) but after 2026-10-31: still 59
    person = old_man_alone(county, born="1966-11-01")
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    assert run_check("should_be_tekun", county) == []


def test_should_be_tekun_finds_person_who_turns_60_on_the_last_day_of_as_of(county):
    person = old_man_alone(county, born="1966-10-31")  # 60 on 2026-10-31
    county.dibao_case("DB0001", person, [(person, True)], amount=520)
    (finding,) = run_check("should_be_tekun", county)
    assert finding.id_number == person.id_number
