"""`report.html`: one self-contained page per run, for the bureau's leadership and the inspectors.

What the page shows: findings and amounts by check and by township (tables and
bar charts), amounts to recover and to back-pay, how the findings relate to the
previous run (new / persisting / recurred / reopened / suppressed from
`chk.finding_status`, resolved from `chk.resolved`), what the findings
achieved (核查成效: per check the 属实 / 不属实 rates inspectors measured, cases
open past the verdict deadline, money stopped a month, recovered and
back-paid, from `chk.outcome_summary` as the county workbook's sheet of that
name shows it; "none yet" without the table; below it 发放前拦截, the payments
screens stopped and the money prevented, from `chk.prevented_summary`), the trend across runs,
the findings with the most money at stake with their evidence as the
workbooks word it (reports/run_tables.py `inspector_evidence`: no source row
numbers or link weights, a confidence band by the policy's identity
thresholds), and the drop's quality (failed expectations and quarantined rows
per file, from the run record).

What it does not do: reach the network. CSS is inline and the charts are SVG
drawn here, so the page opens the same on a county office PC without internet.
Every text is escaped, and control characters HTML has no use for (a NUL
byte in a name) become U+FFFD; citizen numbers are masked (first 6 and last
4), also inside names, villages and township names. Chart labels too long for
the chart are shortened with …, the full name staying in the bar's tooltip and
in the tables.

Counts and amounts in the check and township tables leave out suppressed
findings (已核不属实或已整改，依据未变): inspectors already said they are not true (or put right), so
their money is not at stake. Suppressed findings are counted on their own.
The trend uses the `history` the caller gives, run by run as recorded.

The header shows the run's status as the record holds it when the page is
written (成功 / 失败 / 中断 / 运行中) and every time on the county's clock
(reports/workbooks.py `local_time_text`: the policy's `timezone`, Beijing
time by default), the trend's run labels included. When the operator let the
run go on although too many citizen numbers could not be used
(`record["inputs"]["unusable_ids_accepted"]`), the page opens with a line
saying so, above the title.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb

from hecha.audit.outcomes import outcome_totals, prevented_totals, prevented_summary, read_outcome_summary
from hecha.checks.catalogue import BY_CODE, CATALOGUE
from hecha.checks.labels import RUN_STATUS_LABELS, STATUS_LABELS, STATUS_ORDER
from hecha.reports.run_tables import confidence_band, inspector_evidence, percent_text, read_findings, read_resolved
from hecha.reports.workbooks import (
    NO_OUTCOME_CASES,
    NO_OUTCOMES,
    NO_RATE,
    OUTCOME_FIELDS,
    OUTCOME_SHEET,
    PREVENTED_FIELDS,
    PREVENTED_TITLE,
    county_zone,
    local_time_text,
    outcome_notes,
    outcome_values,
    override_warnings,
    prevented_notes,
    prevented_values,
)
from hecha.storage.database import table_columns
from hecha.storage.masking import mask_id_number, mask_text

REPORT_FILE = "report.html"
TOP_FINDINGS = 20

STATUS_COLORS = {
    "new": "#d9480f",
    "persisting": "#e8a33d",
    "recurred": "#c92a2a",
    "reopened": "#862e9c",
    "suppressed": "#868e96",
    "resolved": "#2b8a3e",
}

OVERPAID_COLOR = "#c92a2a"
BACKPAY_COLOR = "#1971c2"
STOPPED_COLOR = "#2b8a3e"
COUNT_COLOR = "#1c7ed6"
QUARANTINE_COLOR = "#e8590c"
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a",
)  # fmt: skip

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", '
    '"PingFang SC", "SimHei", sans-serif'
)
CHART_WIDTH = 960
FONT_SIZE = 13
# C0 controls other than tab, line feed and carriage return, and what XML refuses: never text on the page.
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- entry points


def write_html_report(con: duckdb.DuckDBPyConnection, run_dir: Path, *, record: dict, history: list[dict]) -> Path:
    """Write `run_dir/report.html` from the run's database and record; return its path."""
    path = Path(run_dir) / REPORT_FILE
    path.write_text(render_html_report(con, record=record, history=history), encoding="utf-8")
    return path


