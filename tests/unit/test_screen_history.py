"""Screens in the case history: recorded once, and a blocked payment confirmed 属实 counted as money prevented."""

import datetime as dt
import json
import os
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from hecha.audit.history import STATE, open_state, transaction
from hecha.audit.outcomes import prevented_summary, prevented_totals, track_outcomes
from hecha.audit.screens import SCREEN_DATABASE, SCREEN_RECORD, SCREENS_FOLDER, record_screen, record_screen_in
from hecha.config import load_policy
from hecha.reports.html_report import render_html_report
from hecha.reports.workbooks import OUTCOME_SHEET, PREVENTED_TITLE, write_workbooks
from hecha.storage.tables import SCREEN_LINE, ddl
from tests.unit.test_outcome_reports import Tables, outcome_section

COUNTY, MONTH = "130534", "2026-11"
NOV = dt.date(2026, 11, 1)
NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
FINDING_COLUMNS = (
    "check_code varchar, person_id varchar, id_number varchar, name varchar, township varchar, village varchar, "
    "case_no varchar, period_start date, period_end date, overpaid_amount double, backpay_amount double, "
    "link_confidence double, needs_confirmation boolean, evidence varchar, case_key varchar"
)


def line(row, verdict, reason, key, amount, *, programme="dibao", month=NOV, town="城关镇"):
    """A screen.line row in SCREEN_LINE's column order."""
    return (row, month, programme, f"DB{row:03d}", f"人{row}", f"13053419500101{row:04d}", f"13053419500101{row:04d}",
            Decimal(amount), town, "东关村", f"P{row}", "night", 1.0, verdict,
            reason, reason or "", "证据" if reason else "", key)


# A batch of 2026-11: four lines blocked, one held, one passed.
LINES = [
    line(1, "block", "dead", "s1", "600.00"),            # to be confirmed 属实: prevented
    line(2, "block", "dead", "s2", "500.00"),            # 不属实: paid after all, not prevented
    line(3, "block", "case_stopped", "s3", "700.00"),    # 已整改: prevented
    line(4, "block", "repeated_line", "s4", "300.00"),   # no verdict yet: open
    line(5, "hold", "uncertain_identity", "s5", "400.00"),  # held, confirmed 属实: not money prevented
    line(6, "pass", None, None, "800.00"),
]


