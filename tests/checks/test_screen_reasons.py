"""The batch screen's verdicts, reason by reason: each with a line it must stop and a near miss it must let through.

The night is the county's drop analysed as a run would (as_of 2026-10); the
batch pays November 2026 (or as a test says). A verdict is read off
`screen.line` as `hecha screen` writes it.
"""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import polars as pl
import pytest

from hecha.config import load_policy, parse_month
from hecha.extracts.read import Manifest
from hecha.extracts.writer import write_extract
from hecha.flows.pipeline import analyse_drop
from hecha.screen.judge import judge_lines, load_batch
from hecha.storage.secret import install_keyed_hash
from tests.county import AREA, PROGRAMME_LABEL, TEST_SECRET, County, Member

MONTH = "2026-11"


class Batch:
    """The lines of a batch, as a county's 发放 system writes them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def line(self, person, *, programme: str, case_no: str | None = None, amount: float = 600.0, month: str = MONTH,
             name: str | None = None, id_number: str | None = None, raw_amount: str | None = None) -> int:
        self.rows.append({
            "paid_month": month, "programme": PROGRAMME_LABEL[programme],
            "case_no": case_no or f"C-{person.id_number[-6:]}", "name": name or person.name,
            "id_number": id_number or person.id_number, "amount": raw_amount or f"{amount:.2f}", "township": "城关镇",
        })
        return len(self.rows)  # the line's row number in the file


def screen(county: County, batch: Batch, night_change: str | None = None) -> dict[int, SimpleNamespace]:
    """The county's night (changed by the statement `night_change`), then the batch judged against it:
    source_row → the line's verdict."""
    drop = county.write()
    night = county.folder / "night.duckdb"
    con = duckdb.connect(str(night))
    analyse_drop(con, drop, secret=TEST_SECRET)
    if night_change:
        con.execute(night_change)
    con.close()
    folder = county.folder / "batch"
    path = write_extract("payments", pl.DataFrame(batch.rows, schema={key: pl.String for key in batch.rows[0]}), folder)
    con = duckdb.connect(str(county.folder / "batch.duckdb"))
    install_keyed_hash(con, TEST_SECRET)
    policy = load_policy()
    load_batch(con, path, Manifest(county=AREA, as_of=county.as_of), policy)
    judge_lines(con, night, parse_month(MONTH), policy)
    rows = con.execute("select source_row, verdict, reason_code, reason, evidence, case_key, person_id from screen.line").fetchall()
    con.close()
    return {row[0]: SimpleNamespace(verdict=row[1], reason_code=row[2], reason=row[3], evidence=row[4], case_key=row[5],
                                    person_id=row[6]) for row in rows}


def test_a_payee_dead_before_the_month_is_blocked_and_one_dead_in_it_passes(county):
    dead = county.person(died="2026-09-12")
    dying = county.person(died="2026-11-03")  # recorded days after as_of: the month of death is paid
    batch = Batch()
    for person in (dead, dying):
        county.tekun(person, case_no=f"TK-{person.id_number[-4:]}")
        county.pay(person, programme="tekun", months=("2026-01", "2026-08"), amount=700, case_no=f"TK-{person.id_number[-4:]}")
    blocked = batch.line(dead, programme="tekun", case_no=f"TK-{dead.id_number[-4:]}", amount=700)
    passed = batch.line(dying, programme="tekun", case_no=f"TK-{dying.id_number[-4:]}", amount=700)
    lines = screen(county, batch)
    assert (lines[blocked].verdict, lines[blocked].reason_code) == ("block", "dead")
    assert "2026-09" in lines[blocked].evidence and "户籍" in lines[blocked].evidence
    assert lines[passed].verdict == "pass" and lines[passed].case_key is None


def test_a_death_known_only_from_a_cremation_record_blocks(county):
    person = county.person()
    county.cremate(person, "2026-08-02", age=77)
    county.tekun(person, case_no="TK-C1")
    county.pay(person, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no="TK-C1")
    batch = Batch()
    row = batch.line(person, programme="tekun", case_no="TK-C1", amount=700)
    line = screen(county, batch)[row]
    assert (line.verdict, line.reason_code) == ("block", "dead") and "火化记录" in line.evidence


