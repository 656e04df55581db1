"""Inspectors' workbooks: masking, one township per book, what is listed where, order, formats, drop-downs, _meta."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import read_workbook
from hecha.checks.labels import STATUS_LABELS
from hecha.config import load_policy
from hecha.reports.run_tables import confidence_band, inspector_evidence
from hecha.reports.workbooks import (
    CONFIRM_SHEET,
    OUTCOME_SHEET,
    SUMMARY_SHEET,
    render_sheet_html,
    text_lines,
    write_workbooks,
)
from hecha.storage.masking import mask_id_number, mask_text
from hecha.storage.tables import FINDING, ddl

CITIZEN_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")
EAST, XIELU = "城东街道", "谢炉镇"
RUN_ID = "2026-10_20261101T020000000000"

# (case_key, check_code, person_id, id_number, name, township, case_no, overpaid, backpay, confidence,
#  needs_confirmation, evidence, status)
FINDINGS = (
    ("ka01", "deceased_paid", "P01", "130529193602068743", "王兰华", EAST, "TK00100017", 6300.0, 0.0, 1.0, False,
     "户籍登记死亡（户籍第 1368 行，身份证号 130529193602068743 一致）；死亡后仍发放 7 个月 6300.00 元", "new"),
    ("ka02", "deceased_paid", "P02", "13052919320106053X", "杨长山", EAST, "DB10300003", 10080.0, 0.0, 0.98, False,
     "死亡后仍发放低保金 19 个月 10080.00 元", "persisting"),
    ("ka03", "deceased_paid", "P03", "130529194501011234", "李立民", EAST, "TK00100005", 500.0, 0.0, 1.0, False,
     "死亡后仍发放 1 个月 500.00 元", "suppressed"),
    ("ka04", "deceased_paid", "P04", "130529195002021111", "赵红", XIELU, "TK00200001", 1200.0, 0.0, 1.0, False,
     "死亡后仍发放 2 个月 1200.00 元", "recurred"),
    ("ka05", "moved_out_paid", "P05", "130529196003032222", "钱进", XIELU, "DB20000008", 900.0, 0.0, 0.62, True,
     "迁出后仍发放 3 个月 900.00 元", "reopened"),
    ("ka06", "missed_care_subsidy", "P06", "130531197410039067", "孙立", EAST, "13053119741003906722", 0.0, 1800.0, 1.0,
     False, "持一级残疾人证（证号 13053119741003906722）未发放护理补贴 12 个月", "new"),
    ("ka07", "missed_care_subsidy", "P07", "130529500101123", "周老汉", XIELU, "13052950010112341", 0.0, 2400.0, 0.97,
     False, "15 位旧号 130529500101123 的残疾人证未发放护理补贴", "new"),
    ("ka08", "moved_out_paid", "P08", "130529197001014444", "吴芳", EAST, "DB10300009", 300.0, 0.0, 1.0, False,
     "迁出后仍发放 1 个月 300.00 元", "new"),
    ("ka10", "deceased_paid", "P10", "130529197101015555", "郑一", EAST, "TK00100021", 600.0, 0.0, 1.0, False,
     "死亡后仍发放 1 个月 600.00 元", "new"),
    ("ka09", "deceased_paid", "P09", "130529197201016666", "冯二", EAST, "TK00100022", 0.0, 600.0, 1.0, False,
     "与 ka10 同额，按案件编号排列", "new"),
)
WARNINGS = [
    "注意：household_register.csv 身份证号 有 5.4% 的号码无法使用（上限 2%），经操作人员确认仍然运行，结果可能不完整。",
    "注意：dibao.csv 成员身份证号 有 3% 的号码无法使用（上限 2%），经操作人员确认仍然运行，结果可能不完整。",
]
# Sorted by money at stake, then case_key: the East deceased_paid sheet.
EAST_DECEASED_ORDER = ["ka02", "ka01", "ka09", "ka10"]

REVIEWS = (
    # source, source_row, role, person_id, register_row, probability, confidence, decision, comparison_vector, explanation
    ("dibao", 5, "subject", "P06", 12, 0.93, 0.81, "linked_to_confirm", "2,1,0", "概率匹配 0.930：姓名相同(+9.1)、出生日期相近(+3.2)"),
    ("payments", 9, "subject", "P04", 31, 0.71, 0.55, "review_only", "1,1,0", "概率匹配 0.710：姓名拼音相同(+6.0)"),
)
STAGED = {
    "dibao": [(5, "孙立", "1305 3119 7410 0390 67", EAST)],
    "payments": [(9, "赵红", "13052919500202111x", None)],
}
PERSONS = (
    ("P06", "130531197410039067", "孙立", EAST, "东关社区"),
    ("P04", "130529195002021111", "赵红", XIELU, "赵庄村"),
)
RESOLVED = (
    ("kr01", "deceased_paid", "130529198001017777", "陈旧", EAST, "东关社区", "TK1", "2026-09_r1", "属实"),
    ("kr02", "moved_out_paid", "130529198101018888", "褚旧", XIELU, "赵庄村", "DB1", "2026-09_r1", None),
)


def build_run_database(path, *, with_history=True):
    """A run's database as the pipeline leaves it, with the tables the workbooks read."""
    con = duckdb.connect(str(path))
    con.execute("create schema chk; create schema link; create schema stg")
    con.execute(ddl(FINDING))  # the table as the runner makes it
    con.executemany(
        "insert into chk.finding values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(code, person, number, name, town, "东关社区", case_no, dt.date(2025, 4, 1), dt.date(2026, 10, 1),
          overpaid, backpay, confidence, confirm, evidence, key)
         for key, code, person, number, name, town, case_no, overpaid, backpay, confidence, confirm, evidence, _ in FINDINGS],
    )
    if with_history:
        con.execute(
            """create table chk.finding_status (case_key varchar, status varchar, first_seen_run varchar,
            previous_conclusion varchar, previous_note varchar)"""
        )
        previous = {"recurred": ("已整改", "已停发"), "reopened": ("不属实", "同名不同人"), "suppressed": ("不属实", None)}
        con.executemany(
            "insert into chk.finding_status values (?, ?, ?, ?, ?)",
            [(row[0], row[-1], "2026-09_r1", *previous.get(row[-1], (None, None))) for row in FINDINGS],
        )
        con.execute(
            """create table chk.resolved (case_key varchar, check_code varchar, id_number varchar, name varchar,
            township varchar, village varchar, case_no varchar, last_seen_run varchar, previous_conclusion varchar)"""
        )
        con.executemany("insert into chk.resolved values (?, ?, ?, ?, ?, ?, ?, ?, ?)", RESOLVED)
    con.execute(
        """create table link.review (source varchar, source_row integer, role varchar, person_id varchar,
        register_row integer, match_probability double, confidence double, decision varchar,
        comparison_vector varchar, explanation varchar)"""
    )
    con.executemany("insert into link.review values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", REVIEWS)
    con.execute(
        """create table link.person (person_id varchar, id_number varchar, name varchar, township varchar,
        village varchar, in_register boolean)"""
    )
    con.executemany("insert into link.person values (?, ?, ?, ?, ?, true)", PERSONS)
    for source, rows in STAGED.items():
        con.execute(f"create table stg.{source} (source_row integer, name varchar, id_number_raw varchar, township varchar)")
        con.executemany(f"insert into stg.{source} values (?, ?, ?, ?)", rows)
    return con


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    con = build_run_database(folder / "hecha.duckdb")
    try:
        paths = write_workbooks(con, folder / "workbooks", run_id=RUN_ID, as_of="2026-10", county="130529",
                                policy=load_policy())
    finally:
        con.close()
    return {path.stem: path for path in paths}


