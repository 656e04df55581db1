"""Case history: every finding tracked across runs by its `case_key`, with what inspectors said.

The history of one output folder (the nightly `out/`, or one campaign's
folder) lives in `<out>/audit.duckdb`:

- `audit.run` — each published run: id, as_of, scope, findings and money;
- `audit.case` — each case ever found: first and last run, last evidence;
- `audit.case_run` — which cases each run found, with their status then and
  the fingerprints of their evidence and of its basis;
- `audit.disposition` — what inspectors recorded (see audit/feedback.py);
- `audit.link_decision` — identity links inspectors confirmed or rejected;
- `audit.screen`, `audit.screen_line` — the payment batches screened before
  they were paid and the lines they stopped (audit/screens.py).

Their columns are declared once, in storage/tables.py (docs/tables.md).

Verdicts are shared truth: inspectors' dispositions and link decisions are
recorded in the root out folder's history (`secret_root`, storage/secret.py),
which nightly runs and every campaign read; case keys agree across them (one
secret). Each folder keeps its own runs, cases and statuses.

Before a run publishes, `apply_history` compares its findings with the
folder's history and the shared verdicts and writes `chk.finding_status` and
`chk.resolved` into the run's database (the workbooks, the HTML report and
`hecha diff` read them). After it has published, `record_run_in` adds the
run to the history, in the same transaction as the publication
(flows/run.py). The status of a finding:

- `new` — never found before in this folder;
- `persisting` — found by the previous run too (属实 findings keep showing);
- `recurred` — found again after it had gone, or marked 已整改 and its
  evidence has changed since (one more month paid is the problem back);
- `reopened` — marked 不属实, but the basis of the verdict has changed since;
- `suppressed` — marked 不属实 and its basis is unchanged, or 已整改 and its
  evidence is unchanged: not listed for inspectors again.

Two fingerprints of a finding's evidence text, one definition each:

- the evidence (`evidence_hash_sql`): its facts, not tonight's row numbers or
  a refitted link's scores;
- the basis (`basis_hash_sql`): what an inspector judges — who the person is
  and how the record was linked, the event and its date, the certificate and
  roster facts — without the money, the months and periods, and ages on the
  run's date, which grow while the same problem goes on. A person marked
  不属实 (alive; the cremation record is a namesake's) stays suppressed while
  another month is paid, and comes back when another record is linked or
  the death date changes.

`hecha diff` (`resolve_run`, `diff_runs`, `diff_cases`, `format_diff`)
compares two published runs.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import duckdb

from hecha.checks.labels import CHANGE_LABELS
from hecha.storage.database import attach, attached, connect, sql_literal, use
from hecha.storage.files import restrict_file
from hecha.storage.tables import SCREEN_HISTORY_TABLES, STATE_TABLES, ddl

STATE = "audit.duckdb"

STATE_DDL = ("create schema if not exists audit", *(ddl(table) for table in (*STATE_TABLES, *SCREEN_HISTORY_TABLES)))


@contextmanager
def open_state(state: Path, *, read_only: bool = False, timeout: float | None = None, repair: bool = True):
    """The history database of an output folder, created on first use.

    Opening it for writing waits (up to `timeout`, see storage/database.py)
    while another process holds it, brings a history an earlier version wrote
    up to date (`migrate_state`; tables added since are created), and
    records any run or screen a crash left published but unrecorded
    (`record_unrecorded_runs`, audit/screens.py `record_unrecorded_screens`),
    so every writer and every later reader sees each published run and
    screen in the history.
    """
    state = Path(state)
    if read_only and not state.exists():
        con = duckdb.connect()
        for statement in STATE_DDL:
            con.execute(statement)
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
            for statement in STATE_DDL:
                con.execute(statement)
            migrate_state(con)
            if repair:  # hecha recover asks for the repair itself, to say what it recorded
                from hecha.audit.screens import record_unrecorded_screens  # screens record through this module

                record_unrecorded_runs(con, state.parent)
                record_unrecorded_screens(con, state.parent)
    try:
        yield con
    finally:
        con.close()


# What a new extract moves while the facts stay: row numbers, and a probabilistic link's
# score and weights, which move a little each time the model is fitted.
EVIDENCE_NOISE = (
    ("第 [0-9、]+ 行", "第…行"),  # 火化第 662 行, 发放明细第 5229、5838 行
    ("概率匹配 [0-9.]+", "概率匹配"),  # 概率匹配 0.998
    ("\\([+-][0-9.]+\\)", ""),  # 姓名同音(+8.4)
)
# What the same problem going on for another month moves: its period and months, its
# lines, its money, ages on the run's date. One pattern: a run of them reads as one "…".
PERIOD_AND_MONEY = "|".join((
    "[0-9]{4}-[0-9]{2} 至 [0-9]{4}-[0-9]{2}",  # 2025-06 至 2026-10
    "（[0-9]{4}-[0-9]{2}(?:、[0-9]{4}-[0-9]{2})*）",  # the months of a span with holes
    "共 [0-9]+ (?:个月|笔)",  # 共 17 个月, 共 19 笔
    "[0-9]+ 笔",  # 应追回 4320.00 元（8 笔，
    "[0-9]+\\.[0-9]{2}(?: 元)?",  # 9040.00 元, 户月保障金 1620.00 元, 按月供养金 900.00 元
))
BASIS_NOISE = EVIDENCE_NOISE + (
    ("等 [0-9]+ 行", "等…行"),  # 发放明细第 10298 行 等 25 行: one more line each month
    (f"(?:{PERIOD_AND_MONEY})(?: ?(?:{PERIOD_AND_MONEY}))*", "…"),
    ("现 [0-9]+ 周岁", "现…周岁"),  # 年满 60 周岁（按户籍出生日期现 92 周岁）: the rule met stays
    ("已 [0-9]+ 岁", "已…岁"),  # 按户籍登记出生日期计算已 112 岁，超过 110 岁
)


def _rewritten_sql(column: str, rules: tuple[tuple[str, str], ...]) -> str:
    text = f"coalesce({column}, '')"
    for pattern, replacement in rules:
        text = f"regexp_replace({text}, {sql_literal(pattern)}, {sql_literal(replacement)}, 'g')"
    return text


def evidence_hash_sql(column: str) -> str:
    """The evidence's fingerprint: its facts, not where they sit in tonight's files.

    Row numbers change with every extract and a probabilistic link's score
    moves a little each time the model is fitted; neither is a change of
    evidence. Dates, months, amounts, names and case numbers are.
    """
    return f"md5({_rewritten_sql(column, EVIDENCE_NOISE)})"


def basis_text_sql(column: str) -> str:
    """The evidence as an inspector judges it: who, how linked, which event and when, which certificate and roster facts.

    The money, the months counted, the period (`2025-06 至 2026-10`, `共 17 个月`,
    `9040.00 元`, a list of months), the number of lines, and ages on the
    run's date are dropped (a run of them becomes one "…"), with row numbers
    and link scores: they grow while the same problem goes on.
    """
    return _rewritten_sql(column, BASIS_NOISE)


def basis_hash_sql(column: str) -> str:
    """The basis's fingerprint (`basis_text_sql`): what a 不属实 verdict holds for."""
    return f"md5({basis_text_sql(column)})"


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether `audit.<table>` of the connection's current database has `column` (a history written before it may not)."""
    return bool(con.execute(
        "select count(*) from duckdb_columns() where database_name = current_database() and schema_name = 'audit' "
        "and table_name = ? and column_name = ?",
        [table, column],
    ).fetchall()[0][0])


