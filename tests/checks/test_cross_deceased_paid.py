"""cross_deceased_paid 跨县死亡仍领取: one county pays after a death only another county records."""

import re

import pytest

from hecha.config import load_policy
from tests.cross_county import Province, run_cross_checks

CODE = "cross_deceased_paid"
A, B, C = "130501", "130502", "130503"


@pytest.fixture
def province(tmp_path):
    return Province(tmp_path / "store")


def findings(province, policy=None):
    return run_cross_checks(province, policy, CODE)


def test_cross_deceased_paid_counts_months_after_a_death_registered_in_another_county(province):
    person = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, person, township="坝营乡", village="小高屯村")
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    province.live(B, person, status="死亡", changed="2026-03-15")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (A, B)
    assert (finding.period_start, finding.period_end) == ("2026-04", "2026-06")
    assert finding.overpaid_amount == 3 * 600  # April, May, June
    assert finding.backpay_amount == 0
    assert (finding.id_number, finding.name, finding.township, finding.village) == (person.id_number, "李秀英", "坝营乡", "小高屯村")
    assert finding.link_confidence == 1.0 and not finding.needs_confirmation
    assert B in finding.evidence and "死亡" in finding.evidence and "2026-03" in finding.evidence
    assert "特困供养金" in finding.evidence and "身份证号一致" in finding.evidence


def test_cross_deceased_paid_evidence_shows_no_birth_date_and_no_number(province):
    person = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    province.live(B, person, status="死亡", changed="2026-03-15")
    (finding,) = findings(province)
    assert "1940" not in finding.evidence and "19400302" not in finding.evidence
    assert person.id_number[:6] not in finding.evidence  # not even masked: the number is said to agree
    assert not re.search(r"\d{15,}", finding.evidence)


def test_cross_deceased_paid_from_a_cremation_record_bearing_the_number(province):
    person = province.person(name="王金山", born="1937-10-19")
    province.live(A, person)
    province.county(A).pay(person, programme="care_subsidy", months=("2026-02", "2026-08"), amount=100,
                           case_no=person.id_number + "41")
    province.county(B).cremate(person, "2026-05-20", age=89, address="外省某县某镇", record_no="HH2026007")
    (finding,) = findings(province)
    assert (finding.county, finding.other_county) == (A, B)
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-08")
    assert finding.overpaid_amount == 3 * 100  # June, July, August
    assert "HH2026007" in finding.evidence and "火化记录" in finding.evidence
    # the certificate number embeds the citizen number: never printed
    assert person.id_number not in finding.evidence


def test_cross_deceased_paid_recovers_the_dead_members_share_of_dibao(province):
    person = province.person(name="赵桂兰", sex="女", born="1944-01-09")
    province.live(A, person)
    # a 3-member case paid 900 a month: the dead member's share is 300
    province.county(A).pay(person, programme="dibao", months=("2026-01", "2026-05"), amount=900, covered=3, case_no="DB001")
    province.live(B, person, status="死亡", changed="2026-02-11")
    (finding,) = findings(province)
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-05")
    assert finding.overpaid_amount == 3 * 300  # March, April, May × 900 / 3
    assert "按保障人数 3 人分摊" in finding.evidence


def test_cross_deceased_paid_takes_the_earliest_death_of_other_counties(province):
    person = province.person(name="孙玉珍", sex="女", born="1938-07-07")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-08"), amount=500)
    province.live(B, person, status="死亡", changed="2026-06-02")  # the register is updated late
    province.county(C).cremate(person, "2026-04-28", age=88, address="某地")
    (finding,) = findings(province)
    assert finding.other_county == C
    assert (finding.period_start, finding.period_end) == ("2026-05", "2026-08")
    assert finding.overpaid_amount == 4 * 500  # May to August


def test_cross_deceased_paid_matches_a_name_of_the_same_sound(province):
    person = province.person(name="王丽", sex="女", born="1950-01-01")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-04"), amount=600)
    province.live(B, person, status="死亡", changed="2026-02-03", name="王莉")
    (finding,) = findings(province)
    assert finding.overpaid_amount == 2 * 600  # March, April
    assert "姓名同音" in finding.evidence and "王莉" in finding.evidence


def test_cross_deceased_paid_skips_a_valid_number_written_with_another_name(province):
    person = province.person(name="王丽", sex="女", born="1950-01-01")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-04"), amount=600)
    # another county's register holds the number under someone else's name: not this person
    province.live(B, person, status="死亡", changed="2026-02-03", name="张建国")
    assert findings(province) == []


