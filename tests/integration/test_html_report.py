"""The run report: one self-contained page, rendered in headless Chromium with its charts and tables."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from hecha.checks.catalogue import BY_CODE
from hecha.checks.labels import STATUS_LABELS
from hecha.reports.html_report import dump_dom, find_chromium, screenshot, write_html_report

RUN_ID = "2026-10_20261123T014025814354"

# check_code, id_number, name, township, village, case_no, months, overpaid, backpay, needs_confirmation, status
FINDINGS = [
    ("deceased_paid", "130534195001011234", "王建国", "城关镇", "东街村", "DB001", ("2026-03", "2026-10"), 2400.0, 0.0, False, "new"),
    ("deceased_paid", "13053419480202223X", "李秀英", "河西乡", "李庄村", "DB002", ("2026-05", "2026-10"), 1800.0, 0.0, False, "persisting"),
    ("moved_out_paid", "130534199003035678", "张<三>&", "城关镇", "西街村", "DB003", ("2026-01", "2026-10"), 3000.0, 0.0, True, "recurred"),
    ("missed_care_subsidy", "130534200504041111", "赵小明", "河西乡", "赵家村", "", ("2025-11", "2026-10"), 0.0, 1080.0, False, "new"),
    ("missed_living_subsidy", "130534196505052222", "孙桂兰", "北岭镇", "北岭村", "DB005", ("2025-11", "2026-10"), 0.0, 960.0, False, "reopened"),
    ("status_mismatch", "130534197006063333", "周大海", "北岭镇", "南沟村", "DB006", (None, None), 0.0, 0.0, False, "suppressed"),
    ("duplicate_benefit", "130534198007074444", "吴玉梅", "城关镇", "东街村", "DB007", ("2026-02", "2026-04"), 900.0, 0.0, False, "persisting"),
]
RESOLVED = [
    ("old0000000000001", "deceased_paid", "130534194001015555", "郑老汉", "河西乡", "李庄村", "DB009", "2026-09_20261020T020000000000", "已整改"),
]
HISTORY = [
    {"run_id": "2026-08_20260920T020000000000", "as_of": "2026-08",
     "findings": {"deceased_paid": 4, "moved_out_paid": 1, "duplicate_benefit": 2}, "overpaid": 9800.0, "backpay": 0.0},
    {"run_id": "2026-09_20261020T020000000000", "as_of": "2026-09",
     "findings": {"deceased_paid": 3, "duplicate_benefit": 1, "missed_living_subsidy": 1}, "overpaid": 5100.0, "backpay": 960.0},
    {"run_id": RUN_ID, "as_of": "2026-10",
     "findings": {"deceased_paid": 2, "moved_out_paid": 1, "missed_care_subsidy": 1, "missed_living_subsidy": 1,
                  "status_mismatch": 1, "duplicate_benefit": 1},
     "overpaid": 8100.0, "backpay": 2040.0},
]
RECORD = {
    "run_id": RUN_ID,
    "status": "succeeded",
    "started_at": "2026-11-23T01:40:25.821570+00:00",
    "finished_at": "2026-11-23T01:40:29.433102+00:00",
    "parameters": {"drop": "/data/drop", "as_of": "2026-10", "out": "/data/out", "county": "130534"},
    "files": [
        {"source": "household_register", "file": "household_register.csv", "encoding": "utf-8", "rows_read": 16167,
         "rows_staged": 16160, "rows_quarantined": 7, "values_quarantined": 2},
        {"source": "dibao", "file": "dibao.csv", "encoding": "gb18030", "rows_read": 1116, "rows_staged": 1116,
         "rows_quarantined": 0, "values_quarantined": 0},
        {"source": "payments", "file": "payments.csv", "encoding": "utf-8", "rows_read": 14424, "rows_staged": 14421,
         "rows_quarantined": 3, "values_quarantined": 0},
    ],
    "validation": {
        "success": False,
        "files": {
            "household_register": {"rows": 16160, "success": True, "expectations": [
                {"expectation": "expect_column_values_to_not_be_null", "column": "name", "description": "姓名 不为空",
                 "success": True, "unexpected_count": 0, "unexpected_percent": 0.0, "example_rows": []},
            ]},
            "dibao": {"rows": 1116, "success": False, "expectations": [
                {"expectation": "expect_column_values_to_be_in_set", "column": "area_type", "description": "城乡类别 取值为 城市/农村",
                 "success": False, "unexpected_count": 4, "unexpected_percent": 0.358, "example_rows": [12, 40, 77, 901]},
                {"expectation": "expect_column_values_to_be_between", "column": "start_month", "description": "<起始月份> 不晚于 2026-10",
                 "success": False, "unexpected_count": 0, "unexpected_percent": None, "example_rows": [], "error": "metric failed"},
            ]},
        },
    },
    "findings": HISTORY[-1]["findings"],
    "timings_seconds": {"load": 0.748, "normalize": 0.344, "validate": 1.244, "link": 0.239, "checks": 0.078},
    "policy": {"identity": {"review_threshold": 0.95, "link_threshold": 0.8}},
}

# How the checks write a probabilistic link and the rows they read; the report shows neither weights nor rows.
CREMATION_EVIDENCE = ("；火化记录 HH1 死亡日期 2026-02-10（火化第 715 行，概率匹配 0.990：姓名一致(+13.9)、户籍尚未登记死亡(-4.2)）"
                      "；死亡后仍发放低保金 2026-03 至 2026-10 共 8 个月 2400.00 元（发放明细第 8861、9570 行）")

OUTCOME_SUMMARY_COLUMNS = (
    "check_code varchar, findings bigint, cases bigint, true_count bigint, not_true_count bigint, rectified_count bigint, "
    "no_verdict_count bigint, true_rate double, not_true_rate double, open_past_deadline bigint, tracked_cases bigint, "
    "stopped_cases bigint, monthly_stopped_amount double, recovered_amount double, backpay_due double, backpay_paid double, "
    "backpay_paid_cases bigint"
)
# chk.outcome_summary: deceased_paid 4 属实 and 1 不属实, one payment of 300 a month stopped, 600 recovered;
# missed_care_subsidy not yet judged, 90 of its 1,080 back-pay paid
OUTCOME_SUMMARY = [
    ("deceased_paid", 2, 5, 4, 1, 0, 0, 4 / 5, 1 / 5, 0, 4, 1, 300.0, 600.0, 0.0, 0.0, 0),
    ("missed_care_subsidy", 1, 1, 0, 0, 0, 1, None, None, 1, 1, 0, 0.0, 0.0, 1080.0, 90.0, 1),
]

CHARTS = ("chart-by-check", "chart-amounts-by-check", "chart-by-township", "chart-amounts-by-township", "chart-status",
          "chart-trend-findings", "chart-trend-amounts", "chart-quarantine", "chart-outcomes")
TABLES = ("table-by-check", "table-by-township", "table-check-by-township", "table-status", "table-trend",
          "table-top-findings", "table-files", "table-validation", "table-timings", "table-outcomes")
FULL_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9])")
EXTERNAL_REFERENCE = re.compile(r"""(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", re.IGNORECASE)


def month(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text + "-01")


def build_run_database(path: Path) -> duckdb.DuckDBPyConnection:
    """chk.finding, chk.finding_status and chk.resolved as the pipeline leaves them (see the issue 6 brief)."""
    con = duckdb.connect(str(path))
    con.execute("create schema chk")
    con.execute(
        """create table chk.finding (check_code varchar, person_id varchar, id_number varchar, name varchar,
        township varchar, village varchar, case_no varchar, period_start date, period_end date, overpaid_amount double,
        backpay_amount double, link_confidence double, needs_confirmation boolean, evidence varchar, case_key varchar)"""
    )
    con.execute(
        """create table chk.finding_status (case_key varchar, status varchar, first_seen_run varchar,
        previous_conclusion varchar, previous_note varchar)"""
    )
    con.execute(
        """create table chk.resolved (case_key varchar, check_code varchar, id_number varchar, name varchar,
        township varchar, village varchar, case_no varchar, last_seen_run varchar, previous_conclusion varchar)"""
    )
    for i, (code, id_number, name, township, village, case_no, (start, end), overpaid, backpay, confirm, status) in enumerate(FINDINGS):
        case_key = f"case{i:012d}"
        con.execute(
            "insert into chk.finding values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [code, f"p{i}", id_number, name, township, village, case_no or None, month(start), month(end), overpaid, backpay,
             0.8 if confirm else 1.0, confirm, f"证据：身份证号 {id_number}" + (CREMATION_EVIDENCE if i == 0 else ""), case_key],
        )
        con.execute(
            "insert into chk.finding_status values (?, ?, ?, ?, ?)",
            [case_key, status, RUN_ID if status == "new" else HISTORY[0]["run_id"],
             {"recurred": "已整改", "reopened": "不属实", "suppressed": "不属实"}.get(status), None],
        )
    con.executemany("insert into chk.resolved values (?, ?, ?, ?, ?, ?, ?, ?, ?)", RESOLVED)
    con.execute(f"create table chk.outcome_summary ({OUTCOME_SUMMARY_COLUMNS})")
    con.executemany(f"insert into chk.outcome_summary values ({', '.join('?' * 17)})", OUTCOME_SUMMARY)
    return con


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / RUN_ID
    run_dir.mkdir()
    con = build_run_database(run_dir / "hecha.duckdb")
    try:
        path = write_html_report(con, run_dir, record=RECORD, history=HISTORY)
    finally:
        con.close()
    assert path == run_dir / "report.html"
    return path


