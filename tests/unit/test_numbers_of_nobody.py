"""A well-formed citizen number that no register person holds is evidence, not identity.

A mistyped 15-digit number upgrades to a valid number of nobody; a wrong
division code with the check character recomputed, or two slips that keep a
valid check character, do the same for 18-digit numbers. Such a row links to
the register person its name, sex, birth date, place and number resemble (or
goes to 待确认 when close), and keeps a person of its own only when nobody in
the county resembles it.
"""

from __future__ import annotations

from hecha.matching.id_number import check_character
from tests.county import County, link_county, linked_person
from tests.unit.test_linking import villagers


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def fifteen_digit_typo(id_number: str) -> str:
    """The first-generation form of the number with one sequence digit mistyped."""
    short = id_number[:6] + id_number[8:17]
    wrong = "7" if short[12] != "7" else "3"
    return short[:12] + wrong + short[13:]


def two_slips_still_valid(id_number: str) -> str:
    """Two sequence digits typed wrong in a way the check character does not catch (one time in eleven)."""
    for first in "0123456789":
        for second in "0123456789":
            first17 = id_number[:14] + first + second + id_number[16]
            if first != id_number[14] and second != id_number[15] and check_character(first17) == id_number[17]:
                return first17 + id_number[17]
    raise AssertionError("no two-slip number keeps the check character")


def slips_in_code_and_sequence(id_number: str) -> str:
    """One slip in the division code and one in the sequence, the check character still right."""
    for first in "0123456789":
        for second in "0123456789":
            first17 = id_number[:2] + first + id_number[3:15] + second + id_number[16]
            if first != id_number[2] and second != id_number[15] and check_character(first17) == id_number[17]:
                return first17 + id_number[17]
    raise AssertionError("no such number keeps the check character")


def test_a_mistyped_15_digit_number_links_to_its_register_person_not_to_nobody(tmp_path):
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="郭玉兰", born="1946-08-19", sex="女", village="西关村")
    county.tekun(person, case_no="TK0100")
    county.rows["tekun"][-1]["id_number"] = fifteen_digit_typo(person.id_number)
    county.pay(person, programme="tekun", months=("2026-08", "2026-10"), amount=700, case_no="TK0100",
               id_number=fifteen_digit_typo(person.id_number))
    con = link_county(county)
    number, method, confidence = linked_person(con, "tekun", 1)
    assert (number, method) == (person.id_number, "probabilistic") and confidence >= 0.95
    # the ledger lines carry the same number: they follow it to the same person
    lines = [linked_person(con, "payments", row)[0] for (row,) in con.execute(
        "select source_row from stg.payments where name = '郭玉兰' order by source_row").fetchall()]
    assert lines == [person.id_number] * 3
    upgraded_typo = con.execute("select count(*) from link.person where not in_register").fetchall()[0][0]
    assert upgraded_typo == 0  # the typo is nobody's number: no person of its own


def test_a_wrong_division_code_with_a_recomputed_check_links_to_its_register_person(tmp_path):
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="孙德胜", born="1958-03-02", sex="男", village="西关村")
    county.tekun(person, case_no="TK0101")
    wrong_area = with_check("130535" + person.id_number[6:17])  # a neighbouring county's code
    assert wrong_area != person.id_number
    county.rows["tekun"][-1]["id_number"] = wrong_area
    con = link_county(county)
    number, method, _ = linked_person(con, "tekun", 1)
    assert (number, method) == (person.id_number, "probabilistic")
    assert "行政区划代码" in con.execute(
        "select explanation from link.person_record where source = 'tekun' and source_row = 1").fetchall()[0][0]


def test_a_two_slip_number_that_passes_the_check_links_or_waits_for_an_inspector(tmp_path):
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="马秀珍", born="1952-11-07", sex="女", village="西关村")
    county.tekun(person, case_no="TK0102")
    slipped = two_slips_still_valid(person.id_number)
    county.rows["tekun"][-1]["id_number"] = slipped
    con = link_county(county)
    number, method, confidence = linked_person(con, "tekun", 1)
    in_review = con.execute("select count(*) from link.review where source = 'tekun' and source_row = 1").fetchall()[0][0]
    assert (number, method) == (person.id_number, "probabilistic")
    assert confidence >= 0.95 or in_review


def test_a_number_truly_from_outside_the_county_stays_its_own_person(tmp_path):
    county = County(tmp_path)
    villagers(county)
    county.person(name="马秀珍", born="1952-11-07", sex="女", village="西关村")
    # someone registered in another county, unlike anyone here in name and birth date
    stranger = county.person(name="欧阳建华", born="1944-01-30", sex="男", registered=False,
                             id_number=with_check("37142319440130081"))
    county.tekun(stranger, case_no="TK0103")
    con = link_county(county)
    number, method, confidence = linked_person(con, "tekun", 1)
    assert (number, method, confidence) == (stranger.id_number, "exact", 1.0)
    in_register = con.execute("select in_register from link.person where id_number = ?", [stranger.id_number]).fetchall()
    assert in_register == [(False,)]


def test_a_row_without_a_number_does_not_split_its_belief_between_a_person_and_their_mistyped_number(tmp_path):
    """The disability row's mistyped 15-digit number is the register person; the cremation row is theirs alone."""
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="高凤英", born="1943-08-31", sex="女", village="西关村")
    county.certificate(person)
    county.rows["disability"][-1]["id_number"] = fifteen_digit_typo(person.id_number)
    county.cremate(person, "2025-12-21", id_number=None, age=83, address="清河县城关镇西关村")
    con = link_county(county)
    assert linked_person(con, "disability", 1)[:2] == (person.id_number, "probabilistic")
    number, method, confidence = linked_person(con, "cremation", 1)
    assert (number, method) == (person.id_number, "probabilistic") and confidence >= 0.95
    assert con.execute("select count(*) from link.review where source = 'cremation'").fetchall() == [(0,)]


def test_a_household_head_column_with_two_slips_links_by_the_birth_date_its_number_carries(tmp_path):
    county = County(tmp_path)
    villagers(county)
    head = county.person(name="王佳浩", born="1992-09-18", village="西关村")
    member = county.person(name="王小丽", born="2015-03-03", sex="女", village="西关村", household_no=head.household_no)
    county.dibao_case("DB0300", head, [(head, True), (member, True)])
    slipped = slips_in_code_and_sequence(head.id_number)  # neither the number's head nor its tail left as it was
    county.rows["dibao"][-1]["head_id_number"] = slipped
    con = link_county(county)
    person_id = con.execute("select person_id from link.person where id_number = ?", [head.id_number]).fetchall()[0][0]
    linked = con.execute("select person_id, method from link.person_record where source = 'dibao' and source_row = 2 "
                         "and role = 'head'").fetchall()
    assert linked == [(person_id, "probabilistic")]
