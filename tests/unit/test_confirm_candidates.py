"""待确认 that can be decided: a row with several equally good candidates lists them all, and the inspector picks one.

Two women of one village share a name and a birth year, and neither has died
in the register; the crematorium wrote one of them down without a citizen
number, with an age both would have had. The linker cannot tell them apart
(half each), so the row goes to 待确认 with both. The inspector marks the
second candidate 是同一人; the import records her as the same person and the
other as not; the next run links the row to her as a fact, and finds the
tekun paid after her death.
"""

import re

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback, link_decisions
from hecha.audit.history import STATE
from hecha.flows.pipeline import link_drop
from hecha.flows.run import start_run
from hecha.flows.stages import nightly_stages, run_stages
from hecha.matching.link import record_signature_sql
from hecha.reports.run_tables import percent_text
from hecha.reports.workbooks import CONFIRM_SHEET
from hecha.storage.masking import mask_id_number
from tests.county import TEST_SECRET, County, linked_person
from tests.unit.test_feedback_safety import CONFIRM_SHEET as FEEDBACK_CONFIRM_SHEET, Folder, write_book
from tests.unit.test_linking import villagers

NAME = "李秀英"
DEATH = "2026-05-10"
BIRTHS = ("1941-02-03", "1941-03-15")  # both before the death's day: 85 full years either way


def namesakes_county(folder):
    county = County(folder)
    villagers(county)
    first, second = (county.person(name=NAME, born=born, sex="女", village="西关村") for born in BIRTHS)
    for person in (first, second):
        case_no = county.tekun(person, amount=700)
        county.pay(person, programme="tekun", months=("2026-01", "2026-10"), amount=700, case_no=case_no)
    # the other rosters a run expects to be there
    head = county.person(name="赵建华", born="1962-07-01", village="东关村")
    county.dibao_case("DB0001", head, [(head, True)], amount=500)
    county.certificate(county.person(name="孙玉兰", born="1970-09-09", sex="女"), grade=3)
    # no number, the age both had, the village both live in
    county.cremate(second, DEATH, id_number=None, age=85, address="清河县城关镇西关村")
    return county, first, second


def publish(drop, out):
    """One nightly run of `drop` into `out`, as `hecha run` does it; the published folder."""
    return run_stages(start_run(drop, None, out), nightly_stages())


def table(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], values)) for values in rows[1:] if any(value is not None for value in values)]


def block_lines(book_path, source_title="火化记录", row_number=1):
    """The 待确认 lines of one source row, in sheet order: the row's own line, then its candidates."""
    book = openpyxl.load_workbook(book_path)
    try:
        return [row for row in table(book[CONFIRM_SHEET]) if row["来源"] == source_title and row["行号"] == row_number]
    finally:
        book.close()


def mark(book_path, target, answers):
    """Copy the workbook with 身份确认 typed on the lines whose 关联编号 `answers` names."""
    book = openpyxl.load_workbook(book_path)
    sheet = book[CONFIRM_SHEET]
    header = {cell.value: cell.column for cell in sheet[1]}
    for number in range(2, sheet.max_row + 1):
        answer = answers.get(sheet.cell(number, header["关联编号"]).value)
        if answer:
            sheet.cell(number, header["身份确认"], answer)
    book.save(target)
    return target


def person_id(con, number):
    return con.execute("select person_id from link.person where id_number = ?", [number]).fetchall()[0][0]


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    base = tmp_path_factory.mktemp("namesakes")
    county, first, second = namesakes_county(base)
    drop = county.write()
    out = base / "out"
    run = publish(drop, out)
    con = duckdb.connect(str(run / "hecha.duckdb"), read_only=True)
    try:
        ids = {person_id(con, first.id_number): first, person_id(con, second.id_number): second}
        reviews = con.execute(
            "select person_id, confidence, match_probability, decision, record_signature from link.review "
            "where source = 'cremation' and source_row = 1 order by confidence desc, person_id"
        ).fetchall()
        linked_before = linked_person(con, "cremation", 1)
    finally:
        con.close()
    book = run / "workbooks" / "全县.xlsx"
    lines = block_lines(book)
    candidates = [line for line in lines if line["关联编号"] != "cremation:1:"]
    chosen = candidates[1]["关联编号"]  # the inspector picks the second candidate listed
    filled = mark(book, base / "全县_已核查.xlsx", {chosen: "是同一人"})
    recorded = import_feedback(filled, out, inspector="测试核查员")
    decisions = link_decisions(out / STATE)
    second_run = publish(drop, out)
    return {"base": base, "out": out, "run": run, "second_run": second_run, "ids": ids, "reviews": reviews, "book": book,
            "lines": lines, "chosen": ids[chosen.rsplit(":", 1)[1]], "chosen_id": chosen.rsplit(":", 1)[1],
            "recorded": recorded, "decisions": decisions, "linked_before": linked_before, "first": first, "second": second}


