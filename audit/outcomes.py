"""Outcomes: what became of the findings, read from the ledgers of later runs.

Inspectors confirm findings (属实) and the bureau acts on them: payments to the
dead stop, back-pay is paid, overpaid money is recovered. Each run reads that
back from its own ledger, for every case the folder's history tracks:

- a confirmed overpayment (verdict in force 属实 or 已整改): whether the
  payments stopped, from which month, and the monthly amount no longer paid;
- a back-pay finding not found untrue: the months it found unpaid, and what
  the ledger has since paid for them (lines for the person and the programme);
- the amount recovered, as inspectors record it (`record_recovered`).

In the run's database (`track_outcomes`, after the checks and the history):
`chk.case_history` (the history's view of each case, sql/outcomes/case_history.sql
run against audit.duckdb), `chk.outcome_case` (it beside this run's findings),
`chk.outcome` (one row per tracked case) and `chk.outcome_summary` (per check:
findings, verdicts, the rates inspectors measured, cases open past
`outcomes.verdict_deadline_days`, money stopped, recovered and back-paid).
In the history (`OUTCOME_DDL`): `audit.outcome`, each run's `chk.outcome`,
recorded with the run (`record_outcomes_in`); `audit.recovery`, the amounts
recovered. The report and the county workbook read `chk.outcome_summary`
through `read_outcome_summary` and total it with `outcome_totals`, so both
show the same figures.

Payments stopped before they were paid (发放前拦截, audit/screens.py): each
run also copies the history's screened payments, with the verdict in force
on each, into `chk.screen_history` (sql/outcomes/screen_history.sql) and
sums them per screen verdict and reason into `chk.prevented_summary`: a
blocked line confirmed 属实 or 已整改 is money prevented (阻止发放), once per
verdict key and month however often its batch was screened. The workbook and
the report read it through `prevented_summary` and total it with
`prevented_totals`. What does not belong here: importing verdicts and recoveries from
workbooks (audit/feedback.py), statuses across runs (audit/history.py),
showing outcomes (the workbooks and the report).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb

from hecha.audit.history import open_state, transaction
from hecha.checks.catalogue import CATALOGUE
from hecha.checks.runner import SQL_DIR, bind, read_sql
from hecha.config import load_policy, parse_month, run_parameters
from hecha.screen.reasons import BY_CODE as SCREEN_REASON_BY_CODE, REASONS as SCREEN_REASONS, VERDICTS as SCREEN_VERDICTS
from hecha.storage.database import records, sql_identifier, table_columns, use
from hecha.storage.tables import OUTCOME_TABLES, SCREEN_HISTORY_TABLES, ddl

OUTCOME_SQL = SQL_DIR / "outcomes"
FEN = Decimal("0.01")

OUTCOME_DDL = ("create schema if not exists audit", *(ddl(table) for table in OUTCOME_TABLES))
# built in the run's database in this order, each from the ones before
RUN_TABLES = ("outcome_case", "outcome", "outcome_summary", "prevented_summary")
# read from the history, copied into the run's database before RUN_TABLES
HISTORY_TABLES = ("case_history", "screen_history")


class RecoveryError(ValueError):
    """A recovered amount that cannot be recorded; the message names the case and what was expected."""


def track_outcomes(con: duckdb.DuckDBPyConnection, *, state: Path, run_id: str, as_of: dt.date | str,
                   policy: dict | None = None) -> dict:
    """Write chk.outcome and chk.outcome_summary for this run; return the summary for run.json.

    `con` holds this run's ledger (stg.payments, int.person_month_paid) and
    chk.finding; `state` is the folder's case history, read only. `as_of` is
    the run's month; `policy` the run's (the national defaults if not given).
    `run_id` names the run in the record. The verdict deadline is counted to
    the present moment.
    """
    policy = policy if policy is not None else load_policy()
    month = as_of if isinstance(as_of, dt.date) else parse_month(str(as_of))
    parameters = run_parameters(month, policy)
    con.execute("create schema if not exists chk")
    read = {}
    with open_state(Path(state), read_only=True) as history:
        add_missing_outcome_tables(history)
        history.execute(f"create or replace temp view verdict_in_force as {read_sql(OUTCOME_SQL / 'verdict_in_force.sql')}")
        for table in HISTORY_TABLES:
            sql = read_sql(OUTCOME_SQL / f"{table}.sql")
            read[table] = history.sql(sql, params=bind(sql, parameters, f"outcomes/{table}.sql")).to_arrow_table()
    for table, rows in read.items():
        con.register(f"{table}_rows", rows)
        try:
            con.execute(f"create or replace table chk.{table} as select * from {table}_rows")
        finally:
            con.unregister(f"{table}_rows")
    for table in RUN_TABLES:
        sql = read_sql(OUTCOME_SQL / f"{table}.sql")
        con.execute(f"create or replace table chk.{table} as {sql}", bind(sql, parameters, f"outcomes/{table}.sql"))
    return summary_record(con, run_id, month, policy)


def summary_record(con: duckdb.DuckDBPyConnection, run_id: str, month: dt.date, policy: dict) -> dict:
    """chk.outcome_summary as run.json keeps it: per check code, its figures, money rounded to the fen."""
    cursor = con.execute("select * from chk.outcome_summary")
    names = [column[0] for column in cursor.description]
    checks = {}
    for row in cursor.fetchall():
        figures = dict(zip(names, row))
        code = figures.pop("check_code")
        checks[code] = {name: rounded(name, value) for name, value in figures.items()}
    tracked = con.execute("select count(*) from chk.outcome").fetchall()[0][0]
    prevented = prevented_totals(prevented_summary(con) or [])
    return {
        "run_id": run_id,
        "as_of": f"{month:%Y-%m}",
        "verdict_deadline_days": policy["outcomes"]["verdict_deadline_days"],
        "tracked_cases": tracked,
        "checks": checks,
        "screens": {name: rounded(name, value) for name, value in prevented.items()},
    }


def read_outcome_summary(con: duckdb.DuckDBPyConnection) -> list[dict] | None:
    """chk.outcome_summary as the report and the county workbook show it: a dict per check, in catalogue order.

    None when the run's database has no such table (the run tracked no
    outcomes): "none yet", which an empty list (no case ever found) is not.
    """
    if not table_columns(con, "chk", "outcome_summary"):
        return None
    order = {check.code: index for index, check in enumerate(CATALOGUE)}
    # money sums over exact-decimal shares arrive as Decimal: the report and the workbook draw and write floats
    rows = [{name: float(value) if isinstance(value, Decimal) else value for name, value in row.items()}
            for row in records(con, "select * from chk.outcome_summary")]
    return sorted(rows, key=lambda row: (order.get(row["check_code"], len(order)), row["check_code"]))


def outcome_totals(rows: list[dict]) -> dict:
    """The county's line under `read_outcome_summary`'s rows: counts and money summed, the rates over the sums.

    The rates follow sql/outcomes/outcome_summary.sql: 属实 / (属实 + 不属实) and
    不属实 / (属实 + 不属实), 已整改 counted apart; None before any such verdict.
    """
    names = [name for name in (rows[0] if rows else {}) if name != "check_code" and not name.endswith("_rate")]
    totals: dict = {name: sum(row[name] or 0 for row in rows) for name in names}
    for name, value in totals.items():
        if isinstance(value, float):
            totals[name] = round(value, 2)
    judged = totals.get("true_count", 0) + totals.get("not_true_count", 0)
    totals["true_rate"] = totals["true_count"] / judged if judged else None
    totals["not_true_rate"] = totals["not_true_count"] / judged if judged else None
    return totals


def prevented_summary(con: duckdb.DuckDBPyConnection) -> list[dict] | None:
    """chk.prevented_summary as the report and the county workbook show it: a dict per screen verdict and reason.

    Blocked reasons first, then held, each in screen/reasons.py's order,
    with the reason's Chinese label (`reason`) and the verdict's (`verdict_label`);
    money as floats. Each has lines, true_count, not_true_count,
    rectified_count, no_verdict_count (open), true_rate, amount (yuan
    stopped), prevented_amount and prevented_lines (blocked and confirmed).
    None when the run's database has no such table (a run before screens
    were tracked); [] when no screen has stopped a line.
    """
    if not table_columns(con, "chk", "prevented_summary"):
        return None
    order = {reason.code: index for index, reason in enumerate(SCREEN_REASONS)}
    verdicts = list(SCREEN_VERDICTS)
    rows = []
    for row in records(con, "select * from chk.prevented_summary"):
        row = {name: float(value) if isinstance(value, Decimal) else value for name, value in row.items()}
        code = row["reason_code"]
        row["reason"] = SCREEN_REASON_BY_CODE[code].label if code in SCREEN_REASON_BY_CODE else (code or "")
        row["verdict_label"] = SCREEN_VERDICTS.get(row["screen_verdict"], row["screen_verdict"] or "")
        rows.append(row)
    return sorted(rows, key=lambda row: (verdicts.index(row["screen_verdict"]) if row["screen_verdict"] in verdicts else len(verdicts),
                                         order.get(row["reason_code"], len(order)), row["reason_code"] or ""))


def prevented_totals(rows: list[dict]) -> dict:
    """The county's line under `prevented_summary`'s rows: counts and yuan summed, the rate over the sums (as `outcome_totals`)."""
    names = ("lines", "true_count", "not_true_count", "rectified_count", "no_verdict_count", "amount", "prevented_amount",
             "prevented_lines")
    totals: dict = {name: sum(row.get(name) or 0 for row in rows) for name in names}
    for name in ("amount", "prevented_amount"):
        totals[name] = round(float(totals[name]), 2)
    for verdict in ("block", "hold"):
        of_verdict = [row for row in rows if row.get("screen_verdict") == verdict]
        totals[f"{verdict}_lines"] = sum(row.get("lines") or 0 for row in of_verdict)
        totals[f"{verdict}_amount"] = round(float(sum(row.get("amount") or 0 for row in of_verdict)), 2)
    judged = totals["true_count"] + totals["not_true_count"]
    totals["true_rate"] = totals["true_count"] / judged if judged else None
    return totals


def rounded(name: str, value: object) -> object:
    """Money to the fen, rates to four places (the table keeps them unrounded); numbers for run.json, not text."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return round(value, 4 if name.endswith("_rate") else 2)
    return value


