"""status_mismatch 系统状态不一致: a registered-poor household whose 兜底保障 differs from the rosters at
as_of (2026-10): 特困 if a listed member is on active tekun, else 低保 if one is covered by an active
dibao case (单人 counts), else 无. One finding per household, on its 户主."""

from tests.county import run_check


def poor_family(county):
    """Head and his mother, listed together in registered-poor household JD0001."""
    head = county.person(name="韩立新", born="1966-02-02")
    mother = county.person(name="褚秀云", born="1944-09-09", sex="女", household_no=head.household_no, relation="母亲")
    return head, mother


def test_status_mismatch_finds_household_on_dibao_marked_none(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], amount=1040)
    county.poor_household("JD0001", head, [head, mother], safety_net="无")
    (finding,) = run_check("status_mismatch", county)  # one finding per household, not per member
    assert finding.id_number == head.id_number
    assert finding.case_no == "JD0001"
    assert (finding.period_start, finding.period_end) == ("2026-10", "2026-10")
    assert finding.overpaid_amount == 0 and finding.backpay_amount == 0
    assert "DB0001" in finding.evidence  # the roster entry behind what the household should be marked


def test_status_mismatch_skips_household_whose_status_agrees(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], amount=1040)
    county.poor_household("JD0001", head, [head, mother], safety_net="低保")
    assert run_check("status_mismatch", county) == []


def test_status_mismatch_counts_a_single_person_case(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, False), (mother, True)], inclusion="单人", amount=520)
    county.poor_household("JD0001", head, [head, mother], safety_net="低保")
    assert run_check("status_mismatch", county) == []


def test_status_mismatch_tekun_outranks_dibao(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True)], inclusion="单人", amount=520)
    county.tekun(mother, case_no="TK0001", start="2023-05")
    county.poor_household("JD0001", head, [head, mother], safety_net="低保")
    (finding,) = run_check("status_mismatch", county)
    assert finding.id_number == head.id_number
    assert "TK0001" in finding.evidence or mother.name in finding.evidence


def test_status_mismatch_skips_household_marked_tekun_with_a_member_on_tekun(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True)], inclusion="单人", amount=520)
    county.tekun(mother, case_no="TK0001", start="2023-05")
    county.poor_household("JD0001", head, [head, mother], safety_net="特困")
    assert run_check("status_mismatch", county) == []


def test_status_mismatch_finds_household_marked_dibao_after_the_case_stopped(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], stopped="2026-09", amount=1040)
    county.poor_household("JD0001", head, [head, mother], safety_net="低保")
    (finding,) = run_check("status_mismatch", county)
    assert finding.id_number == head.id_number


def test_status_mismatch_case_stopped_in_the_as_of_month_is_still_active(county):
    head, mother = poor_family(county)
    county.dibao_case("DB0001", head, [(head, True), (mother, True)], stopped="2026-10", amount=1040)
    county.poor_household("JD0001", head, [head, mother], safety_net="低保")
    assert run_check("status_mismatch", county) == []


def test_status_mismatch_finds_household_marked_tekun_after_tekun_ended(county):
    head, mother = poor_family(county)
    county.tekun(mother, case_no="TK0001", start="2023-05", stopped="2026-05")
    county.poor_household("JD0001", head, [head, mother], safety_net="特困")
    (finding,) = run_check("status_mismatch", county)
    assert finding.id_number == head.id_number


def test_status_mismatch_ignores_register_relatives_not_listed_by_the_poverty_system(county):
    head, mother = poor_family(county)
    brother = county.person(name="韩立国", born="1962-12-12", household_no=head.household_no, relation="兄弟")
    county.tekun(brother, case_no="TK0001", start="2023-05")
    county.poor_household("JD0001", head, [head, mother], safety_net="无")
    assert run_check("status_mismatch", county) == []
