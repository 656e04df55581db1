"""What a published report says about its run: the final status, times on the county's clock, and an overridden
citizen-number gate stated first."""

import datetime as dt
import re
from html.parser import HTMLParser

import duckdb
import pytest

from hecha.reports.html_report import render_html_report
from hecha.reports.workbooks import local_time_text, override_warnings

RUN_ID = "2026-10_20261129T173300123456"
OVERRIDE = {"file": "household_register.csv", "column": "身份证号", "share": 0.054, "bound": 0.02}
OVERRIDE_LINE = "注意：household_register.csv 身份证号 有 5.4% 的号码无法使用（上限 2%），经操作人员确认仍然运行，结果可能不完整。"


def published_record(**changes) -> dict:
    """A record as the publish stage hands it to the report: succeeded, with both times filled in."""
    return {
        "run_id": RUN_ID,
        "status": "succeeded",
        "started_at": "2026-11-29T17:30:10.123456+00:00",
        "finished_at": "2026-11-29T17:33:00.123456+00:00",
        "parameters": {"as_of": "2026-10", "county": "130534"},
        "policy": {},
        "inputs": {"unusable_ids_accepted": []},
    } | changes


class BodyText(HTMLParser):
    """The text of <body>, piece by piece, as a reader meets it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_body = False
        self.skipping = 0
        self.pieces: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.in_body |= tag == "body"
        self.skipping += tag in ("style", "script", "title")

    def handle_endtag(self, tag):
        self.skipping -= tag in ("style", "script", "title")

    def handle_data(self, data):
        if self.in_body and not self.skipping and data.strip():
            self.pieces.append(data.strip())


def body_text(page: str) -> list[str]:
    parser = BodyText()
    parser.feed(page)
    parser.close()
    return parser.pieces


def render(record: dict, history: list[dict] | None = None) -> str:
    con = duckdb.connect()  # a database without chk tables: the header and the record are what is looked at
    try:
        return render_html_report(con, record=record, history=history or [])
    finally:
        con.close()


def header_facts(page: str) -> dict[str, str]:
    header = page[page.index('<header id="report-header">'):page.index("</header>")]
    return dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", header))


@pytest.mark.parametrize(
    ("status", "label"),
    [("succeeded", "成功"), ("failed", "失败"), ("interrupted", "中断"), ("running", "运行中")],
)
def test_report_status_shows_the_runs_status_in_chinese(status, label):
    page = render(published_record(status=status, failed_stage="link", error="boom"))
    assert header_facts(page)["运行状态"] == label


def test_report_status_of_a_succeeded_run_never_says_running():
    page = render(published_record())
    assert header_facts(page)["运行状态"] == "成功"
    assert "运行中" not in page


def test_report_status_names_the_stage_a_failed_or_interrupted_run_stopped_in():
    for status, word in (("failed", "运行失败"), ("interrupted", "运行中断")):
        page = render(published_record(status=status, failed_stage="link", error="no space left"))
        assert f"{word}，阶段：link；no space left" in page, status


def test_report_status_times_are_on_beijing_time_by_default():
    facts = header_facts(render(published_record()))
    assert facts["开始时间"] == "2026-11-30 01:30（北京时间）"
    assert facts["完成时间"] == "2026-11-30 01:33（北京时间）"
    assert facts["报告生成"].endswith("（北京时间）")


def test_report_status_honours_the_policys_time_zone():
    page = render(published_record(policy={"timezone": "Asia/Urumqi"}))
    facts = header_facts(page)
    assert facts["完成时间"] == "2026-11-29 23:33（Asia/Urumqi）"  # UTC+6
    assert facts["报告生成"].endswith("（Asia/Urumqi）")
    assert "UTC" not in page and "北京时间" not in page


def test_report_status_trend_labels_read_run_ids_on_the_countys_clock():
    history = [{"run_id": RUN_ID, "as_of": "2026-10", "findings": {"deceased_paid": 2}, "overpaid": 100.0, "backpay": 0.0}]
    page = render(published_record(), history)
    trend = page[page.index('<section id="trend">'):]
    trend = trend[:trend.index("</section>")]
    assert "2026-10<tspan" in trend and ">11-30 01:33</tspan>" in trend  # run id stamped 11-29 17:33 UTC
    assert "17:33" not in trend.replace(RUN_ID, "")  # the run id itself is kept as it is, an identifier
    assert "北京时间" in trend


def test_report_status_override_is_the_first_text_of_the_page():
    record = published_record(inputs={"unusable_ids_accepted": [OVERRIDE]})
    text = body_text(render(record))
    assert text[0] == OVERRIDE_LINE
    assert text.count(OVERRIDE_LINE) == 1


@pytest.mark.parametrize(
    ("description", "record"),
    [
        ("empty list", published_record()),
        ("no key", published_record(inputs={})),
        ("no inputs", {k: v for k, v in published_record().items() if k != "inputs"}),
    ],
)
def test_report_status_without_override_has_no_warning(description, record):
    page = render(record)
    assert "注意：" not in page, description
    assert body_text(page)[0] == "社会救助数据比对核查报告", description


@pytest.mark.parametrize(
    ("description", "accepted", "expected"),
    [
        ("one file", [OVERRIDE], [OVERRIDE_LINE]),
        ("two files, in the record's order",
         [OVERRIDE, {"file": "dibao.csv", "column": "成员身份证号", "share": 0.125, "bound": 0.015}],
         [OVERRIDE_LINE,
          "注意：dibao.csv 成员身份证号 有 12.5% 的号码无法使用（上限 1.5%），经操作人员确认仍然运行，结果可能不完整。"]),
        ("a share under one percent keeps its digits",
         [{"file": "a.csv", "column": "身份证号", "share": 0.0012, "bound": 0.001}],
         ["注意：a.csv 身份证号 有 0.12% 的号码无法使用（上限 0.1%），经操作人员确认仍然运行，结果可能不完整。"]),
        ("nothing accepted", [], []),
    ],
)
def test_override_warnings_turns_the_record_into_lines(description, accepted, expected):
    assert override_warnings({"inputs": {"unusable_ids_accepted": accepted}}) == expected, description


def test_override_warnings_of_a_record_without_inputs_is_empty():
    assert override_warnings({}) == []
    assert override_warnings({"inputs": None}) == []


@pytest.mark.parametrize(
    ("description", "value", "timezone", "expected"),
    [
        ("UTC with offset, default zone", "2026-11-29T17:33:00.123456+00:00", None, "2026-11-30 01:33（北京时间）"),
        ("named Shanghai", "2026-11-29T17:33:00+00:00", "Asia/Shanghai", "2026-11-30 01:33（北京时间）"),
        ("another zone by its name", "2026-11-29T17:33:00+00:00", "Asia/Urumqi", "2026-11-29 23:33（Asia/Urumqi）"),
        ("a zone with summer time", "2026-07-01T12:00:00+00:00", "Europe/Berlin", "2026-07-01 14:00（Europe/Berlin）"),
        ("another offset", "2026-11-30T01:33:00+08:00", "Asia/Urumqi", "2026-11-29 23:33（Asia/Urumqi）"),
        ("no offset: the pipeline writes UTC", "2026-11-29T17:33:00", None, "2026-11-30 01:33（北京时间）"),
        ("a datetime", dt.datetime(2026, 11, 29, 17, 33, tzinfo=dt.timezone.utc), None, "2026-11-30 01:33（北京时间）"),
        ("an unknown zone: Beijing time, labelled so", "2026-11-29T17:33:00+00:00", "Mars/Olympus", "2026-11-30 01:33（北京时间）"),
        ("empty", None, None, ""),
        ("not a time: shown as it is", "昨天", None, "昨天"),
    ],
)
def test_local_time_text_converts_to_the_countys_clock(description, value, timezone, expected):
    assert local_time_text(value, timezone) == expected, description


def test_local_time_text_without_zone_label():
    assert local_time_text("2026-11-29T17:33:00+00:00", None, pattern="%m-%d %H:%M", label=False) == "11-30 01:33"
