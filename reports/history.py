"""Case history: every finding tracked across runs by its `case_key`, with what inspectors said.

The history of one output folder (the nightly `out/`, or one campaign's
folder) lives in `<out>/audit.duckdb`:

- `audit.run` — each published run: id, as_of, scope, findings and money;
- `audit.case` — each case ever found: first and last run, last evidence;
- `audit.case_run` — which cases each run found, with their status then;
- `audit.disposition` — what inspectors recorded (see reports/feedback.py);
- `audit.link_decision` — identity links inspectors confirmed or rejected.

Before a run publishes, `apply_history` compares its findings with the
history and writes `chk.finding_status` and `chk.resolved` into the run's
database (the workbooks, the HTML report and `hecha diff` read them). After
it has published, `record_run_in` adds the run to the history, in the
same transaction as the publication (flows/run.py). The status of a
finding:

- `new` — never found before in this folder;
- `persisting` — found by the previous run too (属实 findings keep showing);
- `recurred` — found again after it had gone, or after it was marked 已整改 and
  its evidence has changed since;
- `reopened` — marked 不属实, but the evidence has changed since;
- `suppressed` — marked 不属实 (or 已整改) and the evidence is unchanged: not
  listed for inspectors again.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from pathlib import Path

import duckdb

from hecha.storage.database import attach, attached, use
from hecha.storage.files import restrict_file

STATE = "audit.duckdb"
STATUS_LABELS = {
    "new": "新发现",
    "persisting": "持续存在",
    "recurred": "整改后复发",
    "reopened": "证据变化重新列出",
    "suppressed": "已核不属实（证据未变）",
    "resolved": "已消除",
}

STATE_DDL = (
    "create schema if not exists audit",
    """create table if not exists audit.run (
        run_id varchar primary key, as_of varchar, run_dir varchar, published_at timestamp,
        checks varchar[], townships varchar[], findings_json varchar, findings integer,
        overpaid_amount double, backpay_amount double
    )""",
    """create table if not exists audit.case (
        case_key varchar primary key, check_code varchar, person_id varchar, id_number varchar, name varchar,
        township varchar, village varchar, case_no varchar, first_seen_run varchar, last_seen_run varchar,
        evidence_hash varchar, evidence varchar
    )""",
    """create table if not exists audit.case_run (
        run_id varchar, case_key varchar, status varchar, evidence_hash varchar,
        overpaid_amount double, backpay_amount double
    )""",
    """create table if not exists audit.disposition (
        case_key varchar, conclusion varchar, note varchar, inspector varchar, recorded_at timestamp,
        run_id varchar, evidence_hash varchar, source_file varchar, source_sheet varchar, source_row integer
    )""",
    """create table if not exists audit.link_decision (
        source varchar, record_signature varchar, person_id varchar, decision varchar, inspector varchar,
        recorded_at timestamp, run_id varchar, source_file varchar, source_row integer
    )""",
)


@contextmanager
def open_state(state: Path, *, read_only: bool = False, timeout: float | None = None):
    """The history database of an output folder, created on first use.

    Opening it for writing waits (up to `timeout`, see storage/database.py)
    while another process holds it, and first records any run a crash left
    published but unrecorded (`record_unrecorded_runs`), so every writer and
    every later reader sees each published run in the history.
    """
    state = Path(state)
    if read_only and not state.exists():
        con = duckdb.connect()
        for ddl in STATE_DDL:
            con.execute(ddl)
    else:
        # attached under another name: a file called audit.duckdb would be a catalog "audit"
        # and clash with the schema of that name
        state.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        try:
            attach(con, state, "history", read_only=read_only, timeout=timeout)
        except BaseException:
            con.close()
            raise
        use(con, "history")
        if not read_only:
            restrict_file(state)
            for ddl in STATE_DDL:
                con.execute(ddl)
            record_unrecorded_runs(con, state.parent)
    try:
        yield con
    finally:
        con.close()


def evidence_hash_sql(column: str) -> str:
    """The evidence's fingerprint: its facts, not where they sit in tonight's files.

    Row numbers change with every extract and a probabilistic link's score
    moves a little each time the model is fitted; neither is a change of
    evidence. Dates, months, amounts, names and case numbers are.
    """
    text = f"coalesce({column}, '')"
    text = f"regexp_replace({text}, '第 [0-9、]+ 行', '第…行', 'g')"
    text = f"regexp_replace({text}, '概率匹配 [0-9.]+', '概率匹配', 'g')"
    text = f"regexp_replace({text}, '\\([+-][0-9.]+\\)', '', 'g')"
    return f"md5({text})"


def apply_history(con: duckdb.DuckDBPyConnection, *, state: Path, run_id: str, checks: list[str] | None = None,
                  townships: list[str] | None = None) -> dict:
    """Write chk.finding_status and chk.resolved for this run; return counts per status.

    `checks` / `townships` give a campaign's scope: a case outside it is not
    "resolved" just because this run did not look for it.
    """
    state = Path(state)
    con.execute("create schema if not exists chk")
    run_database = con.execute("select current_database()").fetchall()[0][0]
    if state.exists():
        attach(con, state, "state", read_only=True)
    else:  # the folder's first run: an empty history
        con.execute("attach ':memory:' as state")
        use(con, "state")
        for ddl in STATE_DDL:
            con.execute(ddl)
        use(con, run_database)
    try:
        previous = con.execute("select run_id from state.audit.run order by published_at desc, run_id desc limit 1").fetchall()
        previous_run = previous[0][0] if previous else None
        con.execute(
            """
            create or replace temp view latest_disposition as
            select *
            from state.audit.disposition
            qualify row_number() over (partition by case_key order by recorded_at desc, source_row desc) = 1
            """
        )
        con.execute(
            f"""
            create or replace table chk.finding_status as
            with findings as (
                select case_key, {evidence_hash_sql('evidence')} as evidence_hash
                from chk.finding
            )
            select
                findings.case_key,
                case
                    when disposition.conclusion in ('不属实', '已整改') and disposition.evidence_hash = findings.evidence_hash
                        then 'suppressed'
                    when disposition.conclusion = '不属实' then 'reopened'
                    when disposition.conclusion = '已整改' then 'recurred'
                    when seen.case_key is null then 'new'
                    when seen.last_seen_run is distinct from ? then 'recurred'
                    else 'persisting'
                end as status,
                coalesce(seen.first_seen_run, ?) as first_seen_run,
                disposition.conclusion as previous_conclusion,
                disposition.note as previous_note,
                findings.evidence_hash
            from findings
            left join state.audit.case as seen
                on findings.case_key = seen.case_key
            left join latest_disposition as disposition
                on findings.case_key = disposition.case_key
            """,
            [previous_run, run_id],
        )
        con.execute(
            """
            create or replace table chk.resolved as
            select
                cases.case_key, cases.check_code, cases.id_number, cases.name, cases.township, cases.village, cases.case_no,
                cases.last_seen_run, disposition.conclusion as previous_conclusion
            from state.audit.case_run as previous
            inner join state.audit.case as cases
                on previous.case_key = cases.case_key
            left join latest_disposition as disposition
                on cases.case_key = disposition.case_key
            where previous.run_id = ?
                and previous.case_key not in (select case_key from chk.finding)
                and (? is null or list_contains(?, cases.check_code))
                and (? is null or list_contains(?, cases.township))
            """,
            [previous_run, checks, checks, townships, townships],
        )
    finally:
        con.execute("drop view if exists latest_disposition")
        con.execute("detach state")
    counts = dict(con.execute("select status, count(*) from chk.finding_status group by status order by status").fetchall())
    counts["resolved"] = con.execute("select count(*) from chk.resolved").fetchall()[0][0]
    counts["previous_run"] = previous_run
    overpaid, backpay = con.execute(
        "select coalesce(sum(overpaid_amount), 0), coalesce(sum(backpay_amount), 0) from chk.finding"
    ).fetchall()[0]
    return counts | {"overpaid_amount": round(overpaid, 2), "backpay_amount": round(backpay, 2)}


def record_run_in(con: duckdb.DuckDBPyConnection, *, record: dict, run_dir: Path) -> None:
    """Add a run to the history open on `con`: its cases, their status, the run's totals.

    The run's database is attached as `published` (still in its work folder
    when publication and recording are one step, see flows/run.py); `run_dir`
    is where the run is published. The caller owns the transaction: recording
    is all or nothing.
    """
    run_id = record["run_id"]
    con.execute("delete from audit.case_run where run_id = ?", [run_id])  # re-recording a run is harmless
    con.execute(
        """
        insert into audit.case_run
        select ?, finding.case_key, status.status, status.evidence_hash, finding.overpaid_amount, finding.backpay_amount
        from published.chk.finding as finding
        inner join published.chk.finding_status as status using (case_key)
        """,
        [run_id],
    )
    con.execute(
        """
        insert or replace into audit.case
        select
            finding.case_key, finding.check_code, finding.person_id, finding.id_number, finding.name,
            finding.township, finding.village, finding.case_no,
            coalesce(known.first_seen_run, ?), ?, status.evidence_hash, finding.evidence
        from published.chk.finding as finding
        inner join published.chk.finding_status as status using (case_key)
        left join audit.case as known using (case_key)
        """,
        [run_id, run_id],
    )
    totals = con.execute(
        "select count(*), coalesce(sum(overpaid_amount), 0), coalesce(sum(backpay_amount), 0) from published.chk.finding"
    ).fetchall()[0]
    parameters = record.get("parameters", {})
    finished = record.get("finished_at")
    published_at = dt.datetime.fromisoformat(finished) if finished else dt.datetime.now(dt.timezone.utc)
    con.execute(
        "insert or replace into audit.run values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id, parameters.get("as_of"), str(run_dir), published_at.astimezone(dt.timezone.utc).replace(tzinfo=None),
            parameters.get("checks"), parameters.get("townships"),
            json.dumps(record.get("findings", {}), ensure_ascii=False), totals[0], totals[1], totals[2],
        ],
    )


def record_unrecorded_runs(con: duckdb.DuckDBPyConnection, out: Path) -> list[str]:
    """Record the published runs of `out` the history lacks (a crash between publishing and recording).

    A run folder is renamed into place inside the transaction that records it;
    a kill between the rename and the commit leaves a complete, published run
    that the history does not know. It is recorded here, oldest first, before
    anyone reads the history, so from a reader's view every run is published
    and recorded, or neither. Returns the run ids recorded.
    """
    recorded = {run_id for (run_id,) in con.execute("select run_id from audit.run").fetchall()}
    repaired = []
    for run_json in sorted(Path(out).glob("*/run.json")):
        run_dir = run_json.parent
        if run_dir.name in recorded or run_dir.name.startswith(".") or not (run_dir / "hecha.duckdb").exists():
            continue
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if record.get("status") != "succeeded" or record.get("run_id") != run_dir.name:
            continue
        with attached(con, run_dir / "hecha.duckdb", "published", read_only=True), transaction(con):
            record_run_in(con, record=record, run_dir=run_dir)
        repaired.append(run_dir.name)
    return repaired


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """All of the block's writes, or none of them (a kill inside leaves the history as it was)."""
    con.execute("begin transaction")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def record_run(state: Path, run_dir: Path) -> None:
    """Record a published run folder in the history `state`, in one transaction."""
    run_dir = Path(run_dir)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    with open_state(state) as con, attached(con, run_dir / "hecha.duckdb", "published", read_only=True), transaction(con):
        record_run_in(con, record=record, run_dir=run_dir)


