"""A province publication's outputs for people and machines: `cross_findings.csv` and `report.html`.

What belongs here: rendering what province/publish.py put in the
publication's database (`province.finding`, `province.case_county`, the
statuses `chk.finding_status` and `chk.resolved` that audit/history.py
wrote) and its summary (province.json). What does not: the county workbooks
of cross findings, written by reports/workbooks.py as a county's are;
anything county runs publish (reports/exceptions.py, reports/html_report.py,
whose table, chart and formatting helpers this page reuses, unchanged).

`cross_findings.csv` is exceptions.csv's file for the province: its columns
in its order (`EXCEPTION_COLUMNS` without the last, status), then `county`
(the county that pays and receives the finding), `other_county` (whose
record shows the event or the other enrolment) and `status`; the same
rounding, UTF-8 with a byte-order mark, and the same formula safety
(`spreadsheet_safe`). Rows are ordered by check, county, township, village
and case key, so the same findings and history give the same bytes.

`report.html` is self-contained as a county's report is (inline CSS, SVG
charts, no network): the counties side by side (status, as_of, their own
findings and money per check, time), the cross findings by check and
county with money, the counties that failed or were late named with their
reason, the statuses since the last province publication, the cross
findings with the most money at stake, and the stage times. Citizen
numbers are masked (first 6, last 4) wherever they appear, names and
evidence included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from hecha.checks.catalogue import BY_CODE, CATALOGUE, Check
from hecha.checks.labels import STATUS_LABELS, STATUS_ORDER
from hecha.reports.exceptions import EXCEPTION_COLUMNS, spreadsheet_safe
from hecha.reports.html_report import (
    BACKPAY_COLOR,
    CSS,
    OVERPAID_COLOR,
    STATUS_COLORS,
    TOP_FINDINGS,
    esc,
    fmt_count,
    fmt_count_blank,
    fmt_yuan,
    grouped_hbar_chart,
    hbar_chart,
    render_cards,
    render_table,
)
from hecha.reports.run_tables import inspector_evidence
from hecha.reports.workbooks import local_time_text
from hecha.storage.database import records
from hecha.storage.masking import mask_id_number, mask_text

REPORT_FILE = "report.html"
CROSS_FINDING_COLUMNS = (*EXCEPTION_COLUMNS[:-1], "county", "other_county", "status")
COUNTY_STATUS_LABELS = {"published": "已完成", "failed": "失败", "late": "数据滞后（截至月份早于本次）"}

# exceptions.csv's select (reports/exceptions.py) over province.finding, whose months are already YYYY-MM text
CROSS_FINDINGS_SELECT = """
select
    finding.check_code,
    finding.id_number,
    finding.name,
    finding.township,
    finding.village,
    finding.case_no,
    finding.period_start,
    finding.period_end,
    cast(round(finding.overpaid_amount, 2) as decimal(12, 2)) as overpaid_amount,
    cast(round(finding.backpay_amount, 2) as decimal(12, 2)) as backpay_amount,
    round(finding.link_confidence, 4) as link_confidence,
    finding.needs_confirmation,
    finding.evidence,
    finding.case_key,
    finding.county,
    finding.other_county,
    coalesce(finding_status.status, 'new') as status
from province.finding as finding
left join chk.finding_status as finding_status
    on finding.case_key = finding_status.case_key
order by finding.check_code, finding.county, finding.township, finding.village, finding.case_key
"""


def write_cross_findings(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the province's cross findings with their county, other county and status (UTF-8 with BOM); return the rows."""
    frame = con.sql(CROSS_FINDINGS_SELECT).pl()
    if tuple(frame.columns) != CROSS_FINDING_COLUMNS:  # one list of columns, exceptions.csv's
        raise AssertionError(f"cross_findings.csv columns {frame.columns} differ from {CROSS_FINDING_COLUMNS}")
    spreadsheet_safe(frame).write_csv(path, include_bom=True)
    return frame.height


# ---------------------------------------------------------------------------------------------- report.html


def write_province_report(con: duckdb.DuckDBPyConnection, folder: Path, *, summary: dict, checks: Mapping[str, Check],
                          policy: dict) -> Path:
    """Write `folder/report.html` from the publication's database and its summary (province.json); return its path."""
    path = Path(folder) / REPORT_FILE
    path.write_text(render_province_report(con, summary=summary, checks=checks, policy=policy), encoding="utf-8")
    return path


