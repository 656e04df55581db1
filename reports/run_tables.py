"""What a run's database holds, as the reports read it: findings and their status, the inspector's evidence.

The workbooks and the HTML report read the same findings the same way; a
citizen number leaves the run's database only masked (storage/masking.py).

Evidence is stored as the checks wrote it (with source row numbers and the
weights of a probabilistic link, which exceptions.csv and the database keep);
`inspector_evidence` derives what an inspector reads from it, for the
workbooks and the report alike: no row numbers, what was compared in words,
and a confidence band (`confidence_band`) instead of a score.
A database that no history was applied to reads as all new.
"""

from __future__ import annotations

import re

import duckdb

from hecha.storage.database import records, table_columns
from hecha.storage.masking import mask_text


def shown_case_numbers(value: object) -> str:
    """证号 as inspectors read it: each number once, in the order given, citizen numbers masked.

    A person paid under one disability certificate for two subsidies has it listed twice.
    """
    if value is None:
        return ""
    numbers = [part.strip() for part in str(value).split("、")]
    return mask_text("、".join(dict.fromkeys(part for part in numbers if part)))


# ---------------------------------------------------------------------------------------------- evidence


CONFIDENCE_BANDS = ("高", "中", "低")


def confidence_band(value: float | None, identity: dict | None) -> str:
    """高 / 中 / 低 for a link's confidence, by the policy's identity thresholds ("" when unknown).

    高: at or above `review_threshold` (a link taken as fact); 中: from
    `link_threshold` up (a link to confirm); 低: below (not linked, a candidate only).
    """
    review = (identity or {}).get("review_threshold")
    link = (identity or {}).get("link_threshold")
    if value is None or review is None or link is None:
        return ""
    return CONFIDENCE_BANDS[0] if value >= review else CONFIDENCE_BANDS[1] if value >= link else CONFIDENCE_BANDS[2]


def confidence_bands_text(identity: dict | None) -> list[str]:
    """The bands explained, one line each, with the policy's thresholds (for a summary or a note)."""
    review = (identity or {}).get("review_threshold")
    link = (identity or {}).get("link_threshold")
    if review is None or link is None:
        return []
    high, middle, low = CONFIDENCE_BANDS
    return [
        f"{high}：身份关联可信度不低于 {percent_text(review)}，按同一人处理。",
        f"{middle}：{percent_text(link)} 至 {percent_text(review)} 之间，已关联但需确认，列在“待确认”工作表，请先核实是否同一人。",
        f"{low}：低于 {percent_text(link)}，未关联，只作为可能的候选人列出。",
        "身份证号一致（或 15 位号码升位后一致）的关联为“高”；证据中“同一人可信度”按同样的分档。",
    ]


def percent_text(share: float) -> str:
    """0.054 → `5.4%`, 0.02 → `2%`: a fraction as a percentage with at most two decimals."""
    return f"{float(share) * 100:.2f}".rstrip("0").rstrip(".") + "%"


# Where the checks cite a source row (sql/: 发放明细第 8797、9396 行): the file's short name, then the rows.
ROW_SOURCES = ("发放明细", "残疾人证", "建档立卡", "户籍", "低保", "特困", "火化")
_ROWS = r"第 [0-9、]+ 行"
_ROW_REFERENCE = rf"(?:{'|'.join(ROW_SOURCES)}){_ROWS}"
ROW_CITATIONS = (
    # 发放明细第 10298 行 等 25 行 → 发放明细等 25 条记录
    (re.compile(rf"({'|'.join(ROW_SOURCES)})?{_ROWS} ?等 ([0-9]+) 行"), r"\1等 \2 条记录"),
    (re.compile(rf"(?<=[0-9A-Za-z])（{_ROW_REFERENCE}）(?=[^\s，。；：、）])"), " "),  # 户籍户号 0010（户籍第 8 行）无
    (re.compile(rf"（{_ROW_REFERENCE}）"), ""),
    (re.compile(rf"（{_ROW_REFERENCE}，"), "（"),
    (re.compile(rf"[，、]{_ROW_REFERENCE}"), ""),
    (re.compile(rf"{_ROW_REFERENCE}[，、]?"), ""),
    (re.compile(_ROWS), ""),  # a source not named above: its name stays, the rows go
    (re.compile(r" ?等 ([0-9]+) 行"), r"等 \1 条记录"),
)
# A probabilistic link as matching/probabilistic.py words it: 概率匹配 0.930：姓名一致(+13.9)、性别一致(+1.0)
_COMPARISON = r"[^()、；]+?\([+-][0-9.]+\)"
PROBABILISTIC = re.compile(rf"概率匹配 (?P<probability>[0-9.]+)：(?P<comparisons>{_COMPARISON}(?:、{_COMPARISON})*)")
COMPARISON = re.compile(r"(?P<label>[^()、；]+?)\((?P<weight>[+-][0-9.]+)\)")


def inspector_evidence(value: object, identity: dict | None) -> str:
    """A finding's evidence as inspectors read it, citizen numbers masked.

    Source row numbers are left out, and a probabilistic link says what was
    compared, for and against, and its band (`confidence_band` of its match
    probability) instead of weights: `姓名一致(+13.9)、户籍尚未登记死亡(-4.2)`
    becomes `姓名一致；但户籍尚未登记死亡；同一人可信度高`. `identity` is the
    policy's `identity` section.
    """
    return mask_text(evidence_in_words(value, identity))


def evidence_in_words(value: object, identity: dict | None) -> str:
    """`inspector_evidence` before its citizen numbers are masked: for a writer that masks every text it writes."""
    if value is None:
        return ""
    text = PROBABILISTIC.sub(lambda match: _compared_in_words(match, identity), str(value))
    for pattern, replacement in ROW_CITATIONS:
        text = pattern.sub(replacement, text)
    return text


def _compared_in_words(match: re.Match, identity: dict | None) -> str:
    compared = [(item["label"].strip(), float(item["weight"])) for item in COMPARISON.finditer(match["comparisons"])]
    agreeing = "、".join(label for label, weight in compared if weight >= 0)
    against = "、".join(label for label, weight in compared if weight < 0)
    text = f"{agreeing}；但{against}" if agreeing and against else agreeing or against
    band = confidence_band(float(match["probability"]), identity)
    return f"{text}；同一人可信度{band}" if band else text


def read_findings(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """chk.finding with its status, sorted by money at stake (overpaid + backpay, desc), then case_key.

    Without chk.finding_status (a database history was never applied to) every finding is new.
    """
    status_columns = table_columns(con, "chk", "finding_status")
    if status_columns:
        status = "coalesce(status.status, 'new') as status, status.previous_conclusion, status.previous_note"
        join = "left join chk.finding_status as status on finding.case_key = status.case_key"
    else:
        status = "'new' as status, null as previous_conclusion, null as previous_note"
        join = ""
    return records(
        con,
        f"""
        select
            finding.check_code, finding.id_number, finding.name, finding.township, finding.village, finding.case_no,
            finding.period_start, finding.period_end, finding.overpaid_amount, finding.backpay_amount,
            finding.link_confidence, coalesce(finding.needs_confirmation, false) as needs_confirmation,
            finding.evidence, finding.case_key,
            {status}
        from chk.finding as finding
        {join}
        order by coalesce(finding.overpaid_amount, 0) + coalesce(finding.backpay_amount, 0) desc, finding.case_key
        """,
    )


def read_resolved(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """chk.resolved: cases the previous run of this folder listed and this run no longer finds."""
    if not table_columns(con, "chk", "resolved"):
        return []
    return records(con, "select case_key, check_code, township from chk.resolved order by case_key")