@pytest.fixture(scope="module")
def warned_books(tmp_path_factory):
    """The same run, the operator having overridden the citizen-number gate, in a county on Xinjiang's clock."""
    folder = tmp_path_factory.mktemp("warned")
    con = build_run_database(folder / "hecha.duckdb")
    try:
        paths = write_workbooks(con, folder / "workbooks", run_id=RUN_ID, as_of="2026-10", county="130529",
                                policy=load_policy() | {"timezone": "Asia/Urumqi"}, warnings=WARNINGS)
    finally:
        con.close()
    return {path.stem: path for path in paths}


def table(sheet):
    """Data rows of a sheet whose header is row 1, as dicts by header."""
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], values)) for values in rows[1:] if any(value is not None for value in values)]


def header_column(sheet, header):
    return next(cell.column_letter for cell in sheet[1] if cell.value == header)


def drop_down(sheet, header):
    """The list a column's data cells offer (one validation covering every data row), or None."""
    column = header_column(sheet, header)
    cells = [f"{column}{row}" for row in range(2, sheet.max_row + 1)]
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list" and all(cell in validation.sqref for cell in cells):
            return validation.formula1
    return None


def case_keys(book):
    keys = {}
    for sheet in book.worksheets:
        if sheet.title in (SUMMARY_SHEET, OUTCOME_SHEET, "_meta"):
            continue
        keys[sheet.title] = [row["案件编号"] for row in table(sheet) if row.get("案件编号")]
    return keys


