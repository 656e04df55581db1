"""identity_anomaly 身份信息异常: a recipient (ledger payee in the window 2024-11 … 2026-10, covered member
of an active dibao case, or active on tekun) whose number fails its check and cannot be repaired to a
register person, whose register number contradicts the register's birth date or sex, or who would be
older than 110 at as_of (2026-10)."""

import datetime as dt

from hecha.matching.id_number import check_character, make_id_number
from tests.county import AREA, Member, run_check

FULL_WIDTH = {str(digit): chr(0xFF10 + digit) for digit in range(10)}


def number_of(born: str, sequence: int) -> str:
    return make_id_number(AREA, dt.date.fromisoformat(born), sequence)


def one_wrong_character(number: str) -> str:
    """The number with its check character mistyped: one substitution, and it fails its check."""
    return number[:17] + ("1" if number[17] != "1" else "2")


def bystanders(county):
    """Two register people, paid under their own numbers, nobody's near miss (other names, sex, births, village).

    The fuzzy linker, which sees rows left without a usable number, needs a population to compare
    them with and known matches to learn from.
    """
    for name, born in (("欧阳明月", "1988-12-24"), ("司马晓雯", "1991-06-30")):
        person = county.person(name=name, born=born, sex="女", village="西关村")
        county.pay(person, programme="living_subsidy", months=("2026-05", "2026-10"), amount=80, case_no=person.id_number + "43")


def test_identity_anomaly_finds_unregistered_payee_with_an_unrepairable_number(county):
    bystanders(county)
    written = one_wrong_character(number_of("1952-03-14", 137))
    payee = county.person(name="尤金宝", born="1952-03-14", registered=False, id_number=written)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == written  # no register person: the number as written
    assert (finding.period_start, finding.period_end) == ("2026-10", "2026-10")
    assert finding.overpaid_amount == 0 and finding.backpay_amount == 0


def test_identity_anomaly_reports_the_written_number_cleaned(county):
    bystanders(county)
    first17 = number_of("1952-03-14", 137)[:17]
    assert check_character(first17) != "X"
    written = "".join(FULL_WIDTH[c] for c in first17) + "x"  # full-width digits, lower-case x: still fails its check
    payee = county.person(name="尤金宝", born="1952-03-14", registered=False, id_number=written)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == first17 + "X"


def test_identity_anomaly_skips_number_one_wrong_character_from_a_register_person(county):
    bystanders(county)
    registered = number_of("1952-03-14", 137)
    payee = county.person(name="尤金宝", born="1952-03-14", id_number=registered)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001",
               id_number=one_wrong_character(registered))
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_skips_number_with_two_neighbouring_digits_swapped(county):
    bystanders(county)
    registered = number_of("1952-03-14", 137)
    swapped = registered[:14] + registered[15] + registered[14] + registered[16:]  # sequence 137 typed 317
    assert check_character(swapped[:17]) != swapped[17]  # the swap fails its check
    payee = county.person(name="尤金宝", born="1952-03-14", id_number=registered)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001", id_number=swapped)
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_skips_15_digit_number_of_a_register_person(county):
    bystanders(county)
    registered = number_of("1952-03-14", 137)
    first_generation = registered[:6] + registered[8:17]  # two-digit year, no check character
    payee = county.person(name="尤金宝", born="1952-03-14", id_number=registered)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001", id_number=first_generation)
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_skips_payee_paid_only_before_the_window(county):
    bystanders(county)
    written = one_wrong_character(number_of("1952-03-14", 137))
    payee = county.person(name="尤金宝", born="1952-03-14", registered=False, id_number=written)
    county.pay(payee, programme="tekun", months=("2024-05", "2024-10"), amount=700, case_no="TK0001")
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_finds_register_number_contradicting_the_birth_date(county):
    person = county.person(name="施德胜", born="1950-05-06", id_born="1950-06-05")
    county.pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == person.id_number
    assert "19500605" in person.id_number
    days_apart = (dt.date(1950, 6, 5) - dt.date(1950, 5, 6)).days  # the same age at as_of: no years to state
    assert f"出生日期与户籍登记出生日期不一致（相差 {days_apart} 天）" in finding.evidence


def test_identity_anomaly_evidence_gives_neither_birth_date(county):
    """Beside the masked number either date would give away its hidden digits: the evidence states the gap only."""
    person = county.person(name="施德胜", born="1950-05-06", id_born="1938-11-23")
    county.pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    digits = "".join(c for c in finding.evidence if c.isdigit())
    for born in (dt.date(1950, 5, 6), dt.date(1938, 11, 23)):
        for written in (f"{born:%Y%m%d}", f"{born.year}{born.month}{born.day}", f"{born:%y%m%d}"):
            assert written not in digits
    days_apart = (dt.date(1950, 5, 6) - dt.date(1938, 11, 23)).days
    number_age = 2026 - 1938 - 1  # on 2026-10-31, the 23 November birthday is still to come
    register_age = 2026 - 1950  # the 6 May one has passed
    assert f"（相差 {days_apart} 天，年龄相差 {number_age - register_age} 岁）" in finding.evidence


def test_identity_anomaly_finds_register_number_contradicting_the_sex(county):
    person = county.person(name="施秀珍", sex="女", id_sex="男")  # odd sequence digit for a woman
    county.pay(person, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == person.id_number
    assert "女" in finding.evidence


def test_identity_anomaly_skips_register_contradiction_of_a_non_recipient(county):
    county.person(name="施德胜", born="1950-05-06", id_born="1950-06-05")
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_skips_lunar_birthday_in_the_dibao_roster(county):
    person = county.person(name="施德胜", born="1950-05-06")
    # the roster writes the lunar birthday; the register and the number agree
    county.dibao_case("DB0001", person, [Member(person, True, born="1950-03-20")], amount=520)
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_finds_recipient_older_than_110(county):
    person = county.person(name="施百岁", born="1913-03-03")  # 113 at as_of
    county.tekun(person, case_no="TK0001", start="2015-01")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == person.id_number


def test_identity_anomaly_skips_recipient_aged_100(county):
    person = county.person(name="施百岁", born="1926-03-03")  # 100 at as_of
    county.tekun(person, case_no="TK0001", start="2015-01")
    assert run_check("identity_anomaly", county) == []


def test_identity_anomaly_finds_unregistered_recipient_whose_number_is_older_than_110(county):
    bystanders(county)
    number = number_of("1905-08-08", 137)  # a valid number; the person would be 121
    payee = county.person(name="尤百年", born="1905-08-08", registered=False, id_number=number)
    county.pay(payee, programme="tekun", months=("2026-05", "2026-10"), amount=700, case_no="TK0001")
    (finding,) = run_check("identity_anomaly", county)
    assert finding.id_number == number
