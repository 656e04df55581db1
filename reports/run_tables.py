"""What a run's database holds, as the reports read it: findings with their status, and masking.

The workbooks and the HTML report read the same findings the same way; a
citizen number leaves the run's database only masked (first 6 and last 4).
A database that no history was applied to reads as all new.
"""

from __future__ import annotations

import re

import duckdb

ID_RUN = re.compile(r"\d{17}[\dXx]|\d{15}")
MASK = "********"


def mask_id_number(value: object) -> str:
    """A citizen number as inspectors see it: first 6, eight asterisks, last 4 (spaces dropped)."""
    if value is None:
        return ""
    text = re.sub(r"\s", "", str(value))
    if not text:
        return ""
    if len(text) <= 10:  # too short to be a number anyone could use; show its length only
        return "*" * len(text)
    return mask_text(text[:6] + MASK + text[-4:])


def mask_text(value: object) -> str:
    """Text with every citizen number inside it masked (evidence, certificate numbers, lists of numbers)."""
    if value is None:
        return ""
    text = str(value)
    # Masking leaves at most four digits of each number; repeat until no run of 15 is left
    # (digits following a masked number can join the next run).
    while ID_RUN.search(text):
        text = ID_RUN.sub(lambda match: match.group()[:6] + MASK + match.group()[-4:], text)
    return text


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