def render_province_report(con: duckdb.DuckDBPyConnection, *, summary: dict, checks: Mapping[str, Check],
                           policy: dict) -> str:
    """The province report page as a string (see the module docstring for what it holds)."""
    findings = records(
        con,
        """
        select
            finding.check_code, finding.county, finding.other_county, finding.id_number, finding.name, finding.township,
            finding.village, finding.period_start, finding.period_end,
            cast(coalesce(finding.overpaid_amount, 0) as double) as overpaid,
            cast(coalesce(finding.backpay_amount, 0) as double) as backpay,
            coalesce(finding.needs_confirmation, false) as needs_confirmation, finding.evidence, finding.case_key,
            coalesce(status.status, 'new') as status
        from province.finding as finding
        left join chk.finding_status as status
            on finding.case_key = status.case_key
        order by finding.check_code, finding.county, finding.case_key
        """,
    )
    resolved = records(
        con,
        """
        select resolved.case_key, resolved.check_code, coalesce(county.county, '') as county
        from chk.resolved as resolved
        left join province.case_county as county
            on resolved.case_key = county.case_key
        order by resolved.case_key
        """,
    )
    timezone = policy.get("timezone")
    names = {code: check.name_zh for code, check in checks.items()}
    body = [
        render_header(summary, timezone),
        render_missing_counties(summary),
        render_overview(summary, findings, resolved),
        render_counties(summary),
        render_county_checks(summary),
        render_cross_by_county(summary, names),
        render_statuses(findings, resolved, names, summary),
        render_top_findings(findings, names, policy.get("identity")),
        render_timings(summary),
    ]
    title = f"省级跨县核查报告 {summary.get('as_of') or ''}".strip()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def shown(value: object) -> str:
    """Text as the page shows it: citizen numbers masked."""
    return mask_text("" if value is None else str(value))


def render_header(summary: dict, timezone: str | None) -> str:
    counties = summary.get("counties") or []
    read = sum(1 for county in counties if county["status"] == "published")
    facts = [
        ("核查月份", summary.get("as_of") or "—"),
        ("运行编号", summary.get("run_id") or "—"),
        ("参加比对的县", f"{read} / {len(counties)}"),
        ("开始时间", local_time_text(summary.get("started_at"), timezone) or "—"),
        ("完成时间", local_time_text(summary.get("finished_at"), timezone) or "—"),
    ]
    items = "".join(f"<div><dt>{esc(label)}</dt><dd>{esc(value)}</dd></div>" for label, value in facts)
    return f'<header id="report-header"><h1>省级社会救助跨县比对核查报告</h1><dl class="facts">{items}</dl></header>'


def render_missing_counties(summary: dict) -> str:
    """The counties this run did not read, each named with its status and reason, above everything else."""
    missing = [county for county in summary.get("counties") or [] if county["status"] != "published"]
    # drop folders refused before any run whose folder is no free county code: named by their folder
    refused = (summary.get("parameters") or {}).get("refused_folders") or []
    if not missing and not refused:
        return ""
    lines = "".join(
        f'<p class="alert county-missing" data-county="{esc(county["county"])}">{esc(county["county"])}：'
        f'{esc(COUNTY_STATUS_LABELS.get(county["status"], county["status"]))}'
        f'{("，" + esc(shown(county.get("error")))) if county.get("error") else ""}</p>'
        for county in missing
    ) + "".join(
        f'<p class="alert county-missing" data-folder="{esc(folder["folder"])}">文件夹 {esc(folder["folder"])}：'
        f'{COUNTY_STATUS_LABELS["failed"]}，{esc(shown(folder.get("error")))}</p>'
        for folder in refused
    )
    return (f'<section id="missing-counties" role="alert"><h2>未参加本次跨县比对的县</h2>{lines}'
            '<p class="note">这些县本次没有读入比对：以它们为发放县或另一县的跨县线索本次未列出，也不算已消除。</p></section>')


def render_overview(summary: dict, findings: list[dict], resolved: list[dict]) -> str:
    listed = [finding for finding in findings if finding["status"] != "suppressed"]
    cards = [
        ("跨县问题线索", fmt_count(len(listed)), f"条，不含{STATUS_LABELS['suppressed']}"),
        ("应追回金额", fmt_yuan(sum(finding["overpaid"] for finding in listed)), "元"),
        ("应补发金额", fmt_yuan(sum(finding["backpay"] for finding in listed)), "元"),
        ("涉及县", fmt_count(len({finding["county"] for finding in listed})), "个"),
        (STATUS_LABELS["new"], fmt_count(sum(1 for finding in findings if finding["status"] == "new")), "条"),
        (STATUS_LABELS["resolved"], fmt_count(len(resolved)), "条"),
    ]
    return f'<section id="overview"><h2>概览</h2>{render_cards(cards)}</section>'


