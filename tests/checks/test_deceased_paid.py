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