@pytest.mark.parametrize(
    ("description", "value", "expected"),
    [
        ("18-character number", "130529193602068743", "130529********8743"),
        ("check character X", "13052919320106053X", "130529********053X"),
        ("spaces in a raw number", "1305 3119 7410 0390 67", "130531********9067"),
        ("15-digit first-generation number", "130529500101123", "130529********1123"),
        ("blank", None, ""),
        ("too short to be a number", "12345", "*****"),
    ],
)
def test_mask_id_number_keeps_first_six_and_last_four(description, value, expected):
    assert mask_id_number(value) == expected, description


@pytest.mark.parametrize(
    ("description", "value", "expected"),
    [
        ("number inside evidence", "身份证号 130529193602068743 一致", "身份证号 130529********8743 一致"),
        # a certificate keeps its category and grade digits after the masked citizen number
        ("disability certificate: number plus category and grade", "13053119741003906722", "130531********906722"),
        ("lower-case x", "13052919500202111x", "130529********111x"),
        ("list of case numbers", "13053119961217965742、DB20000008", "130531********965742、DB20000008"),
        # a run longer than one number is masked whole: where a number starts inside it cannot be known
        ("row numbers are left alone", "发放明细第 8797、9396 行", "发放明细第 8797、9396 行"),
        ("two numbers run together", "130529193602068743130529193602068743", "130529********8743"),
    ],
)
def test_mask_text_masks_every_citizen_number_in_text(description, value, expected):
    assert mask_text(value) == expected, description
    assert not CITIZEN_NUMBER.search(mask_text(value))


IDENTITY = {"review_threshold": 0.95, "link_threshold": 0.8}


@pytest.mark.parametrize(
    ("description", "confidence", "identity", "expected"),
    [
        ("an exact number", 1.0, IDENTITY, "高"),
        ("at the review threshold: a fact", 0.95, IDENTITY, "高"),
        ("just below it: to confirm", 0.9499, IDENTITY, "中"),
        ("at the link threshold", 0.8, IDENTITY, "中"),
        ("below it: not linked", 0.79, IDENTITY, "低"),
        ("no link", None, IDENTITY, ""),
        ("no thresholds known", 0.9, {}, ""),
    ],
)
def test_confidence_band_follows_the_policys_thresholds(description, confidence, identity, expected):
    assert confidence_band(confidence, identity) == expected, description


