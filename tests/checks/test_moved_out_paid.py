"""moved_out_paid 迁出仍领取: lines for months after the register's move-out month."""

from tests.county import run_check


def test_moved_out_paid_counts_each_month_after_move_out(county):
    person = county.person(moved_out="2026-02-27")
    county.pay(person, programme="living_subsidy", months=("2026-01", "2026-05"), amount=80, case_no=person.id_number + "43")
    (finding,) = run_check("moved_out_paid", county)
    assert (finding.period_start, finding.period_end) == ("2026-03", "2026-05")
    assert finding.overpaid_amount == 3 * 80  # March, April, May
    assert "迁出" in finding.evidence


def test_moved_out_paid_ignores_payment_in_move_out_month(county):
    person = county.person(moved_out="2026-02-27")
    county.pay(person, programme="tekun", months=("2026-01", "2026-02"), amount=600)
    assert run_check("moved_out_paid", county) == []


def test_moved_out_paid_is_not_raised_for_a_death(county):
    person = county.person(died="2026-02-27")
    county.pay(person, programme="tekun", months=("2026-01", "2026-05"), amount=600)
    assert run_check("moved_out_paid", county) == []


def test_moved_out_then_died_counts_each_line_once_under_the_earlier_event(county):
    person = county.person(moved_out="2026-02-10")
    county.cremate(person, "2026-04-03")
    county.pay(person, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    (moved,) = run_check("moved_out_paid", county)
    assert (moved.period_start, moved.period_end) == ("2026-03", "2026-06")
    assert moved.overpaid_amount == 4 * 600  # March … June, all after the move-out
    assert run_check("deceased_paid", county) == []  # the same lines are not counted twice
