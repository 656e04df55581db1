"""The province's publication: the cross-county findings as a run folder, with its report, county workbooks and history.

What belongs here: turning `province.finding` (the cross-county stage's
table, province/cross.py) and the list of counties a province run read into
`<out>/<run_id>/`, published and recorded in one step as a county run is
(flows/run.py `publish_run`). What does not: running the counties or the
cross-county SQL (flows/, province/cross.py), how outputs look
(reports/province_report.py, reports/workbooks.py), the rules of the case
history (audit/history.py).

The publication is a county run's folder in shape, built by the same code.
`province.finding` is copied into a `chk.finding` of the output contract's
columns (`person_id` = `person_key`, periods as the 1st of their month), so
`apply_history` gives each cross finding its status from `<out>/audit.duckdb`
(new, persisting, recurred, reopened, suppressed, resolved; inspectors'
verdicts included), `write_workbooks` writes each county's books of the
cross findings it pays, and `record_run_in` records the publication.
Inspectors' verdicts come back through `hecha feedback import <a county's
book> --out <out>` (audit/feedback.py knows a province run by its record's
`kind` and lets a county's book decide only that county's cases).

`<out>/<run_id>/`, written in `<out>/.work-<run_id>/` and renamed into place
inside the transaction that records it (owner-only, as every output):

- `province.json` — the run: as_of, parameters, each county (status, run id,
  as_of, seconds, its own findings and money per check, the error line), the
  cross findings per check and per county, statuses, stage times;
- `run.json` — the record the case history reads, as a county run's
  (`kind: province`, findings per check, the counties read): the history
  repairs a publication a crash left unrecorded from it;
- `cross_findings.csv` — exceptions.csv's columns, then county,
  other_county, status (reports/province_report.py);
- `report.html` — the counties side by side, the cross findings by check
  and county, the counties that failed or were late and why;
- `counties/<code>/<乡镇>.xlsx`, `counties/<code>/全县.xlsx` — per county, the
  county workbooks' style, holding only the cross findings that county pays;
- `hecha.duckdb` — `province.finding`, `province.county_export`,
  `province.case_county`, and the chk tables the outputs were read from.

A county that failed or was late was not read: its cases (as the paying
county or as the other one) are not resolved by this run, as a campaign's
cases outside its scope are not, and a case found again once its counties are
read again persists rather than recurs, when every run in between missed one
of them.

The cross checks' names and descriptions are the check catalogue's
(`CROSS_CATALOGUE`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import time
import traceback
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from hecha.audit.history import STATE, apply_history, open_state, record_run_in, transaction
from hecha.checks.catalogue import CROSS_CATALOGUE, Check
from hecha.config import load_policy
from hecha.reports.province_report import COUNTY_STATUS_LABELS, write_cross_findings, write_province_report
from hecha.reports.workbooks import write_workbooks
from hecha.storage.database import attached, table_columns
from hecha.storage.files import make_private_dir, owner_only, restrict_tree, write_text_atomic
from hecha.storage.masking import mask_text
from hecha.storage.tables import FINDING, ddl

DATABASE = "hecha.duckdb"
WORK_PREFIX = ".work-"
RUN_RECORD = "run.json"
PROVINCE_RECORD = "province.json"
CROSS_FINDINGS = "cross_findings.csv"
COUNTIES_FOLDER = "counties"
KIND = "province"

# province.finding as the cross-county stage writes it (province/cross.py `run_cross`), in this order.
FINDING_COLUMNS = (
    "check_code", "county", "other_county", "person_key", "id_number", "name", "township", "village", "case_no",
    "period_start", "period_end", "overpaid_amount", "backpay_amount", "link_confidence", "needs_confirmation",
    "evidence", "case_key",
)
COUNTY_STATUSES = ("published", "failed", "late")
COUNTY_CODE = re.compile(r"[0-9]{6}")
RUN_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]{0,99}")
MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")

class PublicationError(ValueError):
    """Input the publication cannot be made from; the message says which table, column or county, and what was expected."""


def cross_checks() -> dict[str, Check]:
    """The cross-county checks' catalogue entries, in sheet order (checks/catalogue.py CROSS_CATALOGUE)."""
    return {check.code: check for check in CROSS_CATALOGUE}