@pytest.mark.parametrize(
    ("description", "evidence", "expected"),
    [
        ("a probabilistic link: what was compared, for and against, and a band; no weights, no rows",
         "火化记录 HH1 死亡日期 2025-10-03（火化第 715 行，概率匹配 1.000：姓名一致(+13.9)、死亡年龄为虚岁（多一岁）(+6.6)、"
         "户籍尚未登记死亡(-4.2)、性别一致(+1.0)）；死亡后仍发放特困供养金（证号 TK1）2025-11 至 2026-02 共 4 个月 4760.00 元"
         "（发放明细第 8861、9570、10271、10973 行）",
         "火化记录 HH1 死亡日期 2025-10-03（姓名一致、死亡年龄为虚岁（多一岁）、性别一致；但户籍尚未登记死亡；同一人可信度高）；"
         "死亡后仍发放特困供养金（证号 TK1）2025-11 至 2026-02 共 4 个月 4760.00 元"),
        ("a probability between the thresholds", "概率匹配 0.900：姓名同音(+5.0)", "姓名同音；同一人可信度中"),
        ("below the link threshold", "概率匹配 0.500：姓名一致(+9.0)、出生日期不符(-6.0)", "姓名一致；但出生日期不符；同一人可信度低"),
        ("a cited row goes, what was said of it stays",
         "户籍登记迁出，变动日期 2025-07-13（户籍第 4241 行，身份证号一致）", "户籍登记迁出，变动日期 2025-07-13（身份证号一致）"),
        ("a count of rows stays as a count",
         "张兰（户籍第 4692 行）领取救助（发放明细第 10298 行 等 25 行）：请核实身份信息",
         "张兰领取救助（发放明细等 25 条记录）：请核实身份信息"),
        ("inside a certificate's details",
         "持残疾人证 13053419931003439823（听力三级，证件状态正常，残疾人证第 103 行）",
         "持残疾人证 130534********439823（听力三级，证件状态正常）"),
        ("a 建档立卡户编号 stays readable",
         "建档立卡户编号 130534201000010（户主 孙卫鹏，建档立卡第 1037、1038 行）兜底保障登记为无",
         "建档立卡户编号 130534201000010（户主 孙卫鹏）兜底保障登记为无"),
        ("a number before a removed citation keeps a space",
         "户籍户号 00100300024（户籍第 802 行）无其他在世在籍成员", "户籍户号 00100300024 无其他在世在籍成员"),
        ("a repair keeps its words", "身份证号第7位录入错误，修复为户籍人员（姓名、性别一致，无出生日期可比）",
         "身份证号第7位录入错误，修复为户籍人员（姓名、性别一致，无出生日期可比）"),
        ("blank", None, ""),
    ],
)
def test_inspector_evidence_says_what_was_compared_without_weights_or_row_numbers(description, evidence, expected):
    assert inspector_evidence(evidence, IDENTITY) == expected, description


@pytest.mark.parametrize(
    ("description", "text", "width", "expected"),
    [
        ("empty text", "", 10, 1),
        ("five CJK characters fill ten narrow ones exactly", "一二三四五", 10, 1),
        ("one more wraps", "一二三四五六", 10, 2),
        ("a CJK character is not split across lines", "一二三", 5, 2),  # 一二 (4) / 三
        ("ASCII as wide as the line", "abcdefghij", 10, 1),
        ("a word longer than a line is broken", "abcdefghijk", 10, 2),
        ("a line breaks at a space, which takes no room", "abc def", 3, 2),
        ("a comma does not start a line: it moves down with the character before it", "一二，三", 4, 3),  # 一 / 二， / 三
        ("each paragraph starts a line", "一\n二", 10, 2),
    ],
)
def test_text_lines_wraps_as_a_spreadsheet_does(description, text, width, expected):
    assert text_lines(text, width) == expected, description


def test_workbooks_show_evidence_in_the_inspectors_words_and_a_confidence_band(books):
    rows = {row["案件编号"]: row for row in table(openpyxl.load_workbook(books[EAST])["死亡人员仍领取"])}
    assert rows["ka01"]["证据"] == "户籍登记死亡（身份证号 130529********8743 一致）；死亡后仍发放 7 个月 6300.00 元"
    assert rows["ka02"]["关联可信度"] == "高"  # 0.98: at or above the review threshold


def test_summary_explains_the_confidence_bands_with_the_policys_thresholds(books):
    identity = load_policy()["identity"]
    lines = [text for text in summary_rows(books[EAST]) if isinstance(text, str)]
    bands = lines[lines.index("关联可信度说明") + 1:]
    assert bands[0].startswith("高：") and f"{identity['review_threshold'] * 100:g}%" in bands[0]
    assert bands[1].startswith("中：") and f"{identity['link_threshold'] * 100:g}%" in bands[1]
    assert bands[2].startswith("低：")


def test_workbooks_are_one_per_township_and_one_for_the_county(books):
    assert set(books) == {EAST, XIELU, "全县"}