def test_cross_deceased_paid_skips_a_death_in_the_paying_county_itself(province):
    person = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    # the paying county's own cremation record, its own linker left unlinked: not a cross-county matter
    province.county(A).cremate(person, "2026-03-15", age=86, address="清河县城关镇东关村", numbered=False)
    assert findings(province) == []


def test_cross_deceased_paid_skips_a_death_the_payer_itself_knows(province):
    person = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, person, status="死亡", changed="2026-04-01")  # the payer's own deceased_paid raises it
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    province.county(B).cremate(person, "2026-03-15", age=86, address="某地")
    assert findings(province) == []


def test_cross_deceased_paid_ignores_payment_in_the_death_month(province):
    person = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, person)
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-03"), amount=600)
    province.live(B, person, status="死亡", changed="2026-03-15")
    assert findings(province) == []


# ---------------------------------------------------------------- cremation records without a number

def unnumbered_case(province, *, address="清河县坝营乡小高屯村", age=87, sex=None, name=None):
    """A person A pays, living in 坝营乡小高屯村, cremated in B on a record without a number."""
    person = province.person(name="贾树江", born="1939-02-10")
    province.live(A, person, township="坝营乡", village="小高屯村")
    province.county(A).pay(person, programme="tekun", months=("2026-01", "2026-07"), amount=700)
    # died 2026-04-12 aged 87 in full years (虚岁 88)
    province.county(B).cremate(person, "2026-04-12", age=age, address=address, numbered=False, sex=sex, name=name,
                               record_no="HH0042")
    return person


def test_cross_deceased_paid_from_a_cremation_record_without_a_number(province):
    person = unnumbered_case(province)
    (finding,) = findings(province)
    assert (finding.county, finding.other_county, finding.id_number) == (A, B, person.id_number)
    assert (finding.period_start, finding.period_end) == ("2026-05", "2026-07")
    assert finding.overpaid_amount == 3 * 700  # May, June, July
    policy = load_policy()
    assert finding.link_confidence == policy["province"]["unnumbered_cremation"]["same_name_confidence"]
    assert not finding.needs_confirmation
    assert "HH0042" in finding.evidence and "无可用身份证号" in finding.evidence
    assert "坝营乡小高屯村" in finding.evidence and "仅此一人" in finding.evidence


def test_cross_deceased_paid_accepts_the_traditional_age(province):
    unnumbered_case(province, age=88)  # 虚岁: one year above full age
    (finding,) = findings(province)
    assert "虚岁" in finding.evidence


def test_cross_deceased_paid_asks_to_confirm_a_name_only_of_the_same_sound(province):
    unnumbered_case(province, name="贾树疆")
    (finding,) = findings(province)
    assert finding.link_confidence == load_policy()["province"]["unnumbered_cremation"]["same_sound_confidence"]
    assert finding.needs_confirmation


@pytest.mark.parametrize(("description", "change"), [
    ("another sex", {"sex": "女"}),
    ("another age", {"age": 80}),
    ("an address in another village of the township", {"address": "清河县坝营乡北贾庄村"}),
    ("an address in another county", {"address": "威县贺营镇前屯村"}),
])
def test_cross_deceased_paid_skips_a_namesake_that_disagrees(province, description, change):
    unnumbered_case(province, **change)
    assert findings(province) == [], description


def test_cross_deceased_paid_skips_a_record_two_people_of_the_province_could_be(province):
    unnumbered_case(province)
    # same name, sex and age, registered in another county under places of the same names as the address's
    namesake = province.person(name="贾树江", born="1939-08-30", area="130533")
    province.live(C, namesake, township="坝营乡", village="小高屯村")
    assert findings(province) == []


def test_cross_deceased_paid_skips_a_record_a_namesake_of_no_known_place_could_be(province):
    unnumbered_case(province)
    namesake = province.person(name="贾树江", born="1939-08-30", area="130533")
    province.live(C, namesake, township=None, village=None)
    assert findings(province) == []


def test_cross_deceased_paid_matches_past_a_namesake_registered_where_the_address_does_not_say(province):
    person = unnumbered_case(province)
    namesake = province.person(name="贾树江", born="1939-08-30", area="130533")  # same name, sex and age
    province.live(C, namesake, township="贺营镇", village="前屯村")
    (finding,) = findings(province)
    assert (finding.county, finding.id_number) == (A, person.id_number)


def test_cross_deceased_paid_skips_a_namesake_born_years_apart(province):
    unnumbered_case(province)
    other = province.person(name="贾树江", born="1962-08-30", area="130533")  # same name, another generation
    province.live(C, other)
    assert len(findings(province)) == 1