def publish_province(con: duckdb.DuckDBPyConnection, out: Path, run_id: str, counties: list[dict], record: dict) -> Path:
    """Publish `<out>/<run_id>/` from `province.finding` in `con` and the county list, and record it in `<out>/audit.duckdb`.

    `counties`: `{"county", "status": published|failed|late, "run_id", "run_dir", "as_of", "error", "seconds"}`
    each. `record`: the province run's `parameters` (its `as_of` among them, else the run id's first part),
    `timings_seconds` (the stages so far), and optionally `started_at` and `policy` (the national defaults
    otherwise). Published and recorded in one step, or neither: a failure leaves the work folder, its
    run.json marked failed, and raises. Raises PublicationError on input it cannot publish.
    """
    started = time.perf_counter()
    out = Path(out)
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        raise PublicationError(f"run id {run_id!r}: expected one plain folder name (letters, digits, _ . -)")
    counties = checked_counties(counties)
    findings, exports = read_cross_tables(con)
    parameters = dict(record.get("parameters") or {})
    as_of = str(parameters.get("as_of") or record.get("as_of") or run_id.split("_")[0])
    if not MONTH.fullmatch(as_of):
        raise PublicationError(f"as_of {as_of!r}: expected YYYY-MM (record parameters.as_of)")
    policy = record.get("policy") or load_policy()
    owner_only()
    out = make_private_dir(out)
    work, final = out / f"{WORK_PREFIX}{run_id}", out / run_id
    if final.exists() or work.exists():
        raise PublicationError(f"{final}: run {run_id} has already been published or is being published there")
    if (out / STATE).exists() or any(out.glob(f"[!.]*/{RUN_RECORD}")):
        # opening the history for writing records a publication a crash left unrecorded, before statuses are given
        with open_state(out / STATE):
            pass
    work.mkdir(mode=0o700)
    read = [county["county"] for county in counties if county["status"] == "published"]
    run_record = {
        "run_id": run_id,
        "kind": KIND,
        "status": "running",
        "started_at": record.get("started_at") or dt.datetime.now(dt.timezone.utc).isoformat(),
        # as a county run's record: `hecha recover` marks a work folder whose process died interrupted
        "process": {"pid": os.getpid(), "host": socket.gethostname()},
        "parameters": parameters | {"as_of": as_of, "out": str(out.resolve()), "county": None,
                                    "counties": [county["county"] for county in counties]},
        "counties_read": read,
        "timings_seconds": dict(record.get("timings_seconds") or {}),
    }
    try:
        write_text_atomic(work / RUN_RECORD, json.dumps(run_record, ensure_ascii=False, indent=2))
        publication = duckdb.connect(str(work / DATABASE))
        try:
            statuses = build_publication(publication, findings, exports, state=out / STATE, run_id=run_id, read=read)
            run_record["history"] = statuses
            run_record["findings"] = findings_per_check(publication)
            run_record["cross_findings_rows"] = write_cross_findings(publication, work / CROSS_FINDINGS)
            books = write_county_workbooks(publication, work / COUNTIES_FOLDER, run_id=run_id, as_of=as_of,
                                           counties=counties, policy=policy)
            run_record["workbooks"] = [str(path.relative_to(work)) for path in books]
            run_record["timings_seconds"]["publish"] = round(time.perf_counter() - started, 3)
            run_record |= {"status": "succeeded", "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
            summary = province_summary(publication, run_record, counties)
            write_text_atomic(work / PROVINCE_RECORD, json.dumps(summary, ensure_ascii=False, indent=2))
            write_province_report(publication, work, summary=summary, checks=cross_checks(), policy=policy)
        finally:
            publication.close()
        write_text_atomic(work / RUN_RECORD, json.dumps(run_record, ensure_ascii=False, indent=2))
        restrict_tree(work)
        with open_state(out / STATE) as history:
            with attached(history, work / DATABASE, "published", read_only=True), transaction(history):
                record_run_in(history, record=run_record, run_dir=final)
                os.replace(work, final)
    except BaseException as error:
        if work.is_dir():
            run_record |= {"status": "failed", "failed_stage": "publish", "error": str(error) or type(error).__name__,
                           "traceback": "".join(traceback.format_exception(error)),
                           "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
            write_text_atomic(work / RUN_RECORD, json.dumps(run_record, ensure_ascii=False, indent=2, default=str))
        raise
    return final


# ---------------------------------------------------------------------------------------------- input


def checked_counties(counties: list[dict]) -> list[dict]:
    """The county list, each entry checked (a 6-digit code once, a known status), in code order."""
    checked, seen = [], set()
    for number, entry in enumerate(counties or [], start=1):
        code = str((entry or {}).get("county") or "")
        if not COUNTY_CODE.fullmatch(code):
            raise PublicationError(f"counties entry {number}: county {code!r} is not a 6-digit division code")
        if code in seen:
            raise PublicationError(f"counties entry {number}: county {code} is listed twice")
        seen.add(code)
        status = entry.get("status")
        if status not in COUNTY_STATUSES:
            raise PublicationError(f"counties entry {number} (county {code}): status {status!r} is not one of "
                                   f"{', '.join(COUNTY_STATUSES)}")
        checked.append(dict(entry) | {"county": code})
    return sorted(checked, key=lambda entry: entry["county"])


def read_cross_tables(con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, pa.Table | None]:
    """province.finding (checked: its columns, one finding per case_key, months YYYY-MM) and province.county_export."""
    columns = tuple(table_columns(con, "province", "finding"))
    if columns != FINDING_COLUMNS:
        raise PublicationError(f"province.finding: expected the columns {', '.join(FINDING_COLUMNS)}; "
                               f"found {', '.join(columns) or 'no such table'}")
    problems = con.execute(
        f"""
        select
            (select count(*) from province.finding where case_key is null) as no_key,
            (select count(*) from (select case_key from province.finding group by case_key having count(*) > 1)) as shared_keys,
            (select count(*) from province.finding
             where not regexp_full_match(coalesce(period_start, ''), '{MONTH.pattern}')
                or not regexp_full_match(coalesce(period_end, ''), '{MONTH.pattern}')) as bad_months,
            (select count(*) from province.finding where not regexp_full_match(coalesce(county, ''), '{COUNTY_CODE.pattern}'))
                as bad_counties
        """
    ).fetchall()[0]
    for count, what in zip(problems, ("have no case_key", "share a case_key with another finding (each needs its own)",
                                       "have a period_start or period_end that is not YYYY-MM",
                                       "have a county that is not a 6-digit division code")):
        if count:
            raise PublicationError(f"province.finding: {count} finding(s) {what}")
    findings = con.sql("select * from province.finding").to_arrow_table()
    exports = con.sql("select * from province.county_export").to_arrow_table() \
        if table_columns(con, "province", "county_export") else None
    return findings, exports


# ---------------------------------------------------------------------------------------------- the database


def build_publication(con: duckdb.DuckDBPyConnection, findings: pa.Table, exports: pa.Table | None, *, state: Path,
                      run_id: str, read: list[str]) -> dict:
    """The publication's database on `con`: the province tables, chk.finding, the statuses; return counts per status.

    `read`: the counties this run read (published), whose cases alone it may resolve.
    """
    con.execute("create schema province")
    for name, table in (("finding", findings), ("county_export", exports)):
        if table is None:
            continue
        con.register("province_rows", table)
        try:
            con.execute(f"create table province.{name} as select * from province_rows")
        finally:
            con.unregister("province_rows")
    con.execute("create schema chk")
    con.execute(ddl(FINDING))
    con.execute(
        """
        insert into chk.finding
        select
            check_code, person_key, id_number, name, township, village, case_no,
            cast(strptime(period_start, '%Y-%m') as date), cast(strptime(period_end, '%Y-%m') as date),
            cast(overpaid_amount as double), cast(backpay_amount as double), cast(link_confidence as double),
            needs_confirmation, evidence, case_key
        from province.finding
        order by check_code, county, case_key
        """
    )
    counts = apply_history(con, state=state, run_id=run_id)
    previous = case_counties_of(state, counts["previous_run"])
    con.register("previous_case_county", previous)
    try:
        con.execute(
            """
            create table province.case_county as
            select case_key, county, other_county from province.finding
            union all
            select previous.case_key, previous.county, previous.other_county
            from previous_case_county as previous
            where previous.case_key in (select case_key from chk.resolved)
                and previous.case_key not in (select case_key from province.finding)
            """
        )
    finally:
        con.unregister("previous_case_county")
    # a case of a county this run did not read is not resolved: the run did not look for it
    con.execute(
        """
        delete from chk.resolved
        where case_key in (
            select case_key from province.case_county
            where not list_contains(?, county) or (other_county is not null and not list_contains(?, other_county))
        )
        """,
        [read, read],
    )
    persist_across_unread_runs(con, state)
    statuses = dict(con.execute("select status, count(*) from chk.finding_status group by status order by status").fetchall())
    statuses["resolved"] = con.execute("select count(*) from chk.resolved").fetchall()[0][0]
    return statuses | {key: counts[key] for key in ("previous_run", "overpaid_amount", "backpay_amount")}


CASE_COUNTY_SCHEMA = pa.schema([("case_key", pa.string()), ("county", pa.string()), ("other_county", pa.string())])


def case_counties_of(state: Path, run_id: str | None) -> pa.Table:
    """(case_key, county, other_county) of each finding of an earlier province run, from its database (empty if gone)."""
    run_dir = None
    if run_id is not None and Path(state).exists():
        with open_state(state, read_only=True) as history:
            found = history.execute("select run_dir from audit.run where run_id = ?", [run_id]).fetchall()
        run_dir = Path(found[0][0]) if found and found[0][0] else None
    if run_dir is None or not (run_dir / DATABASE).is_file():
        return CASE_COUNTY_SCHEMA.empty_table()
    earlier = duckdb.connect(str(run_dir / DATABASE), read_only=True)
    try:
        if not table_columns(earlier, "province", "finding"):
            return CASE_COUNTY_SCHEMA.empty_table()
        return earlier.sql("select case_key, county, other_county from province.finding").to_arrow_table().cast(CASE_COUNTY_SCHEMA)
    finally:
        earlier.close()


def persist_across_unread_runs(con: duckdb.DuckDBPyConnection, state: Path) -> int:
    """A case found again after runs that did not read its counties persists, rather than recurs; return how many.

    `apply_history` says `recurred` when the previous run did not find the
    case; when every run since the one that last found it missed the paying
    county or the other one (failed or late), nothing says the problem went
    away. A verdict (已整改) keeps its own status.
    """
    recurred = con.execute(
        """
        select status.case_key, county.county, county.other_county
        from chk.finding_status as status
        inner join province.case_county as county using (case_key)
        where status.status = 'recurred' and status.previous_conclusion is null
        """
    ).fetchall()
    if not recurred or not Path(state).exists():
        return 0
    with open_state(state, read_only=True) as history:
        runs = history.execute("select run_id, run_dir from audit.run order by published_at, run_id").fetchall()
        last_seen = dict(history.execute("select case_key, last_seen_run from audit.case where case_key in ?",
                                         [[key for key, _, _ in recurred]]).fetchall())
    order = [run_id for run_id, _ in runs]
    read_by_run = {run_id: counties_read(run_dir) for run_id, run_dir in runs}
    persisting = []
    for key, county, other in recurred:
        if last_seen.get(key) not in order:
            continue
        since = order[order.index(last_seen[key]) + 1:]
        if since and all(county not in read_by_run[run] or (other is not None and other not in read_by_run[run])
                         for run in since):
            persisting.append(key)
    if persisting:
        con.execute("update chk.finding_status set status = 'persisting' where case_key in ?", [persisting])
    return len(persisting)


def counties_read(run_dir: str | None) -> set[str]:
    """The counties a published province run read (its run.json); none when unknown."""
    try:
        record = json.loads((Path(run_dir or "") / RUN_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return set(record.get("counties_read") or [])


def findings_per_check(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Cross findings per check code, every cross check listed (0 when none), then any other code found."""
    found = dict(con.execute("select check_code, count(*) from chk.finding group by check_code order by check_code").fetchall())
    return {code: found.get(code, 0) for code in cross_checks()} | found


# ---------------------------------------------------------------------------------------------- workbooks


def county_warnings(code: str, counties: list[dict]) -> list[str]:
    """What a county's books open with: this county, or others, not read by the run (the findings may be incomplete)."""
    lines = []
    own = next((county for county in counties if county["county"] == code), None)
    if own is not None and own["status"] != "published":
        reason = f"：{one_line(own.get('error'))}" if own.get("error") else ""
        lines.append(f"注意：本县本次未参加跨县比对（{COUNTY_STATUS_LABELS[own['status']]}{reason}），"
                     "以下不是本县的全部跨县线索。")
    others = [county["county"] for county in counties if county["county"] != code and county["status"] != "published"]
    if others:
        lines.append(f"注意：{'、'.join(others)} 本次未参加跨县比对（失败或数据滞后），与这些县有关的跨县线索本次未列出。")
    return lines


def write_county_workbooks(con: duckdb.DuckDBPyConnection, folder: Path, *, run_id: str, as_of: str, counties: list[dict],
                           policy: dict) -> list[Path]:
    """`folder/<code>/<乡镇>.xlsx` and `全县.xlsx` for every county listed or paying a finding: only the findings it pays."""
    codes = sorted({county["county"] for county in counties}
                   | {code for (code,) in con.execute("select distinct county from province.case_county").fetchall()})
    paths = []
    for code in codes:
        tables = {
            "finding": "select * from chk.finding where case_key in (select case_key from province.finding where county = ?)",
            "finding_status": "select * from chk.finding_status "
                              "where case_key in (select case_key from province.finding where county = ?)",
            "resolved": "select * from chk.resolved "
                        "where case_key in (select case_key from province.case_county where county = ?)",
        }
        books = duckdb.connect()
        try:
            books.execute("create schema chk")
            for name, sql in tables.items():
                books.register("county_rows", con.sql(sql, params=[code]).to_arrow_table())
                try:
                    books.execute(f"create table chk.{name} as select * from county_rows")
                finally:
                    books.unregister("county_rows")
            paths += write_workbooks(books, folder / code, run_id=run_id, as_of=as_of, county=code, policy=policy,
                                     warnings=county_warnings(code, counties), checks=cross_checks())
        finally:
            books.close()
    return paths


# ---------------------------------------------------------------------------------------------- province.json


def one_line(text: object) -> str:
    """An error as one line, citizen numbers masked (the county list promises none; this makes sure)."""
    return mask_text(" ".join(str(text or "").split()))


def county_own_findings(run_dir: str | None) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """A county run's own findings per check (its run.json) and the money per check (its exceptions.csv, every finding).

    Nothing when the run published nothing or its folder is gone.
    """
    folder = Path(run_dir) if run_dir else None
    if folder is None or not (folder / RUN_RECORD).is_file():
        return {}, {}
    try:
        findings = json.loads((folder / RUN_RECORD).read_text(encoding="utf-8")).get("findings") or {}
    except ValueError:
        return {}, {}
    money: dict[str, dict[str, float]] = {}
    if (folder / "exceptions.csv").is_file():
        frame = pl.read_csv(folder / "exceptions.csv", columns=["check_code", "overpaid_amount", "backpay_amount"],
                            schema_overrides={"check_code": pl.String, "overpaid_amount": pl.Float64,
                                              "backpay_amount": pl.Float64})
        for code, overpaid, backpay in frame.group_by("check_code").agg(pl.col("overpaid_amount").sum(),
                                                                          pl.col("backpay_amount").sum()).sort("check_code").rows():
            money[code] = {"overpaid_amount": round(overpaid or 0.0, 2), "backpay_amount": round(backpay or 0.0, 2)}
    return {code: int(count) for code, count in findings.items()}, money


def province_summary(con: duckdb.DuckDBPyConnection, run_record: dict, counties: list[dict]) -> dict:
    """province.json: the run, each county with its own figures, the cross findings per check and county, statuses, times."""
    entries = []
    for county in counties:
        findings, money = county_own_findings(county.get("run_dir"))
        entries.append({
            "county": county["county"],
            "status": county["status"],
            "run_id": county.get("run_id"),
            "as_of": county.get("as_of"),
            "seconds": county.get("seconds"),
            "error": one_line(county.get("error")) or None,
            "findings": findings,
            "money": money,
            "overpaid_amount": round(sum(item["overpaid_amount"] for item in money.values()) + 0.0, 2),
            "backpay_amount": round(sum(item["backpay_amount"] for item in money.values()) + 0.0, 2),
        })
    rows = con.execute(
        """
        select check_code, county, count(*), coalesce(sum(overpaid_amount), 0), coalesce(sum(backpay_amount), 0)
        from province.finding
        group by check_code, county
        order by check_code, county
        """
    ).fetchall()
    by_check: dict[str, dict] = {code: figures(0, 0, 0) for code in cross_checks()}
    by_county: dict[str, dict] = {county["county"]: {} for county in counties}
    for code, county, count, overpaid, backpay in rows:
        total = by_check.setdefault(code, figures(0, 0, 0))
        by_check[code] = figures(total["findings"] + count, total["overpaid_amount"] + float(overpaid),
                                 total["backpay_amount"] + float(backpay))
        by_county.setdefault(county, {})[code] = figures(count, float(overpaid), float(backpay))
    return {
        "kind": KIND,
        "run_id": run_record["run_id"],
        "as_of": run_record["parameters"]["as_of"],
        "status": run_record["status"],
        "started_at": run_record.get("started_at"),
        "finished_at": run_record.get("finished_at"),
        "parameters": run_record["parameters"],
        "counties": entries,
        "cross_findings": {
            "findings": sum(item["findings"] for item in by_check.values()),
            "overpaid_amount": round(sum(item["overpaid_amount"] for item in by_check.values()), 2),
            "backpay_amount": round(sum(item["backpay_amount"] for item in by_check.values()), 2),
            "by_check": by_check,
            "by_county": {code: by_county[code] for code in sorted(by_county)},
        },
        "statuses": run_record.get("history") or {},
        "timings_seconds": run_record.get("timings_seconds") or {},
    }


def figures(count: int, overpaid: float, backpay: float) -> dict:
    return {"findings": int(count), "overpaid_amount": round(float(overpaid), 2), "backpay_amount": round(float(backpay), 2)}