def test_review_keeps_both_namesakes_with_half_each(cycle):
    reviews = cycle["reviews"]
    assert {row[0] for row in reviews} == set(cycle["ids"])  # both register women, no one else
    for _, confidence, probability, decision, _ in reviews:
        assert confidence == pytest.approx(0.5, abs=0.02)  # two equally good candidates share the posterior
        assert probability >= 0.8  # each pair alone would be a near-certain match
        assert decision == "review_only"
    assert sum(row[1] for row in reviews) <= 1.0  # "none of them" keeps the rest
    assert len({row[4] for row in reviews}) == 1 and reviews[0][4]  # one row, one signature on each candidate
    assert cycle["linked_before"] == (None, None, None)  # 0.5 is below the link threshold: not linked


def test_confirm_sheet_lists_the_row_then_each_candidate_with_its_facts(cycle):
    row_line, *candidates = cycle["lines"]
    assert row_line["关联编号"] == "cremation:1:" and row_line["候选人姓名"] is None
    assert (row_line["姓名"], row_line["性别"], row_line["出生年份"]) == (NAME, "女", "死亡时85岁")
    assert row_line["户籍地"] == "清河县城关镇西关村" and DEATH in row_line["人员状态"]
    confidence = {person: share for person, share, *_ in cycle["reviews"]}
    assert len(candidates) == 2
    for rank, line in enumerate(candidates, start=1):
        person = line["关联编号"].rsplit(":", 1)[1]
        registered = cycle["ids"][person]
        assert line["类别"] == f"候选人{rank}" and line["姓名"] == NAME  # each line still says which row it is about
        assert (line["候选人姓名"], line["候选人身份证号"]) == (NAME, mask_id_number(registered.id_number))
        assert (line["性别"], line["出生年份"], line["户号"]) == ("女", registered.birth_date[:4], registered.household_no)
        assert (line["户籍地"], line["人员状态"]) == ("城关镇西关村", "在册")
        assert line["同一人概率"] == percent_text(round(confidence[person], 3))
        assert line["关联可信度"] == "低"
        assert "姓名一致" in line["证据"] and "(+" not in line["证据"] and "概率匹配" not in line["证据"]
    # the two are told apart by their households, never by a birth date beside a masked number
    assert candidates[0]["户号"] != candidates[1]["户号"]
    shown = " ".join(str(value) for line in cycle["lines"] for value in line.values() if value is not None)
    for born in BIRTHS:
        assert born not in shown and born.replace("-", "") not in shown and born[5:] not in shown


