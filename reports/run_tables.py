"""What a run's database holds, as the reports read it: findings with their status, and masking.

The workbooks and the HTML report read the same findings the same way; a
citizen number leaves the run's database only masked (first 6 and last 4),
in whatever form it was written (grouped, full-width): what a number is, is
matching/id_number.py's to say.
A database that no history was applied to reads as all new.
"""

from __future__ import annotations

import re

import duckdb

from hecha.matching.id_number import FULL_WIDTH_TO_ASCII, ID_SEPARATORS

# A number as people write it: digits, perhaps full-width, perhaps grouped by up to three
# separators (130534-19691008-0213, 1305 3419 6910 0802 13), perhaps ending in a check X.
NUMBER_RUN = re.compile(rf"[0-9０-９](?:{ID_SEPARATORS}{{0,3}}[0-9０-９])*(?:{ID_SEPARATORS}{{0,3}}[XxＸｘ])?")
SHORTEST_NUMBER = 15  # a first-generation number; shorter runs are amounts, dates, row and case numbers
MASK = "********"
TO_ASCII = str.maketrans(FULL_WIDTH_TO_ASCII)


def compact_number(text: str) -> str:
    """`text` without separators, full-width digits and X made ASCII (an ASCII x stays as written)."""
    return re.sub(ID_SEPARATORS, "", text).translate(TO_ASCII)


def mask_id_number(value: object) -> str:
    """A citizen number as inspectors see it: first 6, eight asterisks, last 4 (separators dropped)."""
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

    A run of 15 or more digits, however grouped, keeps only its first 6 and
    last 4: a run longer than one number (a certificate number is the
    citizen number and two digits; two numbers may be written back to back)
    is masked whole, since where a number starts inside it cannot be known.
    """
    if value is None:
        return ""
    return NUMBER_RUN.sub(mask_number_run, str(value))


def mask_number_run(match: re.Match) -> str:
    digits = compact_number(match.group())
    if len(digits) < SHORTEST_NUMBER:
        return match.group()
    return digits[:6] + MASK + digits[-4:]


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