def migrate_state(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a history written by an earlier version up to date (open_state does it on opening for writing).

    Dispositions and case runs gained the basis fingerprint. For old rows it
    is worked out from the evidence stored: each run's findings where its
    database is still kept, else the case's last evidence for the run that
    last found it; a disposition takes the basis of the case in the run its
    workbook came from, when the evidence the inspector saw is that one.
    Where neither is kept the basis stays unknown, and the verdict holds while
    the evidence is unchanged, as it did.
    """
    if has_column(con, "case_run", "basis_hash") and has_column(con, "disposition", "basis_hash"):
        return
    found = []
    for run_id, run_dir in con.execute("select run_id, run_dir from audit.run order by run_id").fetchall():
        database = Path(run_dir or "") / "hecha.duckdb"
        if not run_dir or not database.exists():
            continue
        run = connect(database, read_only=True)
        try:
            found.append(run.sql(f"select ? as run_id, case_key, {basis_hash_sql('evidence')} as basis_hash from chk.finding",
                                 params=[run_id]).to_arrow_table())
        except duckdb.Error:  # a run database without findings (never expected): its cases keep no basis
            continue
        finally:
            run.close()
    with transaction(con):
        con.execute("alter table audit.case_run add column if not exists basis_hash varchar")
        con.execute("alter table audit.disposition add column if not exists basis_hash varchar")
        for number, table in enumerate(found):
            con.register(f"run_basis_{number}", table)
            con.execute(
                f"""
                update audit.case_run set basis_hash = found.basis_hash
                from run_basis_{number} as found
                where case_run.run_id = found.run_id and case_run.case_key = found.case_key
                """
            )
            con.unregister(f"run_basis_{number}")
        con.execute(
            f"""
            update audit.case_run set basis_hash = {basis_hash_sql('cases.evidence')}
            from audit.case as cases
            where case_run.basis_hash is null
                and case_run.case_key = cases.case_key
                and case_run.run_id = cases.last_seen_run
            """
        )
        con.execute(
            """
            update audit.disposition set basis_hash = seen.basis_hash
            from audit.case_run as seen
            where disposition.basis_hash is null
                and disposition.run_id = seen.run_id
                and disposition.case_key = seen.case_key
                and disposition.evidence_hash is not distinct from seen.evidence_hash
            """
        )


DISPOSITION_COLUMNS = "case_key, conclusion, note, recorded_at, source_row, evidence_hash, basis_hash"


def load_latest_dispositions(con: duckdb.DuckDBPyConnection, histories: Iterable[Path]) -> None:
    """Create TEMP table `latest_disposition` on `con`: each case's latest disposition in `histories`.

    Each history is read through open_state (waiting while another process
    writes it); one that does not exist holds none. A history not yet
    migrated (`migrate_state`) has no basis fingerprints: its verdicts hold
    while the evidence is unchanged.
    """
    tables = []
    for history in histories:
        with open_state(history, read_only=True) as source:
            columns = DISPOSITION_COLUMNS
            if not has_column(source, "disposition", "basis_hash"):
                columns = columns.replace("basis_hash", "cast(null as varchar) as basis_hash")
            tables.append(source.sql(f"select {columns} from audit.disposition").to_arrow_table())
    names = [f"dispositions_{number}" for number in range(len(tables))]
    for name, table in zip(names, tables):
        con.register(name, table)
    try:
        union = " union all ".join(f"select {DISPOSITION_COLUMNS} from {name}" for name in names)
        con.execute(
            f"""
            create or replace temp table latest_disposition as
            select *
            from ({union})
            qualify row_number() over (partition by case_key order by recorded_at desc, source_row desc) = 1
            """
        )
    finally:
        for name in names:
            con.unregister(name)


def apply_history(con: duckdb.DuckDBPyConnection, *, state: Path, run_id: str, checks: list[str] | None = None,
                  townships: list[str] | None = None, verdicts: Path | None = None) -> dict:
    """Write chk.finding_status and chk.resolved for this run; return counts per status.

    `state` is the history of the folder the run publishes to: its previous
    run and cases give the statuses. `verdicts` is the history whose
    inspectors' dispositions count — the root out folder's, shared by nightly
    runs and every campaign (None: `state` itself). A campaign's own history
    may hold dispositions recorded before they were shared; they count too,
    the latest of a case winning. `checks` / `townships` give a campaign's
    scope: a case outside it is not "resolved" just because this run did not
    look for it.
    """
    state = Path(state)
    verdicts = Path(verdicts) if verdicts is not None else state
    con.execute("create schema if not exists chk")
    load_latest_dispositions(con, [verdicts] if state.resolve() == verdicts.resolve() else [verdicts, state])
    run_database = con.execute("select current_database()").fetchall()[0][0]
    if state.exists():
        attach(con, state, "state", read_only=True)
    else:  # the folder's first run: an empty history
        con.execute("attach ':memory:' as state")
        use(con, "state")
        for statement in STATE_DDL:
            con.execute(statement)
        use(con, run_database)
    try:
        previous = con.execute("select run_id from state.audit.run order by published_at desc, run_id desc limit 1").fetchall()
        previous_run = previous[0][0] if previous else None
        con.execute(
            f"""
            create or replace table chk.finding_status as
            with findings as (
                select
                    case_key,
                    {evidence_hash_sql('evidence')} as evidence_hash,
                    {basis_hash_sql('evidence')} as basis_hash
                from chk.finding
            ),

            judged as (
                select
                    findings.*,
                    disposition.conclusion,
                    disposition.note,
                    case disposition.conclusion
                        -- 不属实 judged the basis (who, which record, which date): more months of it change nothing;
                        -- a disposition recorded before bases were kept holds while the evidence is unchanged
                        when '不属实' then coalesce(disposition.basis_hash = findings.basis_hash,
                                                    disposition.evidence_hash = findings.evidence_hash)
                        -- 已整改 says it was put right: one more month paid (or missed) is the problem back
                        when '已整改' then disposition.evidence_hash = findings.evidence_hash
                    end as verdict_holds
                from findings
                left join latest_disposition as disposition
                    on findings.case_key = disposition.case_key
            )

            select
                judged.case_key,
                case
                    when judged.verdict_holds then 'suppressed'
                    when judged.conclusion = '不属实' then 'reopened'
                    when judged.conclusion = '已整改' then 'recurred'
                    when seen.case_key is null then 'new'
                    when seen.last_seen_run is distinct from ? then 'recurred'
                    else 'persisting'
                end as status,
                coalesce(seen.first_seen_run, ?) as first_seen_run,
                judged.conclusion as previous_conclusion,
                judged.note as previous_note,
                judged.evidence_hash,
                judged.basis_hash
            from judged
            left join state.audit.case as seen
                on judged.case_key = seen.case_key
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
        con.execute("drop table if exists temp.latest_disposition")
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
    is all or nothing. The run's outcomes (audit/outcomes.py) are recorded
    with it.
    """
    from hecha.audit.outcomes import record_outcomes_in  # outcomes read the history: imported here, not at the top

    run_id = record["run_id"]
    con.execute("delete from audit.case_run where run_id = ?", [run_id])  # re-recording a run is harmless
    con.execute(
        f"""
        insert into audit.case_run (run_id, case_key, status, evidence_hash, basis_hash, overpaid_amount, backpay_amount)
        select
            ?, finding.case_key, status.status, status.evidence_hash, {basis_hash_sql('finding.evidence')},
            finding.overpaid_amount, finding.backpay_amount
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
    record_outcomes_in(con, run_id)


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


LATEST, PREVIOUS = "latest", "previous"


def published_runs(out: Path) -> list[Path]:
    """The run folders published in `out`, in the order they were published (run.json's finished_at, then name).

    Run ids begin with the as_of month, so a rerun of an older month sorts
    before a newer month's run by name though it was published after it.
    """
    runs = []
    for run_json in Path(out).glob("*/run.json"):
        folder = run_json.parent
        if folder.name.startswith("."):  # a work folder: not published
            continue
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        runs.append((str(record.get("finished_at") or ""), folder.name, folder))
    return [folder for _, _, folder in sorted(runs)]


def resolve_run(out: Path, reference: str) -> Path:
    """The run folder `reference` names: `latest` or `previous` (the last and the one before, as published in `out`),
    a folder, or the start of one run id in `out` (`2026-10_2026112`).

    Raises FileNotFoundError when nothing matches, ValueError when several runs start so.
    """
    out = Path(out)
    if reference in (LATEST, PREVIOUS):
        runs = published_runs(out)
        back = 1 if reference == LATEST else 2
        if len(runs) < back:
            raise FileNotFoundError(f"{out}: {len(runs)} published run(s), so no {reference} run")
        return runs[-back]
    if Path(reference).is_dir():
        return Path(reference)
    runs = published_runs(out)
    exact = [run for run in runs if run.name == reference]
    matches = exact or [run for run in runs if run.name.startswith(reference)]
    if not matches:
        raise FileNotFoundError(f"{reference}: not a run folder, nor the start of a run id published in {out} "
                                f"(give a folder, {LATEST}, {PREVIOUS} or the start of a run id; --out names the folder)")
    if len(matches) > 1:
        raise ValueError(f"{reference}: {len(matches)} runs in {out} start so ({', '.join(run.name for run in matches)}); "
                         "give more of the run id")
    return matches[0]


def _compare_runs(run_a: Path, run_b: Path) -> list[dict]:
    """Every case of either run: how it changed from A to B (added, gone, changed in period or money, unchanged), with both sides."""
    con = duckdb.connect()
    try:
        for alias, run_dir in (("a", run_a), ("b", run_b)):
            database = Path(run_dir) / "hecha.duckdb"
            if not database.exists():
                raise FileNotFoundError(f"{run_dir}: not a published run folder (no hecha.duckdb)")
            attach(con, database, alias, read_only=True)
        cursor = con.execute(
            """
            select
                case
                    when a.case_key is null then 'added'
                    when b.case_key is null then 'gone'
                    when a.period_start is distinct from b.period_start or a.period_end is distinct from b.period_end
                        or round(a.overpaid_amount, 2) is distinct from round(b.overpaid_amount, 2)
                        or round(a.backpay_amount, 2) is distinct from round(b.backpay_amount, 2) then 'changed'
                    else 'unchanged'
                end as change,
                coalesce(b.case_key, a.case_key) as case_key,
                coalesce(b.check_code, a.check_code) as check_code,
                coalesce(b.township, a.township) as township,
                coalesce(b.village, a.village) as village,
                coalesce(b.id_number, a.id_number) as id_number,
                coalesce(b.name, a.name) as name,
                a.period_start as start_before, a.period_end as end_before,
                b.period_start as start_after, b.period_end as end_after,
                cast(a.overpaid_amount as double) as overpaid_before, cast(a.backpay_amount as double) as backpay_before,
                cast(b.overpaid_amount as double) as overpaid_after, cast(b.backpay_amount as double) as backpay_after,
                a.case_key is not null as in_a, b.case_key is not null as in_b
            from a.chk.finding as a
            full outer join b.chk.finding as b
                on a.case_key = b.case_key
            """
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def diff_runs(run_a: Path, run_b: Path) -> dict:
    """What changed from run A to run B, per check: cases added, gone, changed (months or money), unchanged."""
    result: dict[str, dict] = {}
    for pair in sorted(_compare_runs(run_a, run_b), key=lambda pair: pair["check_code"] or ""):
        entry = result.setdefault(pair["check_code"], {"added": 0, "gone": 0, "changed": 0, "unchanged": 0,
                                                       "overpaid_delta": 0.0, "backpay_delta": 0.0})
        entry[pair["change"]] += 1
        entry["overpaid_delta"] += (pair["overpaid_after"] or 0.0) - (pair["overpaid_before"] or 0.0)
        entry["backpay_delta"] += (pair["backpay_after"] or 0.0) - (pair["backpay_before"] or 0.0)
    return result


def _period_text(start, end) -> str:
    if start is None and end is None:
        return ""
    return f"{start:%Y-%m} 至 {end:%Y-%m}" if start is not None and end is not None else f"{start or end:%Y-%m}"


def _money(overpaid, backpay, present: bool) -> float | None:
    """The money at stake (to recover plus to pay back), as the workbooks sort by it; None for a side without the case."""
    return (overpaid or 0.0) + (backpay or 0.0) if present else None


def diff_cases(run_a: Path, run_b: Path) -> list[dict]:
    """The cases that appeared, went or changed (period or money) from run A to run B, per check in catalogue order.

    Each has its case_key, check_code, township, village, masked citizen
    number (`id_number_masked`; the full number is not kept), name, the
    period and money before and after (empty / None on the side without it).
    """
    from hecha.checks.catalogue import BY_CODE
    from hecha.storage.masking import mask_id_number

    order = {code: number for number, code in enumerate(BY_CODE)}
    changes = list(CHANGE_LABELS)
    cases = [
        {
            "change": pair["change"], "case_key": pair["case_key"], "check_code": pair["check_code"],
            "township": pair["township"] or "", "village": pair["village"] or "",
            "id_number_masked": mask_id_number(pair["id_number"]), "name": pair["name"] or "",
            "period_before": _period_text(pair["start_before"], pair["end_before"]),
            "period_after": _period_text(pair["start_after"], pair["end_after"]),
            "amount_before": _money(pair["overpaid_before"], pair["backpay_before"], pair["in_a"]),
            "amount_after": _money(pair["overpaid_after"], pair["backpay_after"], pair["in_b"]),
        }
        for pair in _compare_runs(run_a, run_b)
        if pair["change"] != "unchanged"
    ]
    return sorted(cases, key=lambda case: (order.get(case["check_code"], len(order)), case["check_code"] or "",
                                           changes.index(case["change"]), case["township"], case["village"], case["name"],
                                           case["case_key"] or ""))


def display_width(text: str) -> int:
    """The columns a terminal gives `text`: two for each wide or full-width (CJK) character, none for a combining mark."""
    return sum(0 if unicodedata.combining(character) else 2 if unicodedata.east_asian_width(character) in "WF" else 1
               for character in text)


def format_table(header: list[str], rows: list[list[str]], right: Iterable[int] = ()) -> list[str]:
    """Lines of a table whose columns line up on a terminal: cells padded by display width, two spaces apart."""
    right = set(right)
    widths = [max(display_width(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def pad(text: str, index: int) -> str:
        space = " " * (widths[index] - display_width(text))
        return space + text if index in right else text + space

    return ["  ".join(pad(cell, index) for index, cell in enumerate(row)) for row in [header, *rows]]


def _run_as_of(run_dir: Path) -> str | None:
    try:
        return json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8")).get("parameters", {}).get("as_of")
    except (OSError, ValueError):
        return None


def _amount_text(amount: float | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def format_diff(run_a: Path, run_b: Path, diff: dict, cases: Iterable[dict] = ()) -> str:
    """`hecha diff` as printed: a warning when B covers an earlier month than A, the counts per check, then the cases."""
    from hecha.checks.catalogue import BY_CODE

    name_a, name_b = Path(run_a).name, Path(run_b).name
    lines = []
    as_of_a, as_of_b = _run_as_of(run_a), _run_as_of(run_b)
    if as_of_a and as_of_b and as_of_b < as_of_a:
        lines.append(f"warning: the later run {name_b} covers {as_of_b}, before {as_of_a} of {name_a}: "
                     "its added and gone cases may be the earlier month's")
    lines.append(f"{name_a} → {name_b}")
    lines += format_table(
        ["check", "名称", "added", "gone", "changed", "same", "overpaid +/-", "backpay +/-"],
        [[code, BY_CODE[code].name_zh if code in BY_CODE else "-", str(entry["added"]), str(entry["gone"]),
          str(entry["changed"]), str(entry["unchanged"]), f"{entry['overpaid_delta']:.2f}", f"{entry['backpay_delta']:.2f}"]
         for code, entry in diff.items()],
        right=range(2, 8),
    )
    cases = list(cases)
    if cases:
        lines.append("")
        lines += format_table(
            ["变化", "案件编号", "检查", "乡镇", "村", "身份证号", "姓名", "原期间", "→", "现期间", "原金额", "→", "现金额"],
            [[CHANGE_LABELS[case["change"]], case["case_key"] or "",
              BY_CODE[case["check_code"]].name_zh if case["check_code"] in BY_CODE else case["check_code"] or "",
              case["township"], case["village"], case["id_number_masked"], case["name"],
              case["period_before"], "→", case["period_after"],
              _amount_text(case["amount_before"]), "→", _amount_text(case["amount_after"])]
             for case in cases],
            right=(10, 12),
        )
    return "\n".join(lines)