def run_history(state: Path, current: dict | None = None) -> list[dict]:
    """Published runs of this folder, oldest first, for the trend chart; `current` (a run record) is appended."""
    with open_state(state, read_only=True) as con:
        rows = con.execute(
            "select run_id, as_of, findings_json, overpaid_amount, backpay_amount from audit.run order by published_at, run_id"
        ).fetchall()
    history = [
        {"run_id": run_id, "as_of": as_of, "findings": json.loads(findings or "{}"), "overpaid": overpaid, "backpay": backpay}
        for run_id, as_of, findings, overpaid, backpay in rows
    ]
    if current is not None:
        totals = current.get("history", {})
        history.append({
            "run_id": current.get("run_id"), "as_of": current.get("parameters", {}).get("as_of"),
            "findings": current.get("findings", {}), "overpaid": totals.get("overpaid_amount"), "backpay": totals.get("backpay_amount"),
        })
    return history


def diff_runs(run_a: Path, run_b: Path) -> dict:
    """What changed from run A to run B, per check: cases added, gone, changed (months or money), unchanged."""
    con = duckdb.connect()
    try:
        for alias, run_dir in (("a", run_a), ("b", run_b)):
            database = Path(run_dir) / "hecha.duckdb"
            if not database.exists():
                raise FileNotFoundError(f"{run_dir}: not a published run folder (no hecha.duckdb)")
            attach(con, database, alias, read_only=True)
        rows = con.execute(
            """
            with pairs as (
                select
                    coalesce(b.check_code, a.check_code) as check_code,
                    case
                        when a.case_key is null then 'added'
                        when b.case_key is null then 'gone'
                        when a.period_start is distinct from b.period_start or a.period_end is distinct from b.period_end
                            or round(a.overpaid_amount, 2) is distinct from round(b.overpaid_amount, 2)
                            or round(a.backpay_amount, 2) is distinct from round(b.backpay_amount, 2) then 'changed'
                        else 'unchanged'
                    end as change,
                    coalesce(b.overpaid_amount, 0) - coalesce(a.overpaid_amount, 0) as overpaid_delta,
                    coalesce(b.backpay_amount, 0) - coalesce(a.backpay_amount, 0) as backpay_delta
                from a.chk.finding as a
                full outer join b.chk.finding as b
                    on a.case_key = b.case_key
            )
            select check_code, change, count(*), sum(overpaid_delta), sum(backpay_delta)
            from pairs
            group by check_code, change
            order by check_code, change
            """
        ).fetchall()
    finally:
        con.close()
    result: dict[str, dict] = {}
    for check_code, change, count, overpaid_delta, backpay_delta in rows:
        entry = result.setdefault(check_code, {"added": 0, "gone": 0, "changed": 0, "unchanged": 0, "overpaid_delta": 0.0, "backpay_delta": 0.0})
        entry[change] = count
        entry["overpaid_delta"] += overpaid_delta or 0.0
        entry["backpay_delta"] += backpay_delta or 0.0
    return result


def format_diff(run_a: Path, run_b: Path, diff: dict) -> str:
    from hecha.checks.catalogue import BY_CODE

    lines = [f"{Path(run_a).name} → {Path(run_b).name}",
             f"{'check':<26} {'名称':<12} {'added':>6} {'gone':>6} {'changed':>8} {'same':>6} {'Δ overpaid':>12} {'Δ backpay':>12}"]
    for code, entry in diff.items():
        name = BY_CODE[code].name_zh if code in BY_CODE else ""
        lines.append(
            f"{code:<26} {name:<12} {entry['added']:>6} {entry['gone']:>6} {entry['changed']:>8} {entry['unchanged']:>6} "
            f"{entry['overpaid_delta']:>12.2f} {entry['backpay_delta']:>12.2f}"
        )
    return "\n".join(lines)
