"""The province publication: its folder, its masking, each county's books, and the cross findings' case history.

province.finding is built by hand with the cross-county stage's columns
(tests/province_books.py): counties A and B published, C failed unless a test
says otherwise. Statuses are worked out from what each test publishes.
"""

import csv
import json
import stat
from pathlib import Path

import duckdb
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback
from hecha.audit.history import open_state
from hecha.province import publish
from hecha.province.publish import PublicationError, publish_province
from hecha.reports.exceptions import EXCEPTION_COLUMNS
from hecha.storage.masking import mask_id_number
from tests.province_books import (
    COUNTY_A,
    COUNTY_B,
    COUNTY_C,
    OWN_FINDINGS,
    REASONS,
    answer_book,
    book_rows,
    counties_list,
    cross_finding,
    finding_connection,
    record,
)


class Province:
    """A province out folder whose cross findings are published by hand, one publication per call."""

    def __init__(self, out: Path):
        self.out = out
        self.published = 0

    def publish(self, rows: list[dict], statuses: dict[str, str] | None = None, refused: list[dict] | None = None) -> Path:
        self.published += 1
        run_id = f"2026-10_2026110{self.published}T000000"
        con = finding_connection(rows)
        given = record(run_id)
        given["parameters"]["refused_folders"] = refused or []
        try:
            return publish_province(con, self.out, run_id, counties_list(self.out, statuses), given)
        finally:
            con.close()

    def answer(self, run_dir: Path, county: str, answers: dict[str, tuple[str, str]]):
        """An inspector of `county` fills in its 全县 book of `run_dir` and it is imported."""
        book = answer_book(run_dir / "counties" / county / "全县.xlsx", answers,
                           self.out / f"answered_{county}_{run_dir.name}.xlsx")
        return import_feedback(book, self.out, inspector="王")


def statuses_of(run_dir: Path) -> tuple[dict[str, str], set[str]]:
    con = duckdb.connect(str(run_dir / "hecha.duckdb"), read_only=True)
    try:
        status = dict(con.execute("select case_key, status from chk.finding_status").fetchall())
        resolved = {key for (key,) in con.execute("select case_key from chk.resolved").fetchall()}
    finally:
        con.close()
    return status, resolved


def history_runs(out: Path) -> list[str]:
    with open_state(out / "audit.duckdb", read_only=True) as con:
        return [run_id for (run_id,) in con.execute("select run_id from audit.run order by run_id").fetchall()]


def book_keys(book: Path) -> set[str]:
    return {row["案件编号"] for row in book_rows(book)}


@pytest.fixture
def province(tmp_path):
    return Province(tmp_path / "province")


@pytest.fixture
def three_findings():
    """Two paid by A (one on a shaky link, to confirm), one by B (a duplicate with A)."""
    return [
        cross_finding(1),
        cross_finding(2, code="cross_duplicate_benefit", county=COUNTY_B, other=COUNTY_A, township="北关镇", overpaid="600.00"),
        cross_finding(3, overpaid="300.50", needs_confirmation=True),
    ]


# ---------------------------------------------------------------------------------------------- the folder