def test_confirm_sheet_offers_none_of_them_on_the_rows_line(cycle):
    book = openpyxl.load_workbook(cycle["book"])
    sheet = book[CONFIRM_SHEET]
    header = {cell.value: cell.column_letter for cell in sheet[1]}
    keys = {sheet[f"{header['关联编号']}{number}"].value: number for number in range(2, sheet.max_row + 1)}

    def offered(key):
        cell = f"{header['身份确认']}{keys[key]}"
        (formula,) = [v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list" and cell in v.sqref]
        return formula

    candidates = [line["关联编号"] for line in cycle["lines"][1:]]
    assert offered("cremation:1:") == '"都不是"'
    assert {offered(key) for key in candidates} == {'"是同一人,不是同一人"'}


def test_import_records_the_chosen_candidate_as_same_and_the_other_as_different(cycle):
    assert cycle["recorded"].link_decisions == {"same": 1, "different": 1}
    signature = cycle["reviews"][0][4]
    chosen = cycle["chosen_id"]
    other = next(person for person in cycle["ids"] if person != chosen)
    assert sorted(cycle["decisions"]) == sorted([("cremation", signature, chosen, "same"), ("cremation", signature, other, "different")])


def test_next_run_links_the_row_to_the_chosen_candidate_as_confirmed(cycle):
    con = duckdb.connect(str(cycle["second_run"] / "hecha.duckdb"), read_only=True)
    try:
        assert linked_person(con, "cremation", 1) == (cycle["chosen"].id_number, "confirmed", 1.0)
        assert con.execute("select count(*) from link.review where source = 'cremation'").fetchall() == [(0,)]
        # tekun paid after her death is found now that the body is hers
        paid_after = con.execute("select id_number, link_confidence from chk.finding where check_code = 'deceased_paid'").fetchall()
    finally:
        con.close()
    assert paid_after == [(cycle["chosen"].id_number, 1.0)]


def test_two_same_person_marks_on_one_row_are_refused_naming_both_lines(cycle):
    candidates = [line["关联编号"] for line in cycle["lines"][1:]]
    filled = mark(cycle["book"], cycle["base"] / "两人都是.xlsx", dict.fromkeys(candidates, "是同一人"))
    before = link_decisions(cycle["out"] / STATE)
    with pytest.raises(FeedbackError) as error:
        import_feedback(filled, cycle["out"])
    message = str(error.value)
    rows = re.findall(r"row (\d+)", message)
    assert len(rows) == 2 and rows[0] != rows[1]
    assert all(key in message for key in candidates)
    assert link_decisions(cycle["out"] / STATE) == before  # nothing recorded


def test_none_of_them_records_every_candidate_as_different(tmp_path):
    folder = Folder(tmp_path / "out")
    run_dir = folder.run({"k1": "城关镇"}, links=[("cremation", 7, "Pa", "sig7"), ("cremation", 7, "Pb", "sig7")])
    header = ("类别", "身份确认", "核查说明", "关联编号")
    book = write_book(folder, run_dir, {FEEDBACK_CONFIRM_SHEET: (header, [
        ("火化记录", "都不是", "外县人", "cremation:7:"), ("候选人1", None, None, "cremation:7:Pa"),
        ("候选人2", None, None, "cremation:7:Pb")])})
    assert import_feedback(book, folder.path).link_decisions == {"different": 2}
    assert link_decisions(folder.state) == [("cremation", "sig7", "Pa", "different"), ("cremation", "sig7", "Pb", "different")]


@pytest.mark.parametrize(
    ("description", "rows", "expected"),
    [
        ("是同一人 on the row's own line", [("是同一人", "cremation:7:")], "row 2"),
        ("都不是 on a candidate's line", [("都不是", "cremation:7:Pa")], "row 2"),
        ("是同一人 beside 都不是", [("是同一人", "cremation:7:Pa"), ("都不是", "cremation:7:")], "row 2 and sheet 待确认 row 3"),
    ],
)
def test_answers_that_do_not_fit_their_line_are_refused(tmp_path, description, rows, expected):
    folder = Folder(tmp_path / "out")
    run_dir = folder.run({"k1": "城关镇"}, links=[("cremation", 7, "Pa", "sig7"), ("cremation", 7, "Pb", "sig7")])
    book = write_book(folder, run_dir, {FEEDBACK_CONFIRM_SHEET: (("身份确认", "关联编号"), rows)})
    with pytest.raises(FeedbackError, match=expected):
        import_feedback(book, folder.path)
    assert link_decisions(folder.state) == [], description


def test_rejecting_one_of_two_candidates_leaves_the_other_as_the_link(tmp_path):
    county, first, second = namesakes_county(tmp_path)
    drop = county.write()
    (signature,), = duckdb.sql(f"select {record_signature_sql('row')} from (select 'cremation' as source, "
                               f"null as id_number_raw, '{NAME}' as name) as row").fetchall()
    con = duckdb.connect()
    link_drop(con, drop, secret=TEST_SECRET)
    first_id = person_id(con, first.id_number)
    rejected = duckdb.connect()
    link_drop(rejected, drop, decisions=[("cremation", signature, first_id, "different")], secret=TEST_SECRET)
    # without the rejected woman, the other is the only candidate left: the posterior is hers alone
    number, method, confidence = linked_person(rejected, "cremation", 1)
    assert (number, method) == (second.id_number, "probabilistic") and confidence >= 0.95
    assert rejected.execute("select count(*) from link.review where source = 'cremation'").fetchall() == [(0,)]
