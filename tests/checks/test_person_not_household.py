"""person_not_household 保人不保户: a 整户 dibao case active at as_of leaves out a living, present
member of the head's register household (as_of 2026-10)."""

from tests.county import run_check


def household_with_uncovered_son(county, *, son_died=None, son_moved_out=None, son_household=None):
    """Head and wife covered by 整户 case DB0001; their son, registered with them, is left out."""
    head = county.person(name="王大山", born="1968-03-02")
    wife = county.person(name="李秀英", born="1970-07-08", sex="女", household_no=head.household_no, relation="配偶")
    son = county.person(name="王小山", born="1995-09-09", household_no=son_household or head.household_no, relation="子",
                        died=son_died, moved_out=son_moved_out)
    return head, wife, son


def test_person_not_household_finds_living_member_left_out_of_whole_household_case(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    (finding,) = run_check("person_not_household", county)
    assert finding.id_number == son.id_number
    assert finding.case_no == "DB0001"
    assert (finding.period_start, finding.period_end) == ("2026-10", "2026-10")
    assert finding.overpaid_amount == 0 and finding.backpay_amount == 0  # no money: it depends on a reassessment
    # the household's composition, so the inspector sees who lives there and who is covered
    for name in (head.name, wife.name, son.name):
        assert name in finding.evidence


def test_person_not_household_finds_declared_member_marked_not_covered(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True), (son, False)], amount=1040)
    (finding,) = run_check("person_not_household", county)
    assert finding.id_number == son.id_number
    assert finding.case_no == "DB0001"


def test_person_not_household_shows_the_registered_poor_roster_in_the_evidence(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    county.poor_household("JD130534007", head, [head, wife, son], household_size=3)
    (finding,) = run_check("person_not_household", county)
    assert finding.id_number == son.id_number
    assert "JD130534007" in finding.evidence


def test_person_not_household_skips_dead_member(county):
    head, wife, son = household_with_uncovered_son(county, son_died="2025-04-03")
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    assert run_check("person_not_household", county) == []


def test_person_not_household_skips_member_who_died_in_the_as_of_month(county):
    # gone by the end of as_of: not living and present at as_of
    head, wife, son = household_with_uncovered_son(county, son_died="2026-10-05")
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    assert run_check("person_not_household", county) == []


def test_person_not_household_skips_moved_out_member(county):
    head, wife, son = household_with_uncovered_son(county, son_moved_out="2025-06-20")
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    assert run_check("person_not_household", county) == []


def test_person_not_household_skips_single_person_case(county):
    # 单人 inclusion is on purpose (a severely disabled adult of a low-income family)
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], inclusion="单人", amount=1040)
    assert run_check("person_not_household", county) == []


def test_person_not_household_skips_member_covered_by_another_active_case(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    county.dibao_case("DB0002", son, [(son, True)], inclusion="单人", amount=520)
    assert run_check("person_not_household", county) == []


def test_person_not_household_finds_member_whose_other_case_stopped(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    county.dibao_case("DB0002", son, [(son, True)], inclusion="单人", stopped="2026-06", amount=520)
    (finding,) = run_check("person_not_household", county)
    assert finding.id_number == son.id_number
    assert finding.case_no == "DB0001"


def test_person_not_household_skips_member_on_active_tekun(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    county.tekun(son, start="2024-03")
    assert run_check("person_not_household", county) == []


def test_person_not_household_skips_case_stopped_before_as_of(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], stopped="2026-09", amount=1040)
    assert run_check("person_not_household", county) == []


def test_person_not_household_case_stopped_in_the_as_of_month_is_still_active(county):
    head, wife, son = household_with_uncovered_son(county)
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], stopped="2026-10", amount=1040)
    (finding,) = run_check("person_not_household", county)
    assert finding.id_number == son.id_number


def test_person_not_household_skips_relative_registered_in_another_household(county):
    head, wife, son = household_with_uncovered_son(county, son_household="H99999")
    county.dibao_case("DB0001", head, [(head, True), (wife, True)], amount=1040)
    assert run_check("person_not_household", county) == []