def test_workbooks_mask_every_citizen_number_in_every_cell(books):
    seen = []
    for path in books.values():
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        assert not CITIZEN_NUMBER.search(str(cell.value)), f"{path.name} {sheet.title}!{cell.coordinate}"
                        seen.append(str(cell.value))
    text = "\n".join(seen)
    for masked in ("130529********8743",  # a finding's number
                   "130531********906722",  # a disability certificate (number + category + grade) in 证号 and evidence
                   "130529********1123",  # a 15-digit number
                   "130531********9067",  # a staged row's raw number with spaces (link to confirm)
                   "130529********111x"):  # a raw number with lower-case x
        assert masked in text


def test_township_workbook_holds_only_its_township_and_the_county_book_all(books):
    expected = {
        town: {row[0] for row in FINDINGS if row[5] == town and row[-1] != "suppressed"} for town in (EAST, XIELU)
    }
    for town in (EAST, XIELU):
        book = openpyxl.load_workbook(books[town])
        keys = case_keys(book)
        assert {key for sheet_keys in keys.values() for key in sheet_keys} == expected[town]
        for sheet in book.worksheets:
            if sheet.title in (SUMMARY_SHEET, "_meta"):
                continue
            assert {row["乡镇"] for row in table(sheet)} <= {town}, sheet.title
    county = case_keys(openpyxl.load_workbook(books["全县"]))
    assert {key for sheet_keys in county.values() for key in sheet_keys} == expected[EAST] | expected[XIELU]


def test_suppressed_findings_are_not_listed_and_unconfirmed_ones_only_on_the_confirm_sheet(books):
    keys = case_keys(openpyxl.load_workbook(books["全县"]))
    everywhere = [key for sheet_keys in keys.values() for key in sheet_keys]
    assert "ka03" not in everywhere  # suppressed
    assert keys[CONFIRM_SHEET] == ["ka05"]  # needs_confirmation
    assert everywhere.count("ka05") == 1
    assert set(keys) == {"死亡人员仍领取", "迁出仍领取", "重度残疾人护理补贴漏发", CONFIRM_SHEET}


def test_confirm_sheet_lists_the_townships_links_keyed_for_feedback(books):
    links = [row for row in table(openpyxl.load_workbook(books["全县"])[CONFIRM_SHEET]) if row["关联编号"]]
    assert [row["关联编号"] for row in links] == ["dibao:5:P06", "payments:9:P04"]
    dibao = links[0]
    assert (dibao["来源"], dibao["行号"], dibao["姓名"], dibao["候选人姓名"]) == ("低保在册家庭成员", 5, "孙立", "孙立")
    assert dibao["身份证号"] == "130531********9067" and dibao["候选人身份证号"] == "130531********9067"
    # a band, not a score; what was compared in words, without the weights
    assert dibao["关联可信度"] == "中" and links[1]["关联可信度"] == "低"
    assert dibao["证据"] == "已按此人关联，请确认；姓名相同、出生日期相近；同一人可信度中"
    # the payments row has no township of its own: the candidate's (谢炉镇) decides which book holds it
    east = [row["关联编号"] for row in table(openpyxl.load_workbook(books[EAST])[CONFIRM_SHEET]) if row["关联编号"]]
    xielu = [row["关联编号"] for row in table(openpyxl.load_workbook(books[XIELU])[CONFIRM_SHEET]) if row["关联编号"]]
    assert (east, xielu) == (["dibao:5:P06"], ["payments:9:P04"])


def test_rows_are_sorted_by_money_at_stake_with_numeric_two_decimal_amounts(books):
    sheet = openpyxl.load_workbook(books[EAST])["死亡人员仍领取"]
    rows = table(sheet)
    assert [row["案件编号"] for row in rows] == EAST_DECEASED_ORDER
    for header in ("应追回金额", "应补发金额"):
        column = header_column(sheet, header)
        for cell in sheet[column][1:]:
            assert isinstance(cell.value, float | int) and cell.number_format == "0.00"
    assert rows[0]["应追回金额"] == pytest.approx(10080.0)
    assert (rows[0]["起始月份"], rows[0]["截止月份"], rows[0]["状态"]) == ("2025-04", "2026-10", "持续存在")