def utc_now() -> dt.datetime:
    """The present in UTC without its zone, as the history keeps times."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def add_missing_outcome_tables(history: duckdb.DuckDBPyConnection) -> None:
    """Empty audit.outcome / audit.recovery / audit.screen / audit.screen_line beside a history written before they existed.

    The history is open read-only, so they are made in the connection's own
    in-memory catalog and the search path sends `audit.*` to the history
    first, then to them.
    """
    catalog = history.execute("select current_database()").fetchall()[0][0]
    present = {name for (name,) in history.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = 'audit'", [catalog]).fetchall()}
    if present.issuperset(table.name for table in (*OUTCOME_TABLES, *SCREEN_HISTORY_TABLES)):
        return
    use(history, "memory")
    for statement in (*OUTCOME_DDL, *(ddl(table) for table in SCREEN_HISTORY_TABLES)):
        history.execute(statement)
    if catalog != "memory":  # a history file: look there first
        use(history, catalog)
        history.execute(f"set search_path = '{sql_identifier(catalog)}.audit,memory.audit'")


def record_outcomes_in(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Copy the run's chk.outcome into audit.outcome, in the caller's transaction; return the rows recorded.

    As `audit.history.record_run_in`: the run's database is attached as
    `published` and `con` is the history, open for writing. A run whose
    outcomes were not tracked records none; recording a run again replaces
    its rows.
    """
    for statement in OUTCOME_DDL:
        con.execute(statement)
    tracked = con.execute(
        "select count(*) from duckdb_tables() where database_name = 'published' and schema_name = 'chk' and table_name = 'outcome'"
    ).fetchall()[0][0]
    if not tracked:
        return 0
    con.execute("delete from audit.outcome where run_id = ?", [run_id])
    con.execute("insert into audit.outcome by name select ? as run_id, * from published.chk.outcome", [run_id])
    return con.execute("select count(*) from audit.outcome where run_id = ?", [run_id]).fetchall()[0][0]


