"""Case history and feedback: statuses across runs, dispositions, validation of filled-in workbooks."""

import json

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback
from hecha.audit.history import apply_history, diff_runs, record_run
from tests.feedback_books import link_workbook, review_one_cremation_row

FINDING_COLUMNS = (
    "check_code varchar, person_id varchar, id_number varchar, name varchar, township varchar, village varchar, "
    "case_no varchar, period_start date, period_end date, overpaid_amount double, backpay_amount double, evidence varchar, case_key varchar"
)


def finding(key, evidence="死亡后仍发放 3 个月", overpaid=300.0, code="deceased_paid", township="城关镇"):
    return (code, f"P{key}", f"13053419500101{key:0>4}", f"人{key}", township, "东关村", "TK1", "2026-08-01", "2026-10-01",
            overpaid, 0.0, evidence, key)


class Folder:
    """An output folder whose runs are published by hand: findings in, history applied, recorded."""

    def __init__(self, path):
        self.path = path
        self.state = path / "audit.duckdb"
        self.runs = 0

    def run(self, findings, county="130534"):
        self.runs += 1
        run_id = f"2026-10_r{self.runs}"
        run_dir = self.path / run_id
        run_dir.mkdir(parents=True)
        con = duckdb.connect(str(run_dir / "hecha.duckdb"))
        con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
        con.executemany("insert into chk.finding values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", findings)
        counts = apply_history(con, state=self.state, run_id=run_id)
        statuses = dict(con.execute("select case_key, status from chk.finding_status").fetchall())
        resolved = [key for (key,) in con.execute("select case_key from chk.resolved order by 1").fetchall()]
        con.close()
        (run_dir / "run.json").write_text(json.dumps({"run_id": run_id, "parameters": {"as_of": "2026-10", "county": county},
                                                      "findings": {}}), encoding="utf-8")
        record_run(self.state, run_dir)
        return run_dir, statuses, resolved, counts

    def workbook(self, run_dir, rows, county="130534", name="book.xlsx"):
        """A workbook as an inspector returns it: _meta, and a sheet keyed by 案件编号 (rows in any order)."""
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "死亡人员仍领取"
        sheet.append(["姓名", "核查结论", "核查说明", "案件编号"])
        for key, conclusion, note in rows:
            sheet.append(["某人", conclusion, note, key])
        meta = book.create_sheet("_meta")
        for label, value in (("county", county), ("run_id", run_dir.name), ("as_of", "2026-10"), ("township", "城关镇")):
            meta.append([label, value])
        path = self.path / name
        book.save(path)
        return path


@pytest.fixture
def folder(tmp_path):
    return Folder(tmp_path / "out")


def test_statuses_new_persisting_resolved_and_recurred(folder):
    _, first, _, _ = folder.run([finding("k1"), finding("k2")])
    assert first == {"k1": "new", "k2": "new"}
    _, second, resolved, counts = folder.run([finding("k1")])
    assert second == {"k1": "persisting"} and resolved == ["k2"] and counts["resolved"] == 1
    _, third, resolved, _ = folder.run([finding("k1"), finding("k2")])
    assert third == {"k1": "persisting", "k2": "recurred"} and resolved == []


def test_not_true_stays_suppressed_until_the_evidence_changes(folder):
    run_dir, _, _, _ = folder.run([finding("k1")])
    result = import_feedback(folder.workbook(run_dir, [("k1", "不属实", "同名不同人")]), folder.path, inspector="张科员")
    assert result.dispositions == {"不属实": 1}
    _, same, _, _ = folder.run([finding("k1")])
    assert same == {"k1": "suppressed"}
    _, changed, _, _ = folder.run([finding("k1", evidence="死亡后仍发放 4 个月", overpaid=400.0)])
    assert changed == {"k1": "reopened"}


def test_rectified_finding_that_reappears_with_new_evidence_is_recurred(folder):
    run_dir, _, _, _ = folder.run([finding("k1")])
    import_feedback(folder.workbook(run_dir, [("k1", "已整改", None)]), folder.path, inspector="李科员")
    _, unchanged, _, _ = folder.run([finding("k1")])
    assert unchanged == {"k1": "suppressed"}
    _, again, _, _ = folder.run([finding("k1", evidence="死亡后仍发放 5 个月", overpaid=500.0)])
    assert again == {"k1": "recurred"}