class DomSummary(HTMLParser):
    """Which svg.chart elements hold which shapes, and the text of each table by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts: dict[str, dict[str, int]] = {}
        self.tables: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str | None, str | None]] = []  # (tag, chart id, table id)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        chart = self.stack[-1][1] if self.stack else None
        table = self.stack[-1][2] if self.stack else None
        if tag == "svg" and "chart" in (attrs.get("class") or "").split():
            chart = attrs.get("id") or ""
            self.charts[chart] = {}
        elif chart is not None:
            self.charts[chart][tag] = self.charts[chart].get(tag, 0) + 1
        if tag == "table" and attrs.get("id"):
            table = attrs["id"]
            self.tables[table] = []
        if tag not in ("br", "meta", "img", "input", "hr", "link"):
            self.stack.append((tag, chart, table))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][2] is not None and data.strip():
            self.tables[self.stack[-1][2]].append(data.strip())


def summarize_dom(markup: str) -> DomSummary:
    parser = DomSummary()
    parser.feed(markup)
    parser.close()
    return parser


def test_html_report_is_self_contained(report):
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not EXTERNAL_REFERENCE.search(text), EXTERNAL_REFERENCE.search(text)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text and "@import" not in text and "url(" not in text


def test_html_report_masks_citizen_numbers_and_escapes_text(report):
    text = report.read_text(encoding="utf-8")
    assert not FULL_ID_NUMBER.findall(text)
    assert "130534********1234" in text  # the top-findings table shows masked numbers
    assert "张&lt;三&gt;&amp;" in text and "张<三>" not in text
    assert "&lt;起始月份&gt;" in text


def test_html_report_shows_evidence_in_the_inspectors_words(report):
    top = summarize_dom(report.read_text(encoding="utf-8")).tables["table-top-findings"]
    evidence = next(cell for cell in top if cell.startswith("证据：身份证号 130534********1234"))
    assert evidence == ("证据：身份证号 130534********1234；火化记录 HH1 死亡日期 2026-02-10（姓名一致；但户籍尚未登记死亡；"
                        "同一人可信度高）；死亡后仍发放低保金 2026-03 至 2026-10 共 8 个月 2400.00 元")
    assert "中" in top  # a finding resting on a link to confirm (0.8): its band, not its score
    assert not any("(+" in cell or "行）" in cell for cell in top)


def test_html_report_has_the_charts_and_tables(report):
    dom = summarize_dom(report.read_text(encoding="utf-8"))
    assert set(CHARTS) <= set(dom.charts)
    assert set(TABLES) <= set(dom.tables)
    by_check = " ".join(dom.tables["table-by-check"])
    for code in ("deceased_paid", "moved_out_paid", "missed_care_subsidy", "duplicate_benefit"):
        assert BY_CODE[code].name_zh in by_check
    assert "8,100.00" in by_check and "2,040.00" in by_check  # totals of listed (not suppressed) findings
    by_township = dom.tables["table-by-township"]
    assert {"城关镇", "河西乡", "北岭镇"} <= set(by_township)
    status = " ".join(dom.tables["table-status"])
    for label in STATUS_LABELS.values():  # the one label table every output uses
        assert label in status
    assert [cell for cell in dom.tables["table-trend"] if cell.startswith("2026-")][:3] == [
        HISTORY[0]["run_id"], "2026-08", HISTORY[1]["run_id"]]
    validation = " ".join(dom.tables["table-validation"])
    assert "城乡类别 取值为 城市/农村" in validation and "12、40、77、901" in validation and "未能检查" in validation
    files = dom.tables["table-files"]
    assert "household_register.csv" in files and "7" in files


def test_html_report_renders_in_headless_chromium(report, tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium binary on PATH (CI installs Debian's chromium package in .ci/run)")
    dom = summarize_dom(dump_dom(report))
    for chart in CHARTS:
        assert chart in dom.charts, f"{chart} missing from the rendered DOM"
        shapes = dom.charts[chart]
        assert shapes.get("rect", 0) + shapes.get("path", 0) > 0, f"{chart} has no bars or lines: {shapes}"
    assert dom.charts["chart-by-check"].get("rect", 0) >= 5
    assert dom.charts["chart-trend-amounts"].get("path", 0) == 2
    assert dom.charts["chart-trend-findings"].get("rect", 0) >= 3 * 2
    for table in TABLES:
        assert table in dom.tables and dom.tables[table], f"{table} missing or empty in the rendered DOM"
    assert "城关镇" in dom.tables["table-by-township"]

    png = tmp_path / "report.png"
    screenshot(report, png, width=1280, height=2400)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000


def test_html_report_shows_the_final_status_and_beijing_times(report):
    text = report.read_text(encoding="utf-8")
    header = text[text.index('<header id="report-header">'):text.index("</header>")]
    assert "<dt>运行状态</dt><dd>成功</dd>" in header and "运行中" not in text
    assert "<dt>开始时间</dt><dd>2026-11-23 09:40（北京时间）</dd>" in header
    assert "<dt>完成时间</dt><dd>2026-11-23 09:40（北京时间）</dd>" in header
    assert "UTC" not in text
    assert ">11-23 09:40</tspan>" in text  # the trend's label for the run stamped 01:40 UTC


def test_html_report_states_an_override_first_in_headless_chromium(tmp_path):
    if find_chromium() is None:
        pytest.skip("no chromium binary on PATH (CI installs Debian's chromium package in .ci/run)")
    accepted = [{"file": "household_register.csv", "column": "身份证号", "share": 0.054, "bound": 0.02}]
    record = RECORD | {"inputs": {"unusable_ids_accepted": accepted}}
    con = build_run_database(tmp_path / "hecha.duckdb")
    try:
        path = write_html_report(con, tmp_path, record=record, history=HISTORY)
    finally:
        con.close()
    body = dump_dom(path).split("<body>", 1)[1]
    first_text = next(piece.strip() for piece in re.split(r"<[^>]*>", body) if piece.strip())
    assert first_text == "注意：household_register.csv 身份证号 有 5.4% 的号码无法使用（上限 2%），经操作人员确认仍然运行，结果可能不完整。"


def test_html_report_without_findings_or_history_still_renders(tmp_path):
    con = duckdb.connect(str(tmp_path / "hecha.duckdb"))  # a run that stopped before the checks: no chk tables
    try:
        path = write_html_report(con, tmp_path, record={"run_id": RUN_ID, "status": "failed", "stage": "load"}, history=[])
    finally:
        con.close()
    dom = summarize_dom(path.read_text(encoding="utf-8"))
    assert {"chart-by-check", "chart-by-township"} <= set(dom.charts)
    assert dom.tables["table-by-check"] == ["检查项目", "代码", "问题线索（条）", "应追回金额（元）", "应补发金额（元）",
                                            "待确认身份（条）", f"{STATUS_LABELS['suppressed']}，未列出（条）", "无"]


def test_html_report_shows_what_the_findings_achieved(report):
    dom = summarize_dom(report.read_text(encoding="utf-8"))
    outcomes = dom.tables["table-outcomes"]
    deceased = outcomes.index(BY_CODE["deceased_paid"].name_zh)
    assert outcomes[deceased + 1:deceased + 11] == ["2", "4", "1", "0", "80%", "20%", "0", "300.00", "600.00", "0.00"]
    care = outcomes.index(BY_CODE["missed_care_subsidy"].name_zh)
    assert outcomes[care + 5:care + 7] == ["—", "—"]  # nothing judged yet: no rate
    assert dom.charts["chart-outcomes"].get("rect", 0) >= 3  # stopped, recovered, back-paid