def test_a_namesake_who_died_does_not_stop_the_living_payee(county):
    living = county.person(name="王秀英", born="1948-03-02")
    county.person(name="王秀英", born="1948-03-02", sex="女", died="2026-05-01")  # someone else, same name
    county.tekun(living, case_no="TK-N1")
    county.pay(living, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no="TK-N1")
    batch = Batch()
    row = batch.line(living, programme="tekun", case_no="TK-N1", amount=700)
    assert screen(county, batch)[row].verdict == "pass"


def test_moved_out_before_the_month_blocks_and_in_the_month_passes(county):
    gone = county.person(moved_out="2026-07-01")
    going = county.person(moved_out="2026-11-02")
    batch = Batch()
    rows = []
    for person in (gone, going):
        number = county.certificate(person, grade=1)
        rows.append(batch.line(person, programme="care_subsidy", case_no=number, amount=100))
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("block", "moved_out")
    assert lines[rows[1]].verdict == "pass"


def test_a_dibao_line_is_blocked_when_every_covered_member_died_and_held_when_some_did(county):
    alone = county.person(died="2026-06-01")
    county.dibao_case("DB-1", alone, [(alone, True)], inclusion="单人", amount=500)
    head = county.person(household_no="H-2")
    wife = county.person(household_no="H-2", relation="配偶", died="2026-08-08")
    county.dibao_case("DB-2", head, [(head, True), (wife, True)], amount=900)
    batch = Batch()
    blocked = batch.line(alone, programme="dibao", case_no="DB-1", amount=500)
    held = batch.line(head, programme="dibao", case_no="DB-2", amount=900)
    lines = screen(county, batch)
    assert (lines[blocked].verdict, lines[blocked].reason_code) == ("block", "dead")
    assert (lines[held].verdict, lines[held].reason_code) == ("hold", "member_departed")
    assert "2 人中 1 人" in lines[held].evidence


def test_a_dead_member_not_covered_by_the_case_holds_nothing(county):
    head = county.person(household_no="H-3")
    son = county.person(household_no="H-3", relation="子", died="2026-04-04")
    county.dibao_case("DB-3", head, [(head, True), Member(son, covered=False)], amount=500)
    batch = Batch()
    row = batch.line(head, programme="dibao", case_no="DB-3", amount=500)
    assert screen(county, batch)[row].verdict == "pass"


def test_a_stopped_case_is_blocked_and_one_stopped_in_the_month_passes(county):
    stopped = county.person()
    stopping = county.person()
    county.dibao_case("DB-S", stopped, [(stopped, True)], inclusion="单人", stopped="2026-09", amount=500)
    county.dibao_case("DB-T", stopping, [(stopping, True)], inclusion="单人", stopped="2026-11", amount=500)
    ended = county.person()
    county.tekun(ended, case_no="TK-E", stopped="2026-10")
    batch = Batch()
    rows = [batch.line(stopped, programme="dibao", case_no="DB-S", amount=500),
            batch.line(stopping, programme="dibao", case_no="DB-T", amount=500),
            batch.line(ended, programme="tekun", case_no="TK-E", amount=700)]
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("block", "case_stopped")
    assert lines[rows[1]].verdict == "pass"
    assert (lines[rows[2]].verdict, lines[rows[2]].reason_code) == ("block", "case_stopped")
    assert "终止供养" in lines[rows[2]].evidence


def test_an_expired_certificate_blocks_and_one_renewed_in_time_passes(county):
    lapsed = county.person()
    renewed = county.person()
    lapsed_no = county.certificate(lapsed, grade=2, issued="2016-10-21", valid_until="2026-10-20")
    renewed_no = county.certificate(renewed, grade=2, issued="2016-10-21", valid_until="2026-10-20")
    county.certificate(renewed, grade=2, issued="2026-10-18", valid_until="2036-10-17")  # 换证: same number, a new row
    batch = Batch()
    rows = [batch.line(lapsed, programme="care_subsidy", case_no=lapsed_no, amount=80),
            batch.line(renewed, programme="care_subsidy", case_no=renewed_no, amount=80)]
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("block", "certificate_invalid")
    assert "过有效期" in lines[rows[0]].evidence
    assert lines[rows[1]].verdict == "pass"


def test_a_care_subsidy_on_a_grade_that_does_not_qualify_blocks(county):
    three = county.person()
    two = county.person()
    batch = Batch()
    rows = [batch.line(three, programme="care_subsidy", case_no=county.certificate(three, category="精神", grade=3), amount=80),
            batch.line(two, programme="care_subsidy", case_no=county.certificate(two, category="精神", grade=2), amount=80)]
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("block", "certificate_invalid")
    assert lines[rows[1]].verdict == "pass"