def recovered_value(amount: object) -> Decimal:
    """`amount` as yuan to the fen; raises RecoveryError saying what was expected."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float, Decimal, str)):
        raise RecoveryError(f"expected an amount in yuan, got {amount!r}")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise RecoveryError(f"expected an amount in yuan, got {amount!r}") from None
    if not value.is_finite():
        raise RecoveryError(f"expected an amount in yuan, got {amount!r}")
    if value != value.quantize(FEN):
        raise RecoveryError(f"expected yuan to the fen (at most 2 decimals), got {amount}")
    if value < 0:
        raise RecoveryError(f"must not be below 0, got {amount}")
    return value.quantize(FEN)


def recovery_problem(con: duckdb.DuckDBPyConnection, case_key: str, amount: object) -> str | None:
    """Why `amount` cannot be recorded as recovered on `case_key`, or None; `con` is the history.

    The ceiling is the most the finding was ever found overpaid: a finding's
    overpaid amount shrinks as its months leave the ledger window, not as
    money comes back.
    """
    try:
        value = recovered_value(amount)
    except RecoveryError as error:
        return f"追回金额 of case {case_key}: {error}"
    (known,) = con.execute("select count(*) from audit.case where case_key = ?", [case_key]).fetchall()[0]
    if not known:
        return f"追回金额 of case {case_key}: {case_key!r} is not a case of this history"
    (overpaid,) = con.execute("select max(overpaid_amount) from audit.case_run where case_key = ?", [case_key]).fetchall()[0]
    ceiling = Decimal(f"{overpaid or 0:.2f}")
    if value > ceiling:
        return f"追回金额 of case {case_key}: {value} is more than the {ceiling} overpaid"
    return None


def record_recovered(con_or_state: duckdb.DuckDBPyConnection | Path, case_key: str, amount: object, inspector: str | None,
                     run_id: str | None, source: str | None) -> Decimal:
    """Record the amount recovered so far on a case (追回金额); return it as recorded.

    `con_or_state` is the history open for writing (the caller's transaction,
    as a workbook import holds it) or the path of audit.duckdb (recorded in a
    transaction of its own). Each record is the total recovered to date: the
    latest stands. Refused with RecoveryError (nothing recorded): not an
    amount in yuan to the fen, below 0, above the finding's overpaid amount,
    or an unknown case. `source` says where it was read (file, sheet, row).
    """
    if isinstance(con_or_state, (str, Path)):
        with open_state(Path(con_or_state)) as con, transaction(con):
            return record_recovered(con, case_key, amount, inspector, run_id, source)
    con = con_or_state
    problem = recovery_problem(con, case_key, amount)
    if problem:
        raise RecoveryError(problem)
    for statement in OUTCOME_DDL:
        con.execute(statement)
    value = recovered_value(amount)
    con.execute(
        "insert into audit.recovery values (?, ?, ?, ?, ?, ?)",
        [case_key, value, inspector, utc_now(), run_id, source],
    )
    return value