def render_html_report(con: duckdb.DuckDBPyConnection, *, record: dict, history: list[dict]) -> str:
    """The report page as a string (see the module docstring for what it holds)."""
    data = read_report_data(con)
    parameters = record.get("parameters") or {}
    run_id = str(record.get("run_id") or "")
    timezone = (record.get("policy") or {}).get("timezone")
    identity = (record.get("policy") or {}).get("identity")
    title = f"核查运行报告 {parameters.get('as_of') or ''}".strip()
    body = [
        render_warnings(record),
        render_header(record, timezone),
        render_overview(data),
        render_checks_section(data),
        render_townships_section(data),
        render_matrix_section(data),
        render_status_section(data),
        render_outcomes_section(data["outcomes"], verdict_deadline_days(record), data["prevented"]),
        render_trend_section(history, run_id, timezone),
        render_top_findings_section(data, identity),
        render_quality_section(record),
        render_run_section(record),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_command(html_path: Path, *args: str) -> list[str]:
    """A headless Chromium command line for the page, with a throwaway profile added by the caller."""
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("no Chromium binary found on PATH (install Debian's chromium package)")
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-extensions", *args, Path(html_path).resolve().as_uri()]


def screenshot(html_path: Path, png_path: Path, width: int = 1280, height: int = 2400) -> None:
    """Render the page in headless Chromium and save a PNG of `width` × `height` pixels."""
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hecha-chromium-") as profile:
        command = chromium_command(
            html_path, f"--user-data-dir={profile}", f"--screenshot={png_path}", f"--window-size={width},{height}"
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if not png_path.exists() or png_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium made no screenshot (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def dump_dom(html_path: Path) -> str:
    """The page's DOM after Chromium has parsed and laid it out, as serialised HTML."""
    with tempfile.TemporaryDirectory(prefix="hecha-chromium-") as profile:
        command = chromium_command(html_path, f"--user-data-dir={profile}", "--dump-dom")
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"Chromium could not dump the page (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
    return result.stdout


# --------------------------------------------------------------------------- reading the run database


def read_report_data(con: duckdb.DuckDBPyConnection) -> dict:
    """Everything the page shows from the run's database, as plain Python values."""
    unknown = "（未知乡镇）"
    findings = [
        row | {"township": mask_text(row["township"]) or unknown, "village": mask_text(row["village"]),
               "name": mask_text(row["name"]), "overpaid": row["overpaid_amount"] or 0.0,
               "backpay": row["backpay_amount"] or 0.0}
        for row in read_findings(con)
    ] if table_columns(con, "chk", "finding") else []
    resolved = [row | {"township": mask_text(row["township"]) or unknown} for row in read_resolved(con)]
    return {
        "has_status": bool(table_columns(con, "chk", "finding_status")),
        "has_resolved": bool(table_columns(con, "chk", "resolved")),
        "findings": findings,
        "resolved": resolved,
        "outcomes": read_outcome_summary(con),
        "prevented": prevented_summary(con),
    }


def check_order(codes) -> list[str]:
    """Codes in catalogue order, unknown codes after them by name."""
    known = [check.code for check in CATALOGUE if check.code in codes]
    return known + sorted(code for code in codes if code not in BY_CODE)


def check_name(code: str) -> str:
    check = BY_CODE.get(code)
    return check.name_zh if check else code


def check_color(code: str) -> str:
    codes = [check.code for check in CATALOGUE]
    index = codes.index(code) if code in codes else len(codes) + sum(map(ord, code))
    return PALETTE[index % len(PALETTE)]


def summarize(findings: list[dict], resolved: list[dict], key: str) -> dict[str, dict]:
    """Per value of `key` (check_code or township): counts and amounts of listed findings, status counts."""
    groups: dict[str, dict] = {}

    def group(value: str) -> dict:
        return groups.setdefault(
            value, {"findings": 0, "overpaid": 0.0, "backpay": 0.0, "to_confirm": 0} | {s: 0 for s in STATUS_ORDER}
        )

    for finding in findings:
        entry = group(finding[key])
        entry[finding["status"]] = entry.get(finding["status"], 0) + 1
        if finding["status"] == "suppressed":
            continue
        entry["findings"] += 1
        entry["overpaid"] += finding["overpaid"]
        entry["backpay"] += finding["backpay"]
        entry["to_confirm"] += int(bool(finding["needs_confirmation"]))
    for case in resolved:
        group(case[key])["resolved"] += 1
    return groups


# --------------------------------------------------------------------------- sections


def render_warnings(record: dict) -> str:
    """The override lines (see reports/workbooks.py `override_warnings`), or nothing."""
    lines = override_warnings(record)
    if not lines:
        return ""
    return '<div id="warnings" role="alert">' + "".join(f"<p>{esc(mask_text(line))}</p>" for line in lines) + "</div>"


def render_header(record: dict, timezone: str | None = None) -> str:
    parameters = record.get("parameters") or {}
    status = record.get("status") or ""
    county = parameters.get("county")
    facts = [
        ("县（区）代码", county or "—"),
        ("核查月份", parameters.get("as_of") or "—"),
        ("运行编号", record.get("run_id") or "—"),
        ("运行状态", RUN_STATUS_LABELS.get(status, status) or "—"),
        ("开始时间", local_time_text(record.get("started_at"), timezone) or "—"),
        ("完成时间", local_time_text(record.get("finished_at"), timezone) or "—"),
        ("报告生成", local_time_text(dt.datetime.now(dt.timezone.utc), timezone)),
    ]
    items = "".join(f"<div><dt>{esc(label)}</dt><dd>{esc(value)}</dd></div>" for label, value in facts)
    failed = ""
    if status in ("failed", "interrupted"):
        stage = record.get("failed_stage") or record.get("stage") or ""
        failed = (f'<p class="alert">运行{esc(RUN_STATUS_LABELS[status])}，阶段：{esc(stage)}；'
                  f'{esc(record.get("error") or "")}</p>')
    return f'<header id="report-header"><h1>社会救助数据比对核查报告</h1><dl class="facts">{items}</dl>{failed}</header>'


def render_overview(data: dict) -> str:
    findings = data["findings"]
    listed = [f for f in findings if f["status"] != "suppressed"]
    overpaid = sum(f["overpaid"] for f in listed)
    backpay = sum(f["backpay"] for f in listed)
    cards = [
        ("问题线索", fmt_count(len(listed)), f"条，不含{STATUS_LABELS['suppressed']}"),
        ("应追回金额", fmt_yuan(overpaid), "元"),
        ("应补发金额", fmt_yuan(backpay), "元"),
        ("涉及乡镇", fmt_count(len({f["township"] for f in listed})), "个"),
        ("待确认身份", fmt_count(sum(1 for f in listed if f["needs_confirmation"])), "条"),
    ]
    if data["has_status"]:
        cards.append((STATUS_LABELS["new"], fmt_count(sum(1 for f in findings if f["status"] == "new")), "条"))
    if data["has_resolved"]:
        cards.append((STATUS_LABELS["resolved"], fmt_count(len(data["resolved"])), "条"))
    html_cards = "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="unit">{esc(unit)}</div></div>'
        for label, value, unit in cards
    )
    return f'<section id="overview"><h2>概览</h2><div class="cards">{html_cards}</div></section>'


def count_and_amount_charts(key: str, subject: str, labels: list[str], entries: list[dict], colors: list[str]) -> tuple[str, str]:
    """The pair of bar charts a grouping gets: findings, and money to recover beside money to back-pay."""
    counts = hbar_chart(
        f"chart-by-{key}", f"{subject}问题线索数（条）", labels, [entry["findings"] for entry in entries],
        colors=colors, value_format=fmt_count,
    )
    amounts = grouped_hbar_chart(
        f"chart-amounts-by-{key}", f"{subject}应追回与应补发金额（元）", labels,
        [("应追回", OVERPAID_COLOR, [entry["overpaid"] for entry in entries]),
         ("应补发", BACKPAY_COLOR, [entry["backpay"] for entry in entries])],
        value_format=fmt_yuan,
    )
    return counts, amounts


def render_checks_section(data: dict) -> str:
    groups = summarize(data["findings"], data["resolved"], "check_code")
    codes = [code for code in check_order(groups) if groups[code]["findings"] or groups[code]["suppressed"]]
    charted = [code for code in codes if groups[code]["findings"]]
    labels = [check_name(code) for code in charted]
    chart_counts, chart_amounts = count_and_amount_charts(
        "check", "各检查项目", labels, [groups[c] for c in charted], [check_color(c) for c in charted]
    )
    rows = [
        [check_name(code), code, groups[code]["findings"], groups[code]["overpaid"], groups[code]["backpay"],
         groups[code]["to_confirm"], groups[code]["suppressed"]]
        for code in codes
    ]
    totals = ["合计", "", *(sum(row[i] for row in rows) for i in range(2, 7))]
    table = render_table(
        "table-by-check",
        ["检查项目", "代码", "问题线索（条）", "应追回金额（元）", "应补发金额（元）", "待确认身份（条）", f"{STATUS_LABELS['suppressed']}，未列出（条）"],
        rows, totals=totals, formats=[None, "code", fmt_count, fmt_yuan, fmt_yuan, fmt_count, fmt_count],
    )
    return (
        '<section id="by-check"><h2>按检查项目</h2>'
        f'<div class="charts">{chart_counts}{chart_amounts}</div>{table}</section>'
    )


def render_townships_section(data: dict) -> str:
    groups = summarize(data["findings"], data["resolved"], "township")
    townships = sorted(
        (t for t in groups if groups[t]["findings"] or groups[t]["suppressed"]),
        key=lambda t: (-groups[t]["findings"], t),
    )
    charted = [t for t in townships if groups[t]["findings"]]
    chart_counts, chart_amounts = count_and_amount_charts(
        "township", "各乡镇", charted, [groups[t] for t in charted], [COUNT_COLOR] * len(charted)
    )
    rows = [
        [t, groups[t]["findings"], groups[t]["overpaid"], groups[t]["backpay"], groups[t]["to_confirm"],
         groups[t]["suppressed"]]
        for t in townships
    ]
    totals = ["合计", *(sum(row[i] for row in rows) for i in range(1, 6))]
    table = render_table(
        "table-by-township",
        ["乡镇（街道）", "问题线索（条）", "应追回金额（元）", "应补发金额（元）", "待确认身份（条）", f"{STATUS_LABELS['suppressed']}，未列出（条）"],
        rows, totals=totals, formats=[None, fmt_count, fmt_yuan, fmt_yuan, fmt_count, fmt_count],
    )
    return (
        '<section id="by-township"><h2>按乡镇</h2>'
        f'<div class="charts">{chart_counts}{chart_amounts}</div>{table}</section>'
    )


def render_matrix_section(data: dict) -> str:
    listed = [f for f in data["findings"] if f["status"] != "suppressed"]
    codes = check_order({f["check_code"] for f in listed})
    counts: dict[tuple[str, str], int] = {}
    for finding in listed:
        key = (finding["township"], finding["check_code"])
        counts[key] = counts.get(key, 0) + 1
    townships = sorted({t for t, _ in counts}, key=lambda t: (-sum(v for (tt, _), v in counts.items() if tt == t), t))
    rows = [[t, *(counts.get((t, c), 0) for c in codes), sum(counts.get((t, c), 0) for c in codes)] for t in townships]
    totals = ["合计", *(sum(row[i] for row in rows) for i in range(1, len(codes) + 2))]
    table = render_table(
        "table-check-by-township",
        ["乡镇（街道）", *(check_name(c) for c in codes), "合计"],
        rows, totals=totals, formats=[None, *([fmt_count_blank] * (len(codes) + 1))], class_name="matrix",
    )
    return f'<section id="check-by-township"><h2>检查项目 × 乡镇（问题线索条数）</h2>{table}</section>'


def render_status_section(data: dict) -> str:
    if not data["has_status"] and not data["has_resolved"]:
        return (
            '<section id="status"><h2>与上次运行相比</h2>'
            '<p class="note">本次运行没有案件历史（首次运行或未比对）。</p></section>'
        )
    groups = summarize(data["findings"], data["resolved"], "check_code")
    statuses = [s for s in STATUS_ORDER if (s != "resolved" and data["has_status"]) or (s == "resolved" and data["has_resolved"])]
    totals_by_status = {s: sum(g[s] for g in groups.values()) for s in statuses}
    chart = hbar_chart(
        "chart-status", "案件状态（条）", [STATUS_LABELS[s] for s in statuses], [totals_by_status[s] for s in statuses],
        colors=[STATUS_COLORS[s] for s in statuses], value_format=fmt_count,
    )
    codes = check_order(groups)
    rows = [[check_name(c), *(groups[c][s] for s in statuses)] for c in codes]
    totals = ["合计", *(totals_by_status[s] for s in statuses)]
    table = render_table(
        "table-status", ["检查项目", *(STATUS_LABELS[s] for s in statuses)], rows, totals=totals,
        formats=[None, *([fmt_count_blank] * len(statuses))],
    )
    note = (
        f'<p class="note">“{STATUS_LABELS["suppressed"]}”：检查人员已核为不属实（或已整改）且核查依据未变化，不列入工作簿；'
        f"“{STATUS_LABELS['resolved']}”：上次运行列出、本次不再出现的案件。</p>"
    )
    return f'<section id="status"><h2>与上次运行相比</h2><div class="charts">{chart}</div>{table}{note}</section>'


def verdict_deadline_days(record: dict) -> object:
    """The policy's outcomes.verdict_deadline_days, as the run recorded it (None if it did not)."""
    recorded = (record.get("outcomes") or {}).get("verdict_deadline_days")
    return recorded if recorded is not None else ((record.get("policy") or {}).get("outcomes") or {}).get("verdict_deadline_days")


def render_prevented(prevented: list[dict] | None) -> str:
    """发放前拦截 under 核查成效: the money prevented and stopped, a line per screen verdict and reason, what they mean."""
    if not prevented:
        return ""
    total = prevented_totals(prevented)
    cards = [
        ("阻止发放", fmt_yuan(total["prevented_amount"]), f"元，{total['prevented_lines']:,} 笔拦截后核实属实或已整改"),
        ("拦截", fmt_yuan(total["block_amount"]), f"元，{total['block_lines']:,} 笔"),
        ("暂缓", fmt_yuan(total["hold_amount"]), f"元，{total['hold_lines']:,} 笔"),
        ("待核查", fmt_count(total["no_verdict_count"]), "笔"),
    ]
    formats = {"integer": fmt_count, "amount": fmt_yuan, "rate": rate_text}
    columns = [column for _, column in PREVENTED_FIELDS]
    table = render_table(
        "table-prevented", [column.header for column in columns], [list(prevented_values(row)) for row in prevented],
        totals=list(prevented_values(total | {"reason": "合计", "verdict_label": ""})),
        formats=[formats.get(column.kind) for column in columns],
    )
    notes = "".join(f'<p class="note">{esc(text)}</p>' for text in prevented_notes())
    return f'<h3 id="prevented">{esc(PREVENTED_TITLE)}</h3>{render_cards(cards)}{table}{notes}'


def render_cards(cards: list[tuple[str, str, str]]) -> str:
    """A row of figure cards: (label, value, unit) each."""
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="unit">{esc(unit)}</div></div>'
        for label, value, unit in cards
    ) + "</div>"


def render_outcomes_section(outcomes: list[dict] | None, deadline_days: object = None,
                            prevented: list[dict] | None = None) -> str:
    """核查成效: the county workbook's sheet of that name as a table, with the county's figures and a chart of the money;
    then 发放前拦截 (`prevented`, as `prevented_summary` gives it) when a screen has stopped a payment."""
    heading = f'<section id="outcomes"><h2>{esc(OUTCOME_SHEET)}</h2>'
    screens = render_prevented(prevented)
    if not outcomes:
        return f'{heading}<p class="note">{esc(NO_OUTCOMES if outcomes is None else NO_OUTCOME_CASES)}</p>{screens}</section>'
    total = outcome_totals(outcomes)
    cards = [
        ("属实率", rate_text(total["true_rate"]), f"属实 {total['true_count']:,} / 不属实 {total['not_true_count']:,} 条"),
        ("每月已停发", fmt_yuan(total["monthly_stopped_amount"]), f"元／月，{total['stopped_cases']:,} 条线索"),
        ("已追回", fmt_yuan(total["recovered_amount"]), "元"),
        ("已补发", fmt_yuan(total["backpay_paid"]), f"元，应补发 {fmt_yuan(total['backpay_due'])}"),
        ("超期未核查", fmt_count(total["open_past_deadline"]), "条"),
    ]
    charted = [row for row in outcomes if row["monthly_stopped_amount"] or row["recovered_amount"] or row["backpay_paid"]]
    chart = grouped_hbar_chart(
        "chart-outcomes", "各检查项目已停发、已追回与已补发金额（元）", [check_name(row["check_code"]) for row in charted],
        [("每月已停发（元／月）", STOPPED_COLOR, [row["monthly_stopped_amount"] or 0.0 for row in charted]),
         ("已追回", OVERPAID_COLOR, [row["recovered_amount"] or 0.0 for row in charted]),
         ("已补发", BACKPAY_COLOR, [row["backpay_paid"] or 0.0 for row in charted])],
        value_format=fmt_yuan,
    )
    formats = {"integer": fmt_count, "amount": fmt_yuan, "rate": rate_text}
    columns = [column for _, column in OUTCOME_FIELDS]
    table = render_table(
        "table-outcomes", [column.header for column in columns], [list(outcome_values(row)) for row in outcomes],
        totals=list(outcome_values(total | {"check_code": "合计"})), formats=[formats.get(column.kind) for column in columns],
    )
    notes = "".join(f'<p class="note">{esc(text)}</p>' for text in outcome_notes(deadline_days))
    return f'{heading}{render_cards(cards)}<div class="charts">{chart}</div>{table}{notes}{screens}</section>'


def render_trend_section(history: list[dict], run_id: str, timezone: str | None = None) -> str:
    runs = list(history or [])
    if not runs:
        return '<section id="trend"><h2>历次运行趋势</h2><p class="note">没有历次运行记录。</p></section>'
    labels = [run_label(run, timezone) for run in runs]
    codes = check_order({code for run in runs for code in (run.get("findings") or {})})
    stacked = stacked_vbar_chart(
        "chart-trend-findings", "历次运行问题线索数（按检查项目，条）", labels,
        [(check_name(c), check_color(c), [int((run.get("findings") or {}).get(c) or 0) for run in runs]) for c in codes],
        value_format=fmt_count,
    )
    lines = line_chart(
        "chart-trend-amounts", "历次运行应追回与应补发金额（元）", labels,
        [("应追回", OVERPAID_COLOR, [float(run.get("overpaid") or 0) for run in runs]),
         ("应补发", BACKPAY_COLOR, [float(run.get("backpay") or 0) for run in runs])],
        value_format=fmt_yuan,
    )
    rows = [
        [run.get("run_id") or "", run.get("as_of") or "", sum(int(v or 0) for v in (run.get("findings") or {}).values()),
         float(run.get("overpaid") or 0), float(run.get("backpay") or 0)]
        for run in runs
    ]
    table = render_table(
        "table-trend", ["运行编号", "核查月份", "问题线索（条）", "应追回金额（元）", "应补发金额（元）"], rows,
        formats=["code", None, fmt_count, fmt_yuan, fmt_yuan],
        row_classes=["current" if run.get("run_id") == run_id else "" for run in runs],
    )
    note = f'<p class="note">图中运行时间为{esc(county_zone(timezone)[1])}。</p>'
    return f'<section id="trend"><h2>历次运行趋势</h2><div class="charts">{stacked}{lines}</div>{note}{table}</section>'


def render_top_findings_section(data: dict, identity: dict | None = None) -> str:
    """The findings with the most money at stake, with their evidence as inspectors read it (no row numbers or weights).

    `identity` is the policy's identity section: its thresholds give the confidence band.
    """
    listed = [f for f in data["findings"] if f["status"] != "suppressed"]
    top = sorted(listed, key=lambda f: (-(f["overpaid"] + f["backpay"]), f["case_key"] or ""))
    top = [f for f in top if f["overpaid"] + f["backpay"] > 0][:TOP_FINDINGS]
    if not top:
        return ""
    rows = [
        [f["township"], f["village"] or "", f["name"] or "", mask_id_number(f["id_number"]), check_name(f["check_code"]),
         f"{month_text(f['period_start'])}～{month_text(f['period_end'])}", f["overpaid"], f["backpay"],
         STATUS_LABELS.get(f["status"], f["status"]), confidence_band(f["link_confidence"], identity),
         inspector_evidence(f["evidence"], identity), f["case_key"] or ""]
        for f in top
    ]
    table = render_table(
        "table-top-findings",
        ["乡镇（街道）", "村（社区）", "姓名", "身份证号", "检查项目", "月份", "应追回（元）", "应补发（元）", "状态",
         "关联可信度", "证据", "案件编号"],
        rows, formats=[None, None, None, "code", None, None, fmt_yuan, fmt_yuan, None, None, "evidence", "code"],
    )
    return f'<section id="top-findings"><h2>金额最大的 {len(top)} 条线索</h2>{table}</section>'


def render_quality_section(record: dict) -> str:
    files = record.get("files") or []
    rows = [
        [f.get("file") or "", f.get("source") or "", f.get("encoding") or "—", int(f.get("rows_read") or 0),
         int(f.get("rows_staged") or 0), int(f.get("rows_quarantined") or 0), int(f.get("values_quarantined") or 0)]
        for f in files
    ]
    totals = ["合计", "", "", *(sum(row[i] for row in rows) for i in range(3, 7))] if rows else None
    files_table = render_table(
        "table-files", ["文件", "数据来源", "编码", "读取行数", "入库行数", "隔离行数", "隔离取值数"], rows, totals=totals,
        formats=[None, "code", "code", fmt_count, fmt_count, fmt_count, fmt_count],
        row_classes=["warn" if row[5] or row[6] else "" for row in rows],
    )
    chart = hbar_chart(
        "chart-quarantine", "各文件隔离行数", [row[0] for row in rows], [row[5] for row in rows],
        colors=[QUARANTINE_COLOR] * len(rows), value_format=fmt_count,
    )
    validation = record.get("validation") or {}
    failures = []
    for stem, file in (validation.get("files") or {}).items():
        for expectation in file.get("expectations") or []:
            if expectation.get("success"):
                continue
            percent = expectation.get("unexpected_percent")
            failures.append([
                stem,
                expectation.get("description") or expectation.get("expectation") or "",
                expectation.get("column") or "",
                "未能检查：" + str(expectation["error"]) if expectation.get("error") else int(expectation.get("unexpected_count") or 0),
                "" if percent is None else f"{float(percent):.2f}%",
                "、".join(str(row) for row in expectation.get("example_rows") or []),
            ])
    checked = sum(len(file.get("expectations") or []) for file in (validation.get("files") or {}).values())
    if not validation:
        verdict = '<p class="note">本次运行没有数据校验结果。</p>'
    elif failures:
        verdict = f'<p class="note">共 {checked} 项校验，{len(failures)} 项未通过（行号为文件中的数据行，不含表头）。</p>'
    else:
        verdict = f'<p class="note ok">共 {checked} 项校验，全部通过。</p>'
    validation_table = render_table(
        "table-validation", ["文件", "校验规则", "字段", "不符合行数", "比例", "示例行号"], failures,
        formats=["code", None, "code", fmt_count, None, None], empty_text="全部通过",
    )
    return (
        '<section id="data-quality"><h2>数据质量</h2><h3>各文件读取与隔离</h3>'
        f'<div class="charts">{chart}</div>{files_table}<h3>数据校验（未通过项）</h3>{verdict}{validation_table}</section>'
    )


def render_run_section(record: dict) -> str:
    timings = record.get("timings_seconds") or {}
    rows = [[stage, float(seconds or 0)] for stage, seconds in timings.items()]
    totals = ["合计", sum(row[1] for row in rows)] if rows else None
    table = render_table(
        "table-timings", ["阶段", "用时（秒）"], rows, totals=totals, formats=["code", lambda v: f"{v:,.3f}"],
    )
    parameters = record.get("parameters") or {}
    params = "".join(f"<div><dt>{esc(key)}</dt><dd>{esc(value)}</dd></div>" for key, value in parameters.items())
    return f'<section id="run"><h2>运行信息</h2><dl class="facts">{params}</dl>{table}</section>'


# --------------------------------------------------------------------------- formatting


def esc(value: object) -> str:
    return html.escape(UNPRINTABLE.sub("\ufffd", "" if value is None else str(value)), quote=True)


def fit_text(text: str, width: float, size: float = FONT_SIZE) -> str:
    """The text, or its start and … when it would be wider than `width` (see text_width)."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    room, kept = width - text_width("…", size), 0
    for ch in text:
        room -= text_width(ch, size)
        if room < 0:
            break
        kept += 1
    return text[:kept] + "…"


def fmt_count(value) -> str:
    return f"{int(value):,}"


def fmt_count_blank(value) -> str:
    return f"{int(value):,}" if value else "·"


def fmt_yuan(value) -> str:
    return f"{float(value):,.2f}"


def rate_text(value) -> str:
    """A rate inspectors measured as a percentage; — before anything was measured."""
    return NO_RATE if value is None or isinstance(value, str) else percent_text(value)


def month_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def run_label(run: dict, timezone: str | None = None) -> str:
    """`2026-10 11-23 09:40` from a run id `2026-10_20261123T014025…` (stamped in UTC), on the county's clock.

    Else the as_of or the id.
    """
    run_id = str(run.get("run_id") or "")
    as_of = str(run.get("as_of") or run_id.split("_")[0])
    stamp = run_id.split("_", 1)[1] if "_" in run_id else ""
    try:
        started = dt.datetime.strptime(stamp[:13], "%Y%m%dT%H%M").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return as_of or run_id
    return f"{as_of} {local_time_text(started, timezone, pattern='%m-%d %H:%M', label=False)}"


def render_table(table_id: str, headers: list[str], rows: list[list], *, totals: list | None = None,
                 formats: list | None = None, row_classes: list[str] | None = None, class_name: str = "",
                 empty_text: str = "无") -> str:
    """A table with escaped cells; numbers right-aligned.

    A format "code" shows the text monospaced, "evidence" as wrapped prose.
    """
    formats = formats or [None] * len(headers)

    def cell(value, fmt, tag="td") -> str:
        if fmt == "code":
            return f'<{tag} class="code">{esc(value)}</{tag}>'
        if fmt == "evidence":
            return f'<{tag} class="evidence">{esc(value)}</{tag}>'
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = fmt(value) if callable(fmt) else str(value)
            return f'<{tag} class="num">{esc(text)}</{tag}>'
        return f"<{tag}>{esc(value)}</{tag}>"

    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    if rows:
        body = "".join(
            (f'<tr class="{esc(row_classes[i])}">' if row_classes and row_classes[i] else "<tr>")
            + "".join(cell(v, formats[j]) for j, v in enumerate(row))
            + "</tr>"
            for i, row in enumerate(rows)
        )
    else:
        body = f'<tr class="empty"><td colspan="{len(headers)}">{esc(empty_text)}</td></tr>'
    foot = ""
    if totals and rows:
        foot = "<tfoot><tr>" + "".join(cell(v, formats[j] if formats[j] != "code" else None, "th") for j, v in enumerate(totals)) + "</tr></tfoot>"
    classes = " ".join(filter(None, ["data", class_name]))
    return (
        f'<div class="table-wrap"><table id="{esc(table_id)}" class="{classes}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table></div>"
    )


# --------------------------------------------------------------------------- SVG charts


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width: CJK and full-width characters one em, others about half."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in str(text))


def nice_scale(value: float, ticks: int = 5) -> tuple[float, float]:
    """An axis maximum at or above `value` and its tick step (1, 2, 2.5 or 5 × 10^k, about `ticks` steps).

    Ticks are whole numbers: the step is at least 1 and never 2.5.
    """
    if value <= 0:
        return 1.0, 1.0
    raw = value / ticks
    exponent = math.floor(math.log10(raw))
    step = 10.0 ** (exponent + 1)
    for factor in (1, 2, 2.5, 5, 10):
        if factor == 2.5 and exponent < 1:  # no 2.5 steps: ticks stay whole numbers
            continue
        if factor * 10.0**exponent >= raw - 1e-12:
            step = factor * 10.0**exponent
            break
    step = max(step, 1.0)
    return step * math.ceil(value / step - 1e-9), step


def short_number(value: float) -> str:
    """Axis labels: 12,000 → 1.2万, 350 → 350."""
    if abs(value) >= 10000:
        text = f"{value / 10000:.2f}".rstrip("0").rstrip(".")
        return f"{text}万"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def svg_open(chart_id: str, title: str, width: float, height: float) -> str:
    return (
        f'<figure class="chart-box"><svg class="chart" id="{esc(chart_id)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="{esc(title)}" font-size="{FONT_SIZE}">'
        f"<title>{esc(title)}</title>"
        f'<text class="chart-title" x="0" y="18" font-size="15" font-weight="600" fill="#212529">{esc(title)}</text>'
    )


def svg_close() -> str:
    return "</svg></figure>"


def svg_empty(chart_id: str, title: str) -> str:
    return (
        svg_open(chart_id, title, CHART_WIDTH, 70)
        + '<rect class="frame" x="0" y="30" width="960" height="36" fill="#f8f9fa" stroke="#dee2e6"/>'
        + '<text x="480" y="53" text-anchor="middle" fill="#868e96">无数据</text>'
        + svg_close()
    )


def svg_legend(series: list[tuple[str, str]], y: float, width: float = CHART_WIDTH) -> tuple[str, float]:
    """Swatches and names in rows from the left; returns the markup and the height used."""
    parts, x, row = [], 0.0, 0
    for name, color in series:
        item_width = 14 + 6 + text_width(name) + 18
        if x > 0 and x + item_width > width:
            x, row = 0.0, row + 1
        top = y + row * 20
        parts.append(
            f'<g class="legend-item"><rect x="{x:.1f}" y="{top:.1f}" width="14" height="14" fill="{color}"/>'
            f'<text x="{x + 20:.1f}" y="{top + 12:.1f}" fill="#343a40">{esc(name)}</text></g>'
        )
        x += item_width
    return f'<g class="legend">{"".join(parts)}</g>', (row + 1) * 20


def value_axis(x0: float, plot_width: float, top: float, bottom: float, scale: tuple[float, float]) -> str:
    """Vertical grid lines with labels below the plot, for horizontal bars."""
    maximum, step = scale
    parts = []
    for i in range(round(maximum / step) + 1):
        value = step * i
        x = x0 + plot_width * value / maximum
        parts.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#e9ecef"/>'
            f'<text x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" font-size="11" fill="#868e96">'
            f"{esc(short_number(value))}</text>"
        )
    return f'<g class="axis">{"".join(parts)}</g>'


def hbar_chart(chart_id: str, title: str, labels: list[str], values: list[float], *, colors: list[str],
               value_format=fmt_count) -> str:
    """Horizontal bars, one per label, the value written after the bar."""
    if not labels:
        return svg_empty(chart_id, title)
    label_width = min(max(text_width(label) for label in labels) + 12, 300)
    value_width = max(max(text_width(value_format(v)) for v in values) + 16, 48)
    plot_x, plot_width = label_width, CHART_WIDTH - label_width - value_width
    top, row_height, bar_height = 34, 26, 18
    bottom = top + row_height * len(labels)
    height = bottom + 24
    scale = nice_scale(max(values))
    maximum = scale[0]
    parts = [svg_open(chart_id, title, CHART_WIDTH, height), value_axis(plot_x, plot_width, top, bottom, scale)]
    for i, (label, value, color) in enumerate(zip(labels, values, colors)):
        y = top + i * row_height + (row_height - bar_height) / 2
        width = plot_width * value / maximum if maximum else 0
        parts.append(
            f'<g class="bar-row"><text x="{plot_x - 8:.1f}" y="{y + 13:.1f}" text-anchor="end" fill="#343a40">'
            f"{esc(fit_text(label, label_width - 12))}</text>"
            f'<rect class="bar" x="{plot_x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" height="{bar_height}" fill="{color}">'
            f"<title>{esc(label)}：{esc(value_format(value))}</title></rect>"
            f'<text class="value" x="{plot_x + width + 6:.1f}" y="{y + 13:.1f}" fill="#495057">{esc(value_format(value))}</text></g>'
        )
    parts.append(f'<line x1="{plot_x:.1f}" y1="{top:.1f}" x2="{plot_x:.1f}" y2="{bottom:.1f}" stroke="#adb5bd"/>')
    return "".join(parts) + svg_close()


def grouped_hbar_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, str, list[float]]], *,
                       value_format=fmt_yuan) -> str:
    """Horizontal bars grouped per label, one bar per series (e.g. to recover vs to back-pay)."""
    if not labels:
        return svg_empty(chart_id, title)
    legend, legend_height = svg_legend([(name, color) for name, color, _ in series], 28)
    all_values = [v for _, _, values in series for v in values]
    label_width = min(max(text_width(label) for label in labels) + 12, 300)
    value_width = max(max(text_width(value_format(v), 11) for v in all_values) + 16, 48)
    plot_x, plot_width = label_width, CHART_WIDTH - label_width - value_width
    bar_height, gap = 13, 10
    group_height = bar_height * len(series) + gap
    top = 28 + legend_height + 6
    bottom = top + group_height * len(labels)
    height = bottom + 24
    scale = nice_scale(max(all_values))
    maximum = scale[0]
    parts = [svg_open(chart_id, title, CHART_WIDTH, height), legend, value_axis(plot_x, plot_width, top, bottom, scale)]
    for i, label in enumerate(labels):
        group_top = top + i * group_height + gap / 2
        parts.append(
            f'<g class="bar-group"><text x="{plot_x - 8:.1f}" y="{group_top + bar_height * len(series) / 2 + 4:.1f}" '
            f'text-anchor="end" fill="#343a40">{esc(fit_text(label, label_width - 12))}</text>'
        )
        for j, (name, color, values) in enumerate(series):
            value = values[i]
            y = group_top + j * bar_height
            width = plot_width * value / maximum if maximum else 0
            parts.append(
                f'<rect class="bar" x="{plot_x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" height="{bar_height - 1}" '
                f'fill="{color}"><title>{esc(label)} {esc(name)}：{esc(value_format(value))}</title></rect>'
            )
            if value:
                parts.append(
                    f'<text class="value" x="{plot_x + width + 5:.1f}" y="{y + 10:.1f}" font-size="11" fill="#495057">'
                    f"{esc(value_format(value))}</text>"
                )
        parts.append("</g>")
    parts.append(f'<line x1="{plot_x:.1f}" y1="{top:.1f}" x2="{plot_x:.1f}" y2="{bottom:.1f}" stroke="#adb5bd"/>')
    return "".join(parts) + svg_close()


def category_axis(categories: list[str], x0: float, step: float, baseline: float) -> str:
    """Category labels under vertical bars or points, split in two lines at the first space."""
    parts = []
    for i, category in enumerate(categories):
        x = x0 + step * (i + 0.5)
        first, _, second = category.partition(" ")
        parts.append(
            f'<text x="{x:.1f}" y="{baseline + 16:.1f}" text-anchor="middle" font-size="11" fill="#495057">{esc(first)}'
            + (f'<tspan x="{x:.1f}" dy="13">{esc(second)}</tspan>' if second else "")
            + "</text>"
        )
    return f'<g class="axis categories">{"".join(parts)}</g>'


def vertical_grid(x0: float, plot_width: float, top: float, baseline: float, scale: tuple[float, float]) -> str:
    """Horizontal grid lines with labels left of the plot, for vertical bars and lines."""
    maximum, step = scale
    parts = []
    for i in range(round(maximum / step) + 1):
        value = step * i
        y = baseline - (baseline - top) * value / maximum
        parts.append(
            f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x0 + plot_width:.1f}" y2="{y:.1f}" stroke="#e9ecef"/>'
            f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#868e96">'
            f"{esc(short_number(value))}</text>"
        )
    return f'<g class="axis">{"".join(parts)}</g>'


def stacked_vbar_chart(chart_id: str, title: str, categories: list[str], series: list[tuple[str, str, list[float]]], *,
                       value_format=fmt_count) -> str:
    """Vertical bars, one per category (run), stacked by series (check); the total above each bar."""
    if not categories or not series:
        return svg_empty(chart_id, title)
    legend, legend_height = svg_legend([(name, color) for name, color, _ in series], 28)
    totals = [sum(values[i] for _, _, values in series) for i in range(len(categories))]
    scale = nice_scale(max(totals))
    maximum = scale[0]
    plot_x, plot_width = 64, CHART_WIDTH - 64 - 10
    top = 28 + legend_height + 22
    baseline = top + 240
    height = baseline + 44
    step = plot_width / len(categories)
    bar_width = min(step * 0.6, 80)
    parts = [svg_open(chart_id, title, CHART_WIDTH, height), legend,
             vertical_grid(plot_x, plot_width, top, baseline, scale)]
    for i, category in enumerate(categories):
        x = plot_x + step * (i + 0.5) - bar_width / 2
        y = baseline
        parts.append('<g class="stack">')
        for name, color, values in series:
            value = values[i]
            if value <= 0:
                continue
            h = (baseline - top) * value / maximum
            y -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{esc(category)} {esc(name)}：{esc(value_format(value))}</title></rect>"
            )
        parts.append(
            f'<text class="value" x="{x + bar_width / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="11" '
            f'fill="#343a40">{esc(value_format(totals[i]))}</text></g>'
        )
    parts.append(f'<line x1="{plot_x:.1f}" y1="{baseline:.1f}" x2="{plot_x + plot_width:.1f}" y2="{baseline:.1f}" stroke="#adb5bd"/>')
    parts.append(category_axis(categories, plot_x, step, baseline))
    return "".join(parts) + svg_close()


def line_chart(chart_id: str, title: str, categories: list[str], series: list[tuple[str, str, list[float]]], *,
               value_format=fmt_yuan) -> str:
    """One line per series across the categories (runs), a dot and its value at each point."""
    if not categories or not series:
        return svg_empty(chart_id, title)
    legend, legend_height = svg_legend([(name, color) for name, color, _ in series], 28)
    scale = nice_scale(max(v for _, _, values in series for v in values))
    maximum = scale[0]
    plot_x, plot_width = 64, CHART_WIDTH - 64 - 10
    top = 28 + legend_height + 22
    baseline = top + 220
    height = baseline + 44
    step = plot_width / len(categories)
    parts = [svg_open(chart_id, title, CHART_WIDTH, height), legend,
             vertical_grid(plot_x, plot_width, top, baseline, scale)]
    for name, color, values in series:
        points = [(plot_x + step * (i + 0.5), baseline - (baseline - top) * v / maximum) for i, v in enumerate(values)]
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
        parts.append(f'<g class="series"><path class="line" d="{d}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        for (x, y), value, category in zip(points, values, categories):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"><title>{esc(category)} {esc(name)}：'
                f"{esc(value_format(value))}</title></circle>"
                f'<text class="value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="11" fill="{color}">'
                f"{esc(short_number(value))}</text>"
            )
        parts.append("</g>")
    parts.append(f'<line x1="{plot_x:.1f}" y1="{baseline:.1f}" x2="{plot_x + plot_width:.1f}" y2="{baseline:.1f}" stroke="#adb5bd"/>')
    parts.append(category_axis(categories, plot_x, step, baseline))
    return "".join(parts) + svg_close()


CSS = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #f1f3f5; color: #212529; font-family: {FONT_FAMILY}; font-size: 14px; line-height: 1.5; }}
main {{ max-width: 1200px; margin: 0 auto; padding: 24px; }}
header, section {{ background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 16px 20px; margin-bottom: 16px; }}
h1 {{ font-size: 22px; margin: 0 0 12px; }}
h2 {{ font-size: 18px; margin: 0 0 12px; border-left: 4px solid #1c7ed6; padding-left: 8px; }}
h3 {{ font-size: 15px; margin: 16px 0 8px; }}
dl.facts {{ display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 0; }}
dl.facts div {{ min-width: 140px; }}
dl.facts dt {{ color: #868e96; font-size: 12px; }}
dl.facts dd {{ margin: 0; font-weight: 600; word-break: break-all; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 12px; }}
.card {{ border: 1px solid #e9ecef; border-radius: 6px; padding: 10px 14px; background: #f8f9fa; }}
.card .label {{ color: #495057; font-size: 13px; }}
.card .value {{ font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; }}
.card .unit {{ color: #868e96; font-size: 12px; }}
.charts {{ display: flex; flex-direction: column; gap: 12px; margin-bottom: 12px; }}
figure.chart-box {{ margin: 0; }}
svg.chart {{ width: 100%; height: auto; max-width: {CHART_WIDTH}px; display: block; }}
.table-wrap {{ overflow-x: auto; }}
table.data {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
table.data th, table.data td {{ border: 1px solid #dee2e6; padding: 4px 8px; text-align: left; vertical-align: top; }}
table.data thead th {{ background: #e7f5ff; white-space: nowrap; }}
table.data tbody tr:nth-child(even) {{ background: #f8f9fa; }}
table.data tfoot th {{ background: #f1f3f5; }}
table.data .num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.data .evidence {{ min-width: 20em; font-size: 12px; }}
#table-top-findings td:nth-child(3) {{ white-space: nowrap; }}
#outcomes .cards {{ margin-bottom: 16px; }}
#table-outcomes td:nth-child(n+2), #table-outcomes tfoot th:nth-child(n+2) {{ text-align: right; }}
#table-prevented td:nth-child(n+3), #table-prevented tfoot th:nth-child(n+3) {{ text-align: right; }}
table.data .code {{ font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }}
table.data tr.current {{ font-weight: 700; background: #fff9db; }}
table.data tr.warn td {{ background: #fff4e6; }}
table.data tr.empty td {{ color: #868e96; text-align: center; }}
table.matrix td.num, table.matrix th.num {{ min-width: 3em; }}
.note {{ color: #495057; font-size: 13px; }}
.note.ok {{ color: #2b8a3e; }}
.alert {{ color: #c92a2a; font-weight: 700; }}
#warnings {{ background: #fff5f5; border: 2px solid #c92a2a; border-radius: 6px; padding: 10px 20px; margin-bottom: 16px;
  color: #c92a2a; font-weight: 700; font-size: 15px; }}
#warnings p {{ margin: 4px 0; }}
@media print {{ body {{ background: #fff; }} main {{ padding: 0; }} section {{ break-inside: avoid; }} }}
"""