def test_a_repeated_line_is_blocked_after_its_first_and_two_programmes_pass(county):
    person = county.person()
    county.tekun(person, case_no="TK-R")
    number = county.certificate(person, grade=1)
    batch = Batch()
    first = batch.line(person, programme="tekun", case_no="TK-R", amount=700)
    other = batch.line(person, programme="care_subsidy", case_no=number, amount=100)
    again = batch.line(person, programme="tekun", case_no="TK-R", amount=650)  # another amount: still the same month paid twice
    lines = screen(county, batch)
    assert lines[first].verdict == "pass" and lines[other].verdict == "pass"
    assert (lines[again].verdict, lines[again].reason_code) == ("block", "repeated_line")
    assert f"第 {first} 行" in lines[again].evidence


def test_dibao_for_a_member_tekun_supports_is_blocked_and_after_tekun_ended_passes(county):
    both = county.person()
    county.dibao_case("DB-D", both, [(both, True)], inclusion="单人", amount=500)
    county.tekun(both, case_no="TK-D", start="2025-03")
    before = county.person()
    county.dibao_case("DB-F", before, [(before, True)], inclusion="单人", amount=500)
    county.tekun(before, case_no="TK-F", start="2024-01", stopped="2026-09")
    batch = Batch()
    rows = [batch.line(both, programme="dibao", case_no="DB-D", amount=500),
            batch.line(before, programme="dibao", case_no="DB-F", amount=500)]
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("block", "other_programme")
    assert lines[rows[1]].verdict == "pass"


def test_a_payee_who_is_nobody_is_held_and_a_mistyped_number_the_night_linked_passes(county):
    nobody = county.person(registered=False, name="查无此人")
    typed = county.person(name="李建国")
    county.tekun(typed, case_no="TK-Y")
    slip = typed.id_number[:10] + typed.id_number[11] + typed.id_number[10] + typed.id_number[12:]  # two digits swapped
    county.pay(typed, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no="TK-Y", id_number=slip)
    county.tekun(nobody, case_no="TK-X")  # on no register, in no ledger
    batch = Batch()
    held = batch.line(nobody, programme="tekun", case_no="TK-X", amount=700, id_number="130534195001011234")
    passed = batch.line(typed, programme="tekun", case_no="TK-Y", amount=700, id_number=slip)
    lines = screen(county, batch)
    assert (lines[held].verdict, lines[held].reason_code) == ("hold", "uncertain_identity")
    assert lines[passed].verdict == "pass" and lines[passed].person_id is not None


def test_a_case_number_on_no_roster_is_held(county):
    person = county.person()
    county.tekun(person, case_no="TK-K")
    batch = Batch()
    unknown = batch.line(person, programme="tekun", case_no="TK-UNKNOWN", amount=700)
    known = batch.line(person, programme="care_subsidy", case_no=county.certificate(person, grade=1), amount=100)
    lines = screen(county, batch)
    assert (lines[unknown].verdict, lines[unknown].reason_code) == ("hold", "unknown_case")
    assert lines[known].verdict == "pass"


def test_a_beneficiary_past_the_age_limit_is_held(county):
    old = county.person(born="1914-02-01")  # 112 in November 2026
    younger = county.person(born="1917-12-31")  # 108
    batch = Batch()
    rows = []
    for person in (old, younger):
        county.tekun(person, case_no=f"TK-{person.id_number[-4:]}")
        rows.append(batch.line(person, programme="tekun", case_no=f"TK-{person.id_number[-4:]}", amount=700))
    lines = screen(county, batch)
    assert (lines[rows[0]].verdict, lines[rows[0]].reason_code) == ("hold", "over_age")
    assert lines[rows[1]].verdict == "pass"


def test_an_unreadable_line_is_held_never_passed(county):
    person = county.person()
    county.tekun(person, case_no="TK-U")
    batch = Batch()
    bad = batch.line(person, programme="tekun", case_no="TK-U", raw_amount="七百")
    good = batch.line(person, programme="tekun", case_no="TK-U", amount=700, month="2026-12")
    lines = screen(county, batch)
    assert (lines[bad].verdict, lines[bad].reason_code) == ("hold", "unreadable")
    assert "金额" in lines[bad].evidence
    assert lines[good].verdict == "pass"