def render_counties(summary: dict) -> str:
    """One row per county: its run, its own findings and money, the cross findings it pays."""
    by_county = (summary.get("cross_findings") or {}).get("by_county") or {}
    rows, classes = [], []
    for county in summary.get("counties") or []:
        cross = by_county.get(county["county"]) or {}
        rows.append([
            county["county"], COUNTY_STATUS_LABELS.get(county["status"], county["status"]), county.get("as_of") or "—",
            county.get("run_id") or "—", float(county.get("seconds") or 0),
            sum((county.get("findings") or {}).values()), county.get("overpaid_amount") or 0.0,
            county.get("backpay_amount") or 0.0,
            sum(item["findings"] for item in cross.values()), sum(item["overpaid_amount"] for item in cross.values()),
            shown(county.get("error")),
        ])
        classes.append("" if county["status"] == "published" else "warn")
    table = render_table(
        "table-counties",
        ["县代码", "状态", "数据截至", "运行编号", "用时（秒）", "本县线索（条）", "本县应追回（元）", "本县应补发（元）",
         "跨县线索（条）", "跨县应追回（元）", "原因"],
        rows, formats=["code", None, None, "code", lambda value: f"{value:,.1f}", fmt_count, fmt_yuan, fmt_yuan, fmt_count,
                       fmt_yuan, None],
        row_classes=classes,
    )
    return f'<section id="counties"><h2>各县运行情况</h2>{table}</section>'


def figure_text(figures: dict | None, count: int | None = None) -> str:
    """`3 条 / 1,200.00 元` for a cell of a county × check table; · for nothing."""
    count = count if count is not None else (figures or {}).get("findings") or 0
    money = (figures or {}).get("overpaid_amount", 0) + (figures or {}).get("backpay_amount", 0)
    if not count and not money:
        return "·"
    return f"{count:,} 条 / {fmt_yuan(money)} 元"


def render_county_checks(summary: dict) -> str:
    """The counties' own checks side by side: a row per check, a column per county (findings and money at stake)."""
    counties = summary.get("counties") or []
    codes = {code for county in counties for code in (county.get("findings") or {})}
    codes = [check.code for check in CATALOGUE if check.code in codes] + sorted(codes - set(BY_CODE))
    rows = [
        [BY_CODE[code].name_zh if code in BY_CODE else code,
         *(figure_text((county.get("money") or {}).get(code), (county.get("findings") or {}).get(code, 0))
           if county["status"] == "published" else "—" for county in counties)]
        for code in codes
    ]
    table = render_table("table-county-checks", ["本县检查项目", *(county["county"] for county in counties)], rows,
                         class_name="matrix", empty_text="没有县的运行结果")
    note = '<p class="note">各县本次运行的本县线索（条）和涉及金额（应追回＋应补发，元），读自各县的 run.json 和 exceptions.csv；“—”：本次未完成。</p>'
    return f'<section id="county-checks"><h2>各县本县检查结果</h2>{table}{note}</section>'


def render_cross_by_county(summary: dict, names: dict[str, str]) -> str:
    """Cross findings by check × paying county, with money; the money per county as a chart."""
    cross = summary.get("cross_findings") or {}
    by_county = cross.get("by_county") or {}
    counties = sorted(by_county)
    codes = list(cross.get("by_check") or {})
    rows = [
        [names.get(code, code), *(figure_text(by_county[county].get(code)) for county in counties),
         figure_text((cross.get("by_check") or {}).get(code))]
        for code in codes
    ]
    totals_by_county = {
        county: {key: sum(item[key] for item in by_county[county].values())
                 for key in ("findings", "overpaid_amount", "backpay_amount")}
        for county in counties
    }
    rows.append(["合计", *(figure_text(totals_by_county[county]) for county in counties), figure_text(cross)])
    table = render_table("table-cross-by-county", ["跨县检查项目", *counties, "全省"], rows, class_name="matrix")
    charted = [county for county in counties if totals_by_county[county]["findings"]]
    chart = grouped_hbar_chart(
        "chart-cross-amounts-by-county", "各县跨县线索应追回与应补发金额（元）", charted,
        [("应追回", OVERPAID_COLOR, [totals_by_county[county]["overpaid_amount"] for county in charted]),
         ("应补发", BACKPAY_COLOR, [totals_by_county[county]["backpay_amount"] for county in charted])],
        value_format=fmt_yuan,
    )
    note = '<p class="note">线索列在发放并应追回的县（发放县）；金额含已核不属实的线索。</p>'
    return f'<section id="cross-by-county"><h2>跨县线索：检查项目 × 发放县</h2><div class="charts">{chart}</div>{table}{note}</section>'