def test_check_sheets_have_conclusion_drop_down_frozen_header_and_filter(books):
    book = openpyxl.load_workbook(books["全县"])
    for title in ("死亡人员仍领取", "迁出仍领取", "重度残疾人护理补贴漏发", CONFIRM_SHEET):
        sheet = book[title]
        assert sheet.freeze_panes == "A2", title
        assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}{sheet.max_row}", title
        assert drop_down(sheet, "核查结论") == '"属实,不属实,已整改"', title
    assert drop_down(book[CONFIRM_SHEET], "身份确认") == '"是同一人,不是同一人"'


def test_meta_sheet_names_county_run_as_of_and_township_and_is_hidden(books):
    for name, path in books.items():
        meta = openpyxl.load_workbook(path)["_meta"]
        assert meta.sheet_state == "hidden"
        assert [tuple(row) for row in meta.iter_rows(min_row=1, max_row=4, max_col=2, values_only=True)] == [
            ("county", "130529"), ("run_id", RUN_ID), ("as_of", "2026-10"), ("township", name)]


def test_summary_counts_statuses_suppressed_resolved_and_links(books):
    sheet = openpyxl.load_workbook(books[EAST])[SUMMARY_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(index for index, row in enumerate(rows) if row[0] == "检查项目")
    by_check = {row[0]: dict(zip(rows[header], row)) for row in rows[header + 1:] if row[0]}
    deceased = by_check["死亡人员仍领取"]
    # East: ka01 new 6300, ka02 persisting 10080, ka09 new (600 back-pay), ka10 new 600; ka03 suppressed; kr01 resolved
    assert (deceased["发现（条）"], deceased["新发现"], deceased["持续存在"]) == (4, 3, 1)
    assert deceased[f"{STATUS_LABELS['suppressed']}，不再列出"] == 1 and deceased["上次列出、本次已消除"] == 1
    assert deceased["应追回金额（元）"] == pytest.approx(16980.0) and deceased["应补发金额（元）"] == pytest.approx(600.0)
    assert "死亡当月" in deceased["检查说明"]
    assert by_check["合计"]["发现（条）"] == 6
    assert any(isinstance(row[0], str) and row[0].startswith("待确认身份关联：1 条") for row in rows)
    county = openpyxl.load_workbook(books["全县"])[SUMMARY_SHEET]
    county_rows = {row[0]: row for row in county.iter_rows(values_only=True) if row[0]}
    moved = dict(zip(next(row for row in county.iter_rows(values_only=True) if row[0] == "检查项目"), county_rows["迁出仍领取"]))
    assert (moved["其中待确认"], moved[STATUS_LABELS["reopened"]], moved["上次列出、本次已消除"]) == (1, 1, 1)


def test_workbooks_without_case_history_list_everything_as_new(tmp_path):
    con = build_run_database(tmp_path / "hecha.duckdb", with_history=False)
    try:
        paths = write_workbooks(con, tmp_path / "books", run_id=RUN_ID, as_of="2026-10", county=None, policy=load_policy())
    finally:
        con.close()
    book = openpyxl.load_workbook(tmp_path / "books" / "全县.xlsx")
    assert len(paths) == 3
    rows = table(book["死亡人员仍领取"])
    assert {row["状态"] for row in rows} == {"新发现"} and "ka03" in {row["案件编号"] for row in rows}
    assert book["_meta"]["B1"].value is None


def test_render_sheet_html_is_a_plain_table_with_styled_header_and_widths(books):
    page = render_sheet_html(books[EAST], "死亡人员仍领取")
    assert page.startswith("<!DOCTYPE html>") and "<table" in page and "<colgroup>" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "font-weight:bold" in page and "background:#DDEBF7" in page  # the header row as Excel shows it
    assert "130529********8743" in page and "10080.00" in page
    assert page.count("<tr>") == 1 + 1 + len(EAST_DECEASED_ORDER)  # column letters, header, rows
    assert "width:" in page and "▾" in page


def summary_rows(path):
    book = openpyxl.load_workbook(path)
    try:
        return [row[0] for row in book[SUMMARY_SHEET].iter_rows(values_only=True)]
    finally:
        book.close()


def local_minutes(zone, label):
    """The minute now and the minute just before, as the summary writes them."""
    now = dt.datetime.now(ZoneInfo(zone))
    return {f"{moment:%Y-%m-%d %H:%M}（{label}）" for moment in (now, now - dt.timedelta(minutes=1))}


def test_workbooks_state_an_overridden_gate_on_the_first_rows_of_the_summary(warned_books):
    for name, path in warned_books.items():
        first = summary_rows(path)
        assert first[:len(WARNINGS)] == WARNINGS, name
        assert first[len(WARNINGS)] == f"社会救助数据核查工作簿　{name}", name


def test_workbooks_state_an_overridden_gate_on_the_first_row_of_every_answer_sheet(warned_books):
    book = openpyxl.load_workbook(warned_books["全县"])
    sheets = [sheet for sheet in book.worksheets if sheet.title not in (SUMMARY_SHEET, OUTCOME_SHEET, "_meta")]
    assert {sheet.title for sheet in sheets} == {"死亡人员仍领取", "迁出仍领取", "重度残疾人护理补贴漏发", CONFIRM_SHEET}
    assert book[OUTCOME_SHEET]["A1"].value == WARNINGS[0]  # the county's figures open with them too, as the summary does
    for sheet in sheets:
        assert sheet["A1"].value == " ".join(WARNINGS), sheet.title
        assert "案件编号" in [cell.value for cell in sheet[2]], sheet.title  # the header moves to row 2
        assert sheet.freeze_panes == "A3", sheet.title
        assert sheet.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(sheet.max_column)}{sheet.max_row}"
    assert book["_meta"]["A1"].value == "county"  # the hidden sheet the import reads first is unchanged


