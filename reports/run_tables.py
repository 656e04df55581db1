"""What a run's database holds, as the reports read it: findings and their status, masking, the inspector's evidence.

The workbooks and the HTML report read the same findings the same way; a
citizen number leaves the run's database only masked (first 6 and last 4),
in whatever form it was written (grouped, full-width): what a number is, is
matching/id_number.py's to say. Only citizen numbers are masked: a
建档立卡户编号 or a case number stays readable, and a disability certificate
number (citizen number + category + grade) keeps its two last digits.

Evidence is stored as the checks wrote it (with source row numbers and the
weights of a probabilistic link, which exceptions.csv and the database keep);
`inspector_evidence` derives what an inspector reads from it, for the
workbooks and the report alike: no row numbers, what was compared in words,
and a confidence band (`confidence_band`) instead of a score.
A database that no history was applied to reads as all new.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from hecha.matching.id_number import FULL_WIDTH_TO_ASCII, ID_SEPARATORS, check_character

# A number as people write it: digits, perhaps full-width, perhaps grouped by up to three
# separators (130534-19691008-0213, 1305 3419 6910 0802 13), perhaps ending in a check X.
NUMBER_RUN = re.compile(rf"[0-9０-９](?:{ID_SEPARATORS}{{0,3}}[0-9０-９])*(?:{ID_SEPARATORS}{{0,3}}[XxＸｘ])?")
SHORTEST_NUMBER = 15  # a first-generation number; shorter runs are amounts, dates, row and case numbers
LONGEST_NUMBER = 18
CERTIFICATE_SUFFIX = 2  # a disability certificate number: the holder's citizen number, category and grade digits
MASK = "********"
TO_ASCII = str.maketrans(FULL_WIDTH_TO_ASCII)
EARLIEST_BIRTH_YEAR = 1880  # a birth date outside these years is not one a citizen number carries
LATEST_BIRTH_YEAR = 2030


def compact_number(text: str) -> str:
    """`text` without separators, full-width digits and X made ASCII (an ASCII x stays as written)."""
    return re.sub(ID_SEPARATORS, "", text).translate(TO_ASCII)


def mask_id_number(value: object) -> str:
    """A citizen number as inspectors see it: first 6, eight asterisks, last 4 (separators dropped).

    For a column that holds citizen numbers: the value is masked whatever its
    shape, a mistyped number included.
    """
    if value is None:
        return ""
    text = compact_number(str(value))
    if not text:
        return ""
    if len(text) <= 10:  # too short to be a number anyone could use; show its length only
        return "*" * len(text)
    return mask_text(text[:6] + MASK + text[-4:])


def mask_text(value: object) -> str:
    """Text with every citizen number inside it masked (evidence, certificate numbers, lists of numbers).

    A citizen number is a run of characters (however grouped, see `NUMBER_RUN`)
    of one of the shapes `is_citizen_number` accepts; it keeps its first 6 and
    last 4. A disability certificate number (the number and two digits) keeps
    its two last digits after the masked number. Other numbers of 15 or more
    digits (a 建档立卡户编号) are left as they are, unless a citizen number
    could lie inside them (two numbers written back to back): then the whole
    run is masked, since where a number starts inside it cannot be known.
    """
    if value is None:
        return ""
    return NUMBER_RUN.sub(mask_number_run, str(value))


def mask_number_run(match: re.Match) -> str:
    digits = compact_number(match.group())
    if len(digits) < SHORTEST_NUMBER:
        return match.group()
    if is_citizen_number(digits):
        return digits[:6] + MASK + digits[-4:]
    holder, suffix = digits[:-CERTIFICATE_SUFFIX], digits[-CERTIFICATE_SUFFIX:]
    if suffix.isdigit() and is_citizen_number(holder):  # a certificate: mask the holder's number only
        return holder[:6] + MASK + holder[-4:] + suffix
    if len(digits) in (SHORTEST_NUMBER, LONGEST_NUMBER) or not holds_citizen_number(digits):
        return match.group()
    return digits[:6] + MASK + digits[-4:]


def is_citizen_number(text: str) -> bool:
    """Whether `text` (ASCII, no separators) has the shape of a citizen number (GB 11643).

    18 characters (17 digits and a digit or X, either case) whose check character
    is right or, for a number typed with a slip, whose characters 7–14 are a
    birth date; or a first-generation number: 15 digits whose characters 7–12
    are a birth date in the 1900s. A 建档立卡户编号 (15 digits, no date there)
    is not one.
    """
    if len(text) == LONGEST_NUMBER and text[:17].isdigit() and (text[17].isdigit() or text[17] in "Xx"):
        return check_character(text[:17]) == text[17].upper() or is_birth_date(text[6:14])
    if len(text) == SHORTEST_NUMBER and text.isdigit():
        return is_birth_date("19" + text[6:12])
    return False


def holds_citizen_number(text: str) -> bool:
    """Whether some 15 or 18 consecutive characters of `text` have the shape of a citizen number."""
    return any(
        is_citizen_number(text[start:start + length])
        for length in (LONGEST_NUMBER, SHORTEST_NUMBER)
        for start in range(len(text) - length + 1)
    )


def is_birth_date(digits: str) -> bool:
    """Whether 8 digits are a calendar date YYYYMMDD in the years a living person's number holds."""
    if len(digits) != 8 or not digits.isdigit() or not EARLIEST_BIRTH_YEAR <= int(digits[:4]) <= LATEST_BIRTH_YEAR:
        return False
    try:
        dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


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
    if value is None:
        return ""
    text = PROBABILISTIC.sub(lambda match: _compared_in_words(match, identity), str(value))
    for pattern, replacement in ROW_CITATIONS:
        text = pattern.sub(replacement, text)
    return mask_text(text)


def _compared_in_words(match: re.Match, identity: dict | None) -> str:
    compared = [(item["label"].strip(), float(item["weight"])) for item in COMPARISON.finditer(match["comparisons"])]
    agreeing = "、".join(label for label, weight in compared if weight >= 0)
    against = "、".join(label for label, weight in compared if weight < 0)
    text = f"{agreeing}；但{against}" if agreeing and against else agreeing or against
    band = confidence_band(float(match["probability"]), identity)
    return f"{text}；同一人可信度{band}" if band else text


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Column names of schema.table in the connection's own database ([] when it does not exist)."""
    return [
        name
        for (name,) in con.execute(
            """
            select column_name
            from information_schema.columns
            where table_catalog = current_database() and table_schema = ? and table_name = ?
            order by ordinal_position
            """,
            [schema, table],
        ).fetchall()
    ]


def records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values)) for values in cursor.fetchall()]


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