def render_statuses(findings: list[dict], resolved: list[dict], names: dict[str, str], summary: dict) -> str:
    """Statuses since the last province publication, per check and per county."""
    previous = (summary.get("statuses") or {}).get("previous_run")

    def counts(key: str) -> dict[str, dict[str, int]]:
        groups: dict[str, dict[str, int]] = {}
        for finding in findings:
            group = groups.setdefault(finding[key], {status: 0 for status in STATUS_ORDER})
            group[finding["status"]] += 1
        for case in resolved:
            groups.setdefault(case[key] or "（未知）", {status: 0 for status in STATUS_ORDER})["resolved"] += 1
        return groups

    by_check, by_county = counts("check_code"), counts("county")
    totals = {status: sum(group[status] for group in by_check.values()) for status in STATUS_ORDER}
    chart = hbar_chart("chart-status", "案件状态（条）", [STATUS_LABELS[status] for status in STATUS_ORDER],
                       [totals[status] for status in STATUS_ORDER], colors=[STATUS_COLORS[status] for status in STATUS_ORDER],
                       value_format=fmt_count)
    headers = [STATUS_LABELS[status] for status in STATUS_ORDER]
    formats = [None, *([fmt_count_blank] * len(STATUS_ORDER))]
    codes = [code for code in names if code in by_check] + sorted(set(by_check) - set(names))
    check_table = render_table(
        "table-status", ["跨县检查项目", *headers], [[names.get(code, code), *by_check[code].values()] for code in codes],
        totals=["合计", *totals.values()], formats=formats,
    )
    county_table = render_table(
        "table-status-by-county", ["发放县", *headers], [[county, *by_county[county].values()] for county in sorted(by_county)],
        totals=["合计", *totals.values()], formats=["code", *formats[1:]],
    )
    since = (f"与上次省级运行 {esc(previous)} 相比" if previous else "首次省级运行，全部为新发现")
    return (f'<section id="status"><h2>与上次省级运行相比</h2><p class="note">{since}。</p><div class="charts">{chart}</div>'
            f"<h3>按跨县检查项目</h3>{check_table}<h3>按发放县</h3>{county_table}</section>")


def render_top_findings(findings: list[dict], names: dict[str, str], identity: dict | None) -> str:
    listed = [finding for finding in findings if finding["status"] != "suppressed" and finding["overpaid"] + finding["backpay"] > 0]
    top = sorted(listed, key=lambda finding: (-(finding["overpaid"] + finding["backpay"]), finding["case_key"] or ""))[:TOP_FINDINGS]
    if not top:
        return ""
    rows = [
        [finding["county"], finding["other_county"] or "", shown(finding["township"]), shown(finding["village"]),
         shown(finding["name"]), mask_id_number(finding["id_number"]), names.get(finding["check_code"], finding["check_code"]),
         f"{finding['period_start'] or ''}～{finding['period_end'] or ''}", finding["overpaid"], finding["backpay"],
         STATUS_LABELS.get(finding["status"], finding["status"]), inspector_evidence(finding["evidence"], identity),
         finding["case_key"] or ""]
        for finding in top
    ]
    table = render_table(
        "table-top-findings",
        ["发放县", "另一县", "乡镇（街道）", "村（社区）", "姓名", "身份证号", "检查项目", "月份", "应追回（元）", "应补发（元）",
         "状态", "证据", "案件编号"],
        rows, formats=["code", "code", None, None, None, "code", None, None, fmt_yuan, fmt_yuan, None, "evidence", "code"],
    )
    return f'<section id="top-findings"><h2>金额最大的 {len(top)} 条跨县线索</h2>{table}</section>'


def render_timings(summary: dict) -> str:
    timings = summary.get("timings_seconds") or {}
    rows = [[stage, float(seconds or 0)] for stage, seconds in timings.items()]
    table = render_table("table-timings", ["阶段", "用时（秒）"], rows, totals=["合计", sum(row[1] for row in rows)] if rows else None,
                         formats=["code", lambda value: f"{value:,.3f}"])
    return f'<section id="run"><h2>运行信息</h2>{table}</section>'