def write_screen(out, screen_id, lines=LINES, *, sha="ab" * 32, finished=NOW, folder_name=None):
    """A published screen folder built by hand (or its work folder, `folder_name`): screen.duckdb with screen.line, and screen.json."""
    folder = out / SCREENS_FOLDER / (folder_name or screen_id)
    folder.mkdir(parents=True)
    con = duckdb.connect()
    try:
        # attached under another name: the file's own name, screen, would clash with the schema
        con.execute(f"attach '{folder / SCREEN_DATABASE}' as screened")
        con.execute("use screened")
        con.execute("create schema screen")
        con.execute(ddl(SCREEN_LINE))
        con.executemany(f"insert into screen.line values ({', '.join('?' * len(SCREEN_LINE.columns))})", lines)
    finally:
        con.close()
    counted = {verdict: [item for item in lines if item[13] == verdict] for verdict in ("block", "hold", "pass")}
    record = {
        "screen_id": screen_id, "kind": "screen", "status": "succeeded",
        "started_at": finished.replace(tzinfo=dt.timezone.utc).isoformat(),
        "finished_at": finished.replace(tzinfo=dt.timezone.utc).isoformat(),
        "month": MONTH, "night_run": "2026-10_r1", "county": COUNTY,
        "batch": {"file": f"/drop/batch-{MONTH}.csv", "name": f"batch-{MONTH}.csv", "sha256": sha, "rows": len(lines)},
        "counts": {"lines": len(lines), **{verdict: len(rows) for verdict, rows in counted.items()}},
        "amounts": {verdict: float(sum(item[7] for item in rows)) for verdict, rows in counted.items()},
    }
    (folder / SCREEN_RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return folder, record


def verdict(state, screen_id, case_key, conclusion, *, at=None, row=2):
    """An officer's 核查结论 on a 拦截清单 line, as the feedback import records it (audit/feedback.py `_record`)."""
    with open_state(state) as history, transaction(history):
        history.execute(
            "insert into audit.disposition (case_key, conclusion, note, inspector, recorded_at, run_id, evidence_hash, basis_hash, "
            "source_file, source_sheet, source_row) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_key, conclusion, None, "张科员", at or NOW, screen_id, None, None, "全县.xlsx", "拦截清单", row],
        )


def run_database(path):
    """A run database with only what outcomes read: no findings, an empty ledger."""
    con = duckdb.connect(str(path))
    con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
    con.execute("create schema stg; create table stg.payments (source_row integer, paid_month date, programme varchar, "
                "case_no varchar, amount decimal(12,2))")
    con.execute("create schema int; create table int.person_month_paid (ledger_row integer, paid_month date, "
                "programme varchar, case_no varchar, person_id varchar, amount double)")
    return con


def tracked(out, tmp_path, name="run", findings=()):
    """A nightly run's outcomes after the screens and verdicts: chk.prevented_summary, as the reports read it."""
    con = run_database(tmp_path / f"{name}.duckdb")
    for row in findings:
        con.execute(f"insert into chk.finding values ({', '.join('?' * 15)})", row)
    summary = track_outcomes(con, state=out / STATE, run_id=f"2026-11_{name}", as_of="2026-11")
    return con, summary


def by_reason(rows):
    return {(row["screen_verdict"], row["reason_code"]): row for row in rows}


@pytest.fixture
def out(tmp_path):
    return tmp_path / "out"


def test_a_screen_is_recorded_once_with_its_blocked_and_held_lines(out):
    folder, record = write_screen(out, "2026-11_20261125T010000")
    record_screen(out / STATE, folder)
    record_screen(out / STATE, folder)  # again: nothing changes
    with open_state(out / STATE) as history, transaction(history):
        record_screen_in(history, record=record, screen_dir=folder)  # as the screen flow calls it
    with open_state(out / STATE, read_only=True) as history:
        screens = history.execute(
            "select screen_id, batch_month, county, night_run, batch_name, batch_sha256, screen_dir, lines, block_lines, "
            "hold_lines, pass_lines, block_amount, hold_amount, pass_amount from audit.screen").fetchall()
        lines = history.execute("select screen_id, source_row, case_key, verdict, reason_code, amount, paid_month, person_id "
                                "from audit.screen_line order by source_row").fetchall()
        columns = {name for (name,) in history.execute(
            "select column_name from duckdb_columns() where table_name = 'screen_line'").fetchall()}
    assert screens == [("2026-11_20261125T010000", NOV, COUNTY, "2026-10_r1", f"batch-{MONTH}.csv", "ab" * 32, str(folder),
                        6, 4, 1, 1, Decimal("2100.00"), Decimal("400.00"), Decimal("800.00"))]
    assert [(row[1], row[2], row[3], row[4], row[5]) for row in lines] == [
        (1, "s1", "block", "dead", Decimal("600.00")), (2, "s2", "block", "dead", Decimal("500.00")),
        (3, "s3", "block", "case_stopped", Decimal("700.00")), (4, "s4", "block", "repeated_line", Decimal("300.00")),
        (5, "s5", "hold", "uncertain_identity", Decimal("400.00")),
    ]  # the passed line is paid as usual: not kept
    assert not {"name", "id_number", "id_number_raw", "evidence"} & columns  # no names or citizen numbers in the history


def test_money_prevented_is_the_blocked_lines_confirmed_true(out, tmp_path):
    folder, _ = write_screen(out, "2026-11_20261125T010000")
    record_screen(out / STATE, folder)
    state = out / STATE
    verdict(state, folder.name, "s1", "不属实", at=NOW - dt.timedelta(days=1))
    verdict(state, folder.name, "s1", "属实")  # the latest verdict is in force
    verdict(state, folder.name, "s2", "不属实")
    verdict(state, folder.name, "s3", "已整改")
    verdict(state, folder.name, "s5", "属实")
    con, summary = tracked(out, tmp_path)
    try:
        rows = prevented_summary(con)
    finally:
        con.close()
    reasons = by_reason(rows)
    assert [(row["screen_verdict"], row["reason_code"]) for row in rows] == [
        ("block", "dead"), ("block", "case_stopped"), ("block", "repeated_line"), ("hold", "uncertain_identity"),
    ]  # blocked before held, each in screen/reasons.py's order
    dead = reasons["block", "dead"]
    assert (dead["lines"], dead["true_count"], dead["not_true_count"], dead["no_verdict_count"]) == (2, 1, 1, 0)
    assert (dead["amount"], dead["prevented_amount"], dead["reason"], dead["verdict_label"]) == (1100.0, 600.0, "受益人已死亡", "拦截")
    assert reasons["block", "case_stopped"]["prevented_amount"] == 700.0  # 已整改: put right, the block was right
    assert (reasons["block", "repeated_line"]["no_verdict_count"], reasons["block", "repeated_line"]["prevented_amount"]) == (1, 0.0)
    held = reasons["hold", "uncertain_identity"]
    assert (held["true_count"], held["amount"], held["prevented_amount"]) == (1, 400.0, 0.0)  # held, not blocked
    total = prevented_totals(rows)
    assert (total["prevented_amount"], total["prevented_lines"], total["block_amount"], total["hold_amount"]) == (1300.0, 2, 2100.0, 400.0)
    assert total["true_rate"] == 2 / 3  # 属实 s1, s5 / (属实 + 不属实 s2), 已整改 apart
    assert summary["screens"]["prevented_amount"] == 1300.0  # run.json keeps the county's figures


def test_the_same_batch_screened_twice_counts_once(out, tmp_path):
    first, _ = write_screen(out, "2026-11_20261125T010000", finished=NOW - dt.timedelta(hours=2))
    # screened again after the officer took the repeated line out: the blocked payments are the same ones
    second, _ = write_screen(out, "2026-11_20261125T030000", [item for item in LINES if item[0] != 4], finished=NOW)
    record_screen(out / STATE, first)
    record_screen(out / STATE, second)
    verdict(out / STATE, second.name, "s1", "属实")
    con, _ = tracked(out, tmp_path)
    try:
        rows = prevented_summary(con)
        latest = con.execute("select distinct screen_id from chk.screen_history where case_key = 's1'").fetchall()
    finally:
        con.close()
    total = prevented_totals(rows)
    assert total["prevented_amount"] == 600.0 and total["block_lines"] == 4  # s1..s4 once each, not 7 lines
    assert latest == [(second.name,)]  # the latest screen that stopped it
    # the same key in another month is another payment
    december = [line(1, "block", "dead", "s1", "600.00", month=dt.date(2026, 12, 1))]
    third, _ = write_screen(out, "2026-12_20261220T010000", december, sha="cd" * 32)
    record_screen(out / STATE, third)
    con, _ = tracked(out, tmp_path, "again")
    try:
        assert prevented_totals(prevented_summary(con))["prevented_amount"] == 1200.0
    finally:
        con.close()


def test_a_history_without_the_screen_tables_is_read_and_gains_them(out, tmp_path):
    state = out / STATE
    with open_state(state) as history:  # a history written before screens were recorded
        history.execute("drop table audit.screen_line")
        history.execute("drop table audit.screen")
    con, summary = tracked(out, tmp_path)  # read only: the missing tables read as empty
    try:
        assert prevented_summary(con) == [] and summary["screens"]["prevented_amount"] == 0.0
    finally:
        con.close()
    with open_state(state) as history:
        tables = {name for (name,) in history.execute(
            "select table_name from duckdb_tables() where schema_name = 'audit'").fetchall()}
    assert {"screen", "screen_line"} <= tables


def test_a_screen_is_recorded_in_the_transaction_that_publishes_it(out):
    screen_id = "2026-11_20261125T010000"
    work, record = write_screen(out, screen_id, folder_name=f".work-{screen_id}")
    final = work.parent / screen_id
    with open_state(out / STATE) as history, transaction(history):  # as the screen flow publishes
        record_screen_in(history, record=record, screen_dir=final, database=work / SCREEN_DATABASE)
        os.replace(work, final)
    with pytest.raises(RuntimeError), open_state(out / STATE) as history, transaction(history):  # killed before the commit
        second, again = write_screen(out, "2026-11_20261125T020000", folder_name=".work-2026-11_20261125T020000")
        record_screen_in(history, record=again, screen_dir=out / SCREENS_FOLDER / again["screen_id"],
                         database=second / SCREEN_DATABASE)
        raise RuntimeError("killed")
    with open_state(out / STATE, read_only=True) as history:
        assert history.execute("select screen_id, screen_dir from audit.screen").fetchall() == [(screen_id, str(final))]
        assert history.execute("select count(*) from audit.screen_line").fetchall() == [(5,)]


def test_a_published_screen_the_history_lacks_is_recorded_on_opening(out):
    folder, _ = write_screen(out, "2026-11_20261125T010000")  # killed between the rename and the commit
    write_screen(out, "2026-11_20261125T020000", folder_name=".work-2026-11_20261125T020000")  # still being built
    with open_state(out / STATE) as history:
        recorded = history.execute("select screen_id from audit.screen").fetchall()
        lines = history.execute("select count(*) from audit.screen_line").fetchall()
    assert recorded == [(folder.name,)] and lines == [(5,)]


def test_a_run_before_screens_shows_no_prevented_block(tmp_path):
    con = run_database(tmp_path / "old.duckdb")
    try:
        assert prevented_summary(con) is None  # not tracked: nothing to show, no error
    finally:
        con.close()


@pytest.fixture
def reported(out, tmp_path):
    """A nightly run's database after screens and verdicts: the workbooks and the page read it."""
    folder, _ = write_screen(out, "2026-11_20261125T010000")
    record_screen(out / STATE, folder)
    for key, conclusion in (("s1", "属实"), ("s2", "不属实"), ("s3", "已整改"), ("s5", "属实")):
        verdict(out / STATE, folder.name, key, conclusion)
    finding = ("deceased_paid", "P9", "130534195001019999", "人9", "城关镇", "东关村", "DB009", "2026-08-01", "2026-10-01",
               900.0, 0.0, 1.0, False, "死亡后仍发放 3 个月", "k9")
    con, summary = tracked(out, tmp_path, findings=[finding])
    yield con, summary
    con.close()


def test_the_county_workbook_shows_the_money_prevented(reported, tmp_path):
    con, _ = reported
    paths = write_workbooks(con, tmp_path / "workbooks", run_id="2026-11_run", as_of="2026-11", county=COUNTY,
                            policy=load_policy())
    sheet = openpyxl.load_workbook(next(path for path in paths if path.stem == "全县"))[OUTCOME_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    title = next(index for index, row in enumerate(rows) if row[0] == PREVENTED_TITLE)
    header = rows[title + 1]
    table = {(row[0], row[1]): dict(zip(header, row)) for row in rows[title + 2:] if row[0] and row[1] is not None}
    dead = table["受益人已死亡", "拦截"]
    assert (dead["笔数"], dead["属实"], dead["不属实"], dead["涉及金额（元）"], dead["阻止发放（元）"]) == (2, 1, 1, 1100.0, 600.0)
    assert table["身份待确认", "暂缓"]["阻止发放（元）"] == 0.0
    total = next(dict(zip(header, row)) for row in rows[title + 2:] if row[0] == "合计")
    assert (total["笔数"], total["涉及金额（元）"], total["阻止发放（元）"]) == (5, 2500.0, 1300.0)
    assert any(isinstance(row[0], str) and row[0].startswith("阻止发放：") for row in rows[title:])  # what it means
    assert sheet.print_area.endswith(f"${len(rows)}")  # the block prints with the sheet
    checks = next(index for index, row in enumerate(rows) if row[0] == "检查项目")
    assert checks < title and any(row[0] == "死亡人员仍领取" for row in rows[checks:title])  # below the per-check table


def test_the_report_shows_the_money_prevented(reported):
    con, summary = reported
    record = {"run_id": "2026-11_run", "status": "succeeded", "parameters": {"as_of": "2026-11", "county": COUNTY},
              "policy": load_policy(), "outcomes": summary}
    page = render_html_report(con, record=record, history=[])
    section = outcome_section(page)
    assert f">{PREVENTED_TITLE}</h3>" in section
    parser = Tables()
    parser.feed(section)
    header, *rows = parser.tables["table-prevented"]
    table = {(row[0], row[1]): dict(zip(header, row)) for row in rows}
    assert table["受益人已死亡", "拦截"]["阻止发放（元）"] == "600.00"
    assert table["已停保或终止供养", "拦截"]["已整改"] == "1"
    assert table["合计", ""]["阻止发放（元）"] == "1,300.00" and table["合计", ""]["属实率"] == "66.67%"
    assert "1,300.00" in section.split('id="table-prevented"')[0]  # the card above the table