def test_workbooks_with_a_warning_row_still_read_back_as_feedback(warned_books, tmp_path):
    book = openpyxl.load_workbook(warned_books[EAST])
    sheet = book["死亡人员仍领取"]
    header = {cell.value: cell.column for cell in sheet[2]}
    rows = {sheet.cell(row, header["案件编号"]).value: row for row in range(3, sheet.max_row + 1)}
    sheet.cell(rows["ka02"], header["核查结论"], "属实")
    confirm = book[CONFIRM_SHEET]
    confirm_header = {cell.value: cell.column for cell in confirm[2]}
    link_row = next(row for row in range(3, confirm.max_row + 1)
                    if confirm.cell(row, confirm_header["关联编号"]).value == "dibao:5:P06")
    confirm.cell(link_row, confirm_header["身份确认"], "是同一人")
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    meta, cases, links, problems = read_workbook(filled)
    assert problems == []
    assert (meta["run_id"], meta["township"]) == (RUN_ID, EAST)
    assert [(case.sheet, case.row, case.key, case.value) for case in cases] == [("死亡人员仍领取", rows["ka02"], "ka02", "属实")]
    assert [(link.row, link.key, link.value) for link in links] == [(link_row, "dibao:5:P06", "是同一人")]


def test_workbooks_with_warnings_count_the_same(warned_books, books):
    def by_check(path):
        rows = list(openpyxl.load_workbook(path)[SUMMARY_SHEET].iter_rows(values_only=True))
        header = next(index for index, row in enumerate(rows) if row[0] == "检查项目")
        return {row[0]: row[1:-1] for row in rows[header + 1:] if row[0] and row[1] is not None}

    assert by_check(warned_books[EAST]) == by_check(books[EAST])
    assert openpyxl.load_workbook(warned_books[EAST])[SUMMARY_SHEET].freeze_panes == f"A{len(WARNINGS) + 5}"


def test_workbooks_without_warnings_open_on_their_title(books):
    for name, path in books.items():
        first = summary_rows(path)
        assert first[0] == f"社会救助数据核查工作簿　{name}"
        assert not any(isinstance(text, str) and text.startswith("注意：") for text in first)
        assert openpyxl.load_workbook(path)["死亡人员仍领取"]["A1"].value == "状态"


def test_workbook_summary_says_when_it_was_made_on_the_countys_clock(books, warned_books):
    def made_at(path):
        line = next(text for text in summary_rows(path) if isinstance(text, str) and "生成时间：" in text)
        return line.split("生成时间：", 1)[1]

    assert made_at(books[EAST]) in local_minutes("Asia/Shanghai", "北京时间")
    assert made_at(warned_books[EAST]) in local_minutes("Asia/Urumqi", "Asia/Urumqi")