def test_true_finding_keeps_showing(folder):
    run_dir, _, _, _ = folder.run([finding("k1")])
    import_feedback(folder.workbook(run_dir, [("k1", "属实", "已通知追回")]), folder.path, inspector="王科员")
    _, later, _, _ = folder.run([finding("k1")])
    assert later == {"k1": "persisting"}


def test_feedback_is_recorded_with_who_when_and_which_run(folder):
    run_dir, _, _, _ = folder.run([finding("k1"), finding("k2")])
    import_feedback(folder.workbook(run_dir, [("k2", "属实", "入户核实"), ("k1", "不属实", None)]), folder.path, inspector="赵科员")
    con = duckdb.connect()
    con.execute(f"attach '{folder.state}' as history (read_only)")
    rows = con.execute("select case_key, conclusion, note, inspector, run_id, source_row from history.audit.disposition order by 1").fetchall()
    assert rows == [("k1", "不属实", None, "赵科员", run_dir.name, 3), ("k2", "属实", "入户核实", "赵科员", run_dir.name, 2)]


def test_feedback_errors_name_the_row_and_nothing_is_recorded(folder):
    run_dir, _, _, _ = folder.run([finding("k1")])
    book = folder.workbook(run_dir, [("k1", "属实", None), ("nope", "属实", None), ("k1", "差不多", None)])
    with pytest.raises(FeedbackError) as error:
        import_feedback(book, folder.path)
    message = str(error.value)
    assert "row 3: 案件编号 'nope'" in message
    assert "row 4: 核查结论 '差不多'" in message
    _, statuses, _, _ = folder.run([finding("k1")])
    assert statuses == {"k1": "persisting"}  # the valid row was not recorded either


def test_feedback_from_another_county_is_refused(folder):
    run_dir, _, _, _ = folder.run([finding("k1")])
    with pytest.raises(FeedbackError, match="county '130535'"):
        import_feedback(folder.workbook(run_dir, [("k1", "属实", None)], county="130535"), folder.path)


def test_diff_counts_added_gone_and_changed_cases_per_check(folder):
    first, _, _, _ = folder.run([finding("k1"), finding("k2"), finding("k3", code="missed_care_subsidy")])
    second, _, _, _ = folder.run([finding("k1", overpaid=400.0), finding("k4"), finding("k3", code="missed_care_subsidy")])
    diff = diff_runs(first, second)
    # k1 300 → 400 (+100), k2 gone (−300), k4 added (+300)
    assert diff["deceased_paid"] == {"added": 1, "gone": 1, "changed": 1, "unchanged": 0,
                                     "overpaid_delta": pytest.approx(100.0), "backpay_delta": 0.0}
    assert diff["missed_care_subsidy"]["unchanged"] == 1


def test_new_row_numbers_or_a_refitted_link_score_are_not_new_evidence(folder):
    before = "火化记录 HH1（火化第 662 行，概率匹配 0.998：姓名同音(+8.4)）；发放明细第 5229、5838 行共 1760.00 元"
    after = "火化记录 HH1（火化第 700 行，概率匹配 0.997：姓名同音(+8.1)）；发放明细第 12、13 行共 1760.00 元"
    run_dir, _, _, _ = folder.run([finding("k1", evidence=before)])
    import_feedback(folder.workbook(run_dir, [("k1", "不属实", None)]), folder.path, inspector="张科员")
    _, statuses, _, _ = folder.run([finding("k1", evidence=after)])
    assert statuses == {"k1": "suppressed"}


def test_link_decisions_are_remembered_by_the_rows_signature(folder):
    from hecha.audit.feedback import link_decisions

    run_dir, _, _, _ = folder.run([finding("k1")])
    review_one_cremation_row(run_dir)
    path = link_workbook(folder.path / "links.xlsx", run_dir.name, "城关镇", [
        ["王莉", "不是同一人", "年龄不符", "cremation:7:Pabc"],
        ["王莉", "是同一人", None, "cremation:8:Pabc"],  # not a link to confirm of that run
    ])
    with pytest.raises(FeedbackError, match="row 3: 关联编号 'cremation:8:Pabc'"):
        import_feedback(path, folder.path)
    link_workbook(path, run_dir.name, "城关镇", [["王莉", "不是同一人", "年龄不符", "cremation:7:Pabc"]])  # the bad row taken out
    assert import_feedback(path, folder.path, inspector="张科员").link_decisions == {"different": 1}
    assert link_decisions(folder.state) == [("cremation", "sig7", "Pabc", "different")]
