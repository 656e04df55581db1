"""cross_moved_out_paid 跨县迁出仍领取: paid after another county's 迁出, with no county holding the person now."""

import pytest

from tests.cross_county import Province, run_cross_checks

CODE = "cross_moved_out_paid"
A, B, C = "130501", "130502", "130503"


@pytest.fixture
def province(tmp_path):
    return Province(tmp_path / "store")


def findings(province):
    return run_cross_checks(province, code=CODE)


def moved_away(province, *, paid_until="2026-09"):
    """A pays a person its register does not hold; B's register says they moved out in 2026-05."""
    person = province.person(name="刘美梅", sex="女", born="1958-08-13")
    province.county(A).pay(person, programme="living_subsidy", months=("2026-01", paid_until), amount=80,
                           case_no=person.id_number + "42")
    province.live(B, person, status="迁出", changed="2026-05-20")
    return person


def test_cross_moved_out_paid_counts_months_after_a_move_out_to_nowhere(province):
    person = moved_away(province)
    (finding,) = findings(province)
    assert (finding.county, finding.other_county, finding.id_number) == (A, B, person.id_number)
    assert (finding.period_start, finding.period_end) == ("2026-06", "2026-09")
    assert finding.overpaid_amount == 4 * 80  # June to September
    assert "迁出" in finding.evidence and "2026-05" in finding.evidence and B in finding.evidence
    assert finding.link_confidence == 1.0 and not finding.needs_confirmation
    assert person.id_number not in finding.evidence  # the certificate number is masked


def test_cross_moved_out_paid_skips_a_person_registered_normal_in_another_county(province):
    person = moved_away(province)
    province.live(C, person)  # moved from B to C: still in the province
    assert findings(province) == []


def test_cross_moved_out_paid_skips_a_person_the_payer_registers_normal(province):
    person = moved_away(province)
    province.live(A, person)  # moved from B to the paying county itself
    assert findings(province) == []


def test_cross_moved_out_paid_skips_a_move_out_the_payer_itself_knows(province):
    person = moved_away(province)
    province.live(A, person, status="迁出", changed="2026-06-30")  # its own moved_out_paid raises it
    assert findings(province) == []


def test_cross_moved_out_paid_leaves_the_moving_countys_own_payments_to_it(province):
    person = moved_away(province)
    province.county(B).pay(person, programme="tekun", months=("2026-01", "2026-09"), amount=600)
    # B's own moved_out_paid raises what B paid; only A's payments are a cross-county finding
    (finding,) = findings(province)
    assert finding.county == A


def test_cross_moved_out_paid_ignores_payment_stopped_in_the_move_out_month(province):
    moved_away(province, paid_until="2026-05")
    assert findings(province) == []


def test_cross_moved_out_paid_leaves_a_person_who_died_elsewhere_to_the_death_check(province):
    person = moved_away(province)
    province.live(C, person, status="死亡", changed="2026-08-03")  # moved from B to C and died there
    assert findings(province) == []
    (death,) = run_cross_checks(province, code="cross_deceased_paid")
    assert (death.other_county, death.period_start, death.period_end) == (C, "2026-09", "2026-09")