def test_a_block_outranks_a_hold_and_every_reason_is_given(county):
    old_dead = county.person(born="1914-02-01", died="2026-07-07")
    county.tekun(old_dead, case_no="TK-O")
    batch = Batch()
    row = batch.line(old_dead, programme="tekun", case_no="TK-O", amount=700)
    line = screen(county, batch)[row]
    assert (line.verdict, line.reason_code) == ("block", "dead")
    assert line.reason == "受益人已死亡；年龄超过上限"


def test_a_death_on_an_unsure_link_holds_the_line_instead_of_blocking_it(county):
    # a number that fails its check and repairs to nobody: the ledger's rows and the cremation record of the same
    # number and name are one person only as surely as "same invalid number" goes (below the review threshold)
    unsure = county.person(registered=False, name="赵无证", id_number="13053419500101123A")
    county.cremate(unsure, "2026-06-06", age=77)
    county.tekun(unsure, case_no="TK-Z")
    county.pay(unsure, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no="TK-Z")
    sure = county.person()
    county.cremate(sure, "2026-06-06", age=77)
    county.tekun(sure, case_no="TK-W")
    batch = Batch()
    held = batch.line(unsure, programme="tekun", case_no="TK-Z", amount=700)
    blocked = batch.line(sure, programme="tekun", case_no="TK-W", amount=700)
    lines = screen(county, batch)
    assert lines[held].verdict == "hold" and "死亡或迁出待确认" in lines[held].reason
    assert "受益人已死亡" not in lines[held].reason
    assert (lines[blocked].verdict, lines[blocked].reason_code) == ("block", "dead")


def test_a_death_only_a_cremation_record_of_another_county_shows_holds_the_line(county):
    from tests.unit.test_linking import villagers

    villagers(county)  # enough people for the linker's model to weigh a record without a number
    person = county.person(name="郝立琳", born="1954-08-12", sex="女")  # the register still says 正常
    county.cremate(person, "2026-07-13", id_number=None, age=72)
    county.tekun(person, case_no="TK-H")
    county.pay(person, programme="tekun", months=("2026-05", "2026-07"), amount=700, case_no="TK-H")
    batch = Batch()
    row = batch.line(person, programme="tekun", case_no="TK-H", amount=700)
    line = screen(county, batch)[row]
    assert (line.verdict, line.reason_code) == ("block", "dead") and "概率匹配" in line.evidence
    # the same link, had the record's 户籍地址 named another county (the linker then seldom links it, but may)
    elsewhere = "update link.record set outside_county = true where source = 'cremation'"
    line = screen(county, batch, night_change=elsewhere)[row]
    assert (line.verdict, line.reason_code) == ("hold", "uncertain_event") and "外县" in line.evidence


def test_a_death_is_blocked_on_a_line_only_when_the_payee_is_linked_surely_enough(county):
    person = county.person(died="2026-08-08")
    county.tekun(person, case_no="TK-P")
    county.pay(person, programme="tekun", months=("2026-01", "2026-08"), amount=700, case_no="TK-P")
    batch = Batch()
    row = batch.line(person, programme="tekun", case_no="TK-P", amount=700)
    assert (screen(county, batch)[row].verdict, screen(county, batch)[row].reason_code) == ("block", "dead")
    # the night had linked the ledger's identity by name and place: at 0.97 a fact, not sure enough to stop a payment
    by_likeness = "update link.person_record set method = 'probabilistic', confidence = {} where source = 'payments'"
    line = screen(county, batch, night_change=by_likeness.format(0.97))[row]
    assert (line.verdict, line.reason_code) == ("hold", "uncertain_event")
    assert "低于拦截所需的 0.99" in line.evidence
    line = screen(county, batch, night_change=by_likeness.format(0.995))[row]
    assert (line.verdict, line.reason_code) == ("block", "dead")


def test_a_line_written_twice_alike_is_a_repeat_however_unsure_its_payee(county):
    person = county.person()
    county.tekun(person, case_no="TK-Q")
    county.pay(person, programme="tekun", months=("2026-01", "2026-08"), amount=700, case_no="TK-Q")
    batch = Batch()
    first = batch.line(person, programme="tekun", case_no="TK-Q", amount=700)
    again = batch.line(person, programme="tekun", case_no="TK-Q", amount=700)
    unsure = "update link.person_record set method = 'probabilistic', confidence = 0.97 where source = 'payments'"
    lines = screen(county, batch, night_change=unsure)
    assert lines[first].verdict == "pass"
    assert (lines[again].verdict, lines[again].reason_code) == ("block", "repeated_line")
    assert "姓名和身份证号" in lines[again].evidence