def test_publish_province_writes_the_run_folder_and_records_it(province, three_findings):
    run_dir = province.publish(three_findings)
    expected = ["province.json", "run.json", "cross_findings.csv", "report.html", "hecha.duckdb",
                f"counties/{COUNTY_A}/城关镇.xlsx", f"counties/{COUNTY_A}/全县.xlsx",
                f"counties/{COUNTY_B}/北关镇.xlsx", f"counties/{COUNTY_B}/全县.xlsx",
                f"counties/{COUNTY_C}/全县.xlsx"]  # the failed county's book: empty, saying so
    assert [name for name in expected if not (run_dir / name).is_file()] == []
    assert run_dir.name == "2026-10_20261101T000000" and run_dir.parent == province.out
    assert not list(province.out.glob(".work-*"))
    assert history_runs(province.out) == [run_dir.name]
    # owner-only, as every output
    for path in [run_dir, *run_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_province_json_holds_each_county_and_the_cross_findings(province, three_findings):
    summary = json.loads((province.publish(three_findings) / "province.json").read_text(encoding="utf-8"))
    assert (summary["run_id"], summary["as_of"], summary["parameters"]["store"]) == ("2026-10_20261101T000000", "2026-10", "store")
    counties = {entry["county"]: entry for entry in summary["counties"]}
    assert [counties[code]["status"] for code in (COUNTY_A, COUNTY_B, COUNTY_C)] == ["published", "published", "failed"]
    assert counties[COUNTY_C]["error"] == REASONS["failed"]
    # each county's own findings from its run.json, its money from its exceptions.csv
    assert counties[COUNTY_A]["findings"] == {"deceased_paid": 2}
    assert counties[COUNTY_A]["money"]["deceased_paid"]["overpaid_amount"] == OWN_FINDINGS[COUNTY_A]["deceased_paid"][1]
    assert counties[COUNTY_B]["money"]["moved_out_paid"]["overpaid_amount"] == 50.5
    assert counties[COUNTY_C]["findings"] == {} and counties[COUNTY_C]["seconds"] == 3.0
    cross = summary["cross_findings"]
    assert cross["by_check"]["cross_deceased_paid"] == {"findings": 2, "overpaid_amount": 1200 + 300.5, "backpay_amount": 0}
    assert cross["by_check"]["cross_moved_out_paid"]["findings"] == 0
    assert cross["by_county"][COUNTY_B] == {"cross_duplicate_benefit": {"findings": 1, "overpaid_amount": 600.0,
                                                                        "backpay_amount": 0.0}}
    assert cross["by_county"][COUNTY_C] == {}
    assert summary["statuses"]["new"] == 3
    assert set(summary["timings_seconds"]) == {"counties", "cross", "publish"}


def test_each_county_book_holds_only_the_findings_it_pays(province, three_findings):
    run_dir = province.publish(three_findings)
    for county in (COUNTY_A, COUNTY_B, COUNTY_C):
        paid = {row["case_key"] for row in three_findings if row["county"] == county}
        for book in (run_dir / "counties" / county).glob("*.xlsx"):
            assert book_keys(book) <= paid, book
        assert book_keys(run_dir / "counties" / county / "全县.xlsx") == paid
    # the finding on a shaky link is listed on 待确认 in its county's book
    shaky = next(row for row in book_rows(run_dir / "counties" / COUNTY_A / "全县.xlsx")
                 if row["案件编号"] == three_findings[2]["case_key"])
    assert shaky["sheet"] == "待确认"


def test_numbers_are_masked_in_workbooks_and_report_but_not_in_the_csv(province, three_findings):
    run_dir = province.publish(three_findings)
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    cells = " ".join(str(value) for book in run_dir.rglob("*.xlsx") for row in book_rows(book) for value in row.values())
    for row in three_findings:
        assert row["id_number"] not in report and row["id_number"] not in cells
        assert mask_id_number(row["id_number"]) in cells  # the 身份证号 column, and inside the evidence
    assert mask_id_number(three_findings[0]["id_number"]) in report
    csv_text = (run_dir / "cross_findings.csv").read_text(encoding="utf-8-sig")
    assert all(row["id_number"] in csv_text for row in three_findings)  # restricted machine output


def test_report_names_the_failed_and_late_counties_with_their_reason(province, three_findings):
    run_dir = province.publish(three_findings, statuses={COUNTY_B: "late"})
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert f'data-county="{COUNTY_C}">{COUNTY_C}：失败，payments.csv 第 12 行 金额: expected yuan' in report
    assert f'data-county="{COUNTY_B}">{COUNTY_B}：数据滞后（截至月份早于本次），not finished within 3600 s' in report
    assert f'data-county="{COUNTY_A}"' not in report
    counties = {entry["county"]: entry for entry in json.loads((run_dir / "province.json").read_text())["counties"]}
    assert (counties[COUNTY_B]["status"], counties[COUNTY_B]["error"]) == ("late", REASONS["late"])


def test_report_names_a_refused_drop_folder_by_its_name_escaped(province, three_findings):
    folder = '=HYPERLINK("x")<b>'
    run_dir = province.publish(three_findings, refused=[{"folder": folder, "error": "manifest.yaml names no county"}])
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "文件夹 =HYPERLINK(&quot;x&quot;)&lt;b&gt;：失败，manifest.yaml names no county" in report
    assert "<b>" not in report.split('id="missing-counties"')[1].split("</section>")[0]


def test_report_without_a_missing_county_has_no_alert(province, three_findings):
    report = (province.publish(three_findings, statuses={COUNTY_C: "published"}) / "report.html").read_text(encoding="utf-8")
    assert 'id="missing-counties"' not in report and "data-county=" not in report


def test_cross_findings_csv_is_exceptions_csv_plus_counties_and_status(province, three_findings, tmp_path):
    three_findings[0]["name"] = "=HYPERLINK(1)"
    run_dir = province.publish(three_findings)
    raw = (run_dir / "cross_findings.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (run_dir / "cross_findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == (*EXCEPTION_COLUMNS[:-1], "county", "other_county", "status")
    by_key = {row["case_key"]: row for row in rows}
    first = by_key[three_findings[0]["case_key"]]
    assert first["name"] == "'=HYPERLINK(1)"
    assert (first["county"], first["other_county"], first["status"], first["overpaid_amount"]) == (COUNTY_A, COUNTY_B, "new", "1200.00")
    assert [row["check_code"] for row in rows] == sorted(row["check_code"] for row in rows)
    # the same findings and history elsewhere: the same bytes, whatever order the rows came in
    again = Province(tmp_path / "again").publish(list(reversed(three_findings)))
    assert (again / "cross_findings.csv").read_bytes() == raw


# ---------------------------------------------------------------------------------------------- statuses


def test_second_publication_persists_resolves_and_finds_new(province):
    first = province.publish([cross_finding(1), cross_finding(2), cross_finding(3)])
    second = province.publish([cross_finding(1), cross_finding(2), cross_finding(6)])
    status, resolved = statuses_of(second)
    key = {number: cross_finding(number)["case_key"] for number in (1, 2, 3, 6)}
    assert status == {key[1]: "persisting", key[2]: "persisting", key[6]: "new"}
    assert resolved == {key[3]}
    assert json.loads((second / "province.json").read_text())["statuses"]["previous_run"] == first.name
    assert (second / "counties" / COUNTY_A / "全县.xlsx").is_file()


def test_verdicts_suppress_then_a_changed_basis_reopens(province):
    first = province.publish([cross_finding(1), cross_finding(2)])
    key1, key2 = cross_finding(1)["case_key"], cross_finding(2)["case_key"]
    result = province.answer(first, COUNTY_A, {key1: ("不属实", "本人健在，死亡记录系同名"), key2: ("已整改", "已停发")})
    assert result.dispositions == {"不属实": 1, "已整改": 1}
    # the same facts: both suppressed, even with one more month paid on the 不属实 one
    second = province.publish([cross_finding(1, months=("2026-07", "2026-11")), cross_finding(2)])
    assert statuses_of(second)[0] == {key1: "suppressed", key2: "suppressed"}
    # another death date (the basis) reopens the 不属实; one more month paid brings the 已整改 back
    later = "110000 户籍登记死亡（2026-05），死亡后仍发放 2026-07 至 2026-10"
    third = province.publish([cross_finding(1, evidence=later), cross_finding(2, months=("2026-07", "2026-11"))])
    assert statuses_of(third)[0] == {key1: "reopened", key2: "recurred"}


def test_case_of_an_unread_county_is_not_resolved(province):
    key1, key4 = cross_finding(1)["case_key"], cross_finding(4, county=COUNTY_B, other=COUNTY_A)["case_key"]
    province.publish([cross_finding(1), cross_finding(4, county=COUNTY_B, other=COUNTY_A)])
    # B failed: neither the case B pays nor the one whose death B records was looked for
    gap = province.publish([], statuses={COUNTY_B: "failed"})
    assert statuses_of(gap)[1] == set()
    # B is back and both are found: they went on all along
    back = province.publish([cross_finding(1), cross_finding(4, county=COUNTY_B, other=COUNTY_A)])
    assert statuses_of(back)[0] == {key1: "persisting", key4: "persisting"}


def test_case_of_a_read_county_gone_is_resolved_and_back_recurs(province):
    key4 = cross_finding(4, county=COUNTY_B, other=COUNTY_A)["case_key"]
    province.publish([cross_finding(4, county=COUNTY_B, other=COUNTY_A)])
    gone = province.publish([])  # both counties read: it went
    assert statuses_of(gone)[1] == {key4}
    back = province.publish([cross_finding(4, county=COUNTY_B, other=COUNTY_A)])
    assert statuses_of(back)[0] == {key4: "recurred"}


# ---------------------------------------------------------------------------------------------- feedback rules


def test_a_county_book_cannot_decide_another_countys_case(province, three_findings):
    run_dir = province.publish(three_findings)
    a_case, b_case = three_findings[0]["case_key"], three_findings[1]["case_key"]
    book = answer_book(run_dir / "counties" / COUNTY_A / "全县.xlsx", {a_case: ("属实", "")}, province.out / "a.xlsx")
    # the A book, with B's case typed into it by hand
    import openpyxl

    edited = openpyxl.load_workbook(book)
    sheet = edited["跨县死亡仍领取"]
    header = [cell.value for cell in sheet[2]]  # row 1: the warning about the failed county
    sheet.cell(3, header.index("案件编号") + 1).value = b_case
    sheet.cell(3, header.index("核查结论") + 1).value = "属实"
    edited.save(province.out / "a_with_b.xlsx")
    with pytest.raises(FeedbackError, match=f"is a case of county {COUNTY_B}, not of {COUNTY_A}"):
        import_feedback(province.out / "a_with_b.xlsx", province.out)
    assert import_feedback(book, province.out).dispositions == {"属实": 1}


def test_a_book_of_a_county_outside_the_province_is_refused(province, three_findings):
    run_dir = province.publish(three_findings)
    import openpyxl

    book = openpyxl.load_workbook(answer_book(run_dir / "counties" / COUNTY_A / "全县.xlsx",
                                              {three_findings[0]["case_key"]: ("属实", "")}, province.out / "a.xlsx"))
    book["_meta"]["B1"].value = "999999"
    book.save(province.out / "other.xlsx")
    with pytest.raises(FeedbackError, match="workbook of county '999999', but province run"):
        import_feedback(province.out / "other.xlsx", province.out)


# ---------------------------------------------------------------------------------------------- failure and bad input


def test_failure_while_writing_leaves_nothing_published(province, three_findings, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "write_province_report", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        province.publish(three_findings)
    assert not (province.out / "2026-10_20261101T000000").exists()
    assert history_runs(province.out) == []
    (work,) = province.out.glob(".work-*")
    assert json.loads((work / "run.json").read_text())["status"] == "failed"


def test_failure_while_recording_rolls_back_and_publishes_nothing(province, three_findings, monkeypatch):
    real = publish.record_run_in

    def record_then_fail(con, **kwargs):
        real(con, **kwargs)  # the cases and the run are written, then the step fails before the commit
        raise RuntimeError("killed")

    monkeypatch.setattr(publish, "record_run_in", record_then_fail)
    with pytest.raises(RuntimeError, match="killed"):
        province.publish(three_findings)
    assert not (province.out / "2026-10_20261101T000000").exists()
    assert history_runs(province.out) == []
    with open_state(province.out / "audit.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from audit.case").fetchall() == [(0,)]


@pytest.mark.parametrize(("description", "damage", "message"), [
    ("a column missing", lambda con: con.execute("alter table province.finding drop column other_county"),
     "province.finding: expected the columns check_code, county, other_county"),
    ("two findings, one key", lambda con: con.execute("update province.finding set case_key = 'same'"),
     "2 finding.s. share a case_key|1 finding.s. share a case_key"),
    ("a month as a date", lambda con: con.execute("update province.finding set period_end = '2026-10-01'"),
     "period_start or period_end that is not YYYY-MM"),
])
def test_publish_province_refuses_a_finding_table_it_cannot_publish(province, three_findings, description, damage, message):
    con = finding_connection(three_findings)
    damage(con)
    with pytest.raises(PublicationError, match=message):
        publish_province(con, province.out, "2026-10_x", counties_list(province.out), record("2026-10_x"))
    assert not (province.out / "2026-10_x").exists() and not list(province.out.glob(".work-*"))


def test_publish_province_refuses_a_county_list_it_cannot_read(province, three_findings):
    con = finding_connection(three_findings)
    counties = counties_list(province.out)
    with pytest.raises(PublicationError, match="county '1305' is not a 6-digit division code"):
        publish_province(con, province.out, "2026-10_x", [*counties, {"county": "1305", "status": "published"}], record("2026-10_x"))
    with pytest.raises(PublicationError, match="status 'done' is not one of published, failed, late"):
        publish_province(con, province.out, "2026-10_x", [counties[0] | {"status": "done"}], record("2026-10_x"))


def test_publication_killed_after_the_rename_is_recorded_by_the_next_writer(province, three_findings, monkeypatch):
    from contextlib import contextmanager

    @contextmanager
    def killed_before_commit(con):
        con.execute("begin transaction")
        yield con  # the cases are written and the folder renamed into place
        con.execute("rollback")
        raise KeyboardInterrupt  # the process dies before the commit

    with monkeypatch.context() as patch:
        patch.setattr(publish, "transaction", killed_before_commit)
        with pytest.raises(KeyboardInterrupt):
            province.publish(three_findings)
    first = province.out / "2026-10_20261101T000000"
    assert first.is_dir() and (first / "run.json").is_file()
    assert history_runs(province.out) == []  # published, not recorded
    second = province.publish(three_findings)  # opening the history records the first publication first
    assert history_runs(province.out) == [first.name, second.name]
    assert set(statuses_of(second)[0].values()) == {"persisting"}
