"""The tables one stage writes and another reads, declared once: columns, types, what each holds.

As the extract declarations drive the staged tables (extracts/declarations.py),
these drive the output tables: the linker's `link.*`, the checks' `chk.finding`,
the audit trail's `audit.*` (in an output folder's `audit.duckdb`) and the
label table `cfg.label`. The code that creates a table runs `ddl(table)`;
`python -m hecha.storage.tables > docs/tables.md` regenerates the committed page,
and a test fails when page and declarations disagree.

A run's tables are rebuilt by every run (`create or replace table`); the
audit trail's last across runs (`persistent`: `create table if not exists`,
so a history is never emptied by opening it). What does not belong here:
tables a single SELECT materialises (`int.*`, `chk.finding_status`, the
outcome tables of a run: their columns are the SELECT's), staging tables
(derived from the extract declarations), and migrations of an old history
(audit/history.py `migrate_state`).

Column order is part of a declaration: writers insert by position.
"""

from __future__ import annotations

from dataclasses import dataclass

from hecha.storage.database import sql_identifier


@dataclass(frozen=True)
class TableColumn:
    """One column: its name, DuckDB type and a one-line description."""

    name: str
    sql_type: str
    description: str


@dataclass(frozen=True)
class Table:
    """One output table: schema, name, what one row is (`grain`), its columns in order."""

    schema: str
    name: str
    grain: str
    columns: tuple[TableColumn, ...]
    description: str = ""
    primary_key: tuple[str, ...] = ()
    persistent: bool = False  # kept across runs: created only when missing, never replaced

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.qualified_name}: a column is declared twice")
        unknown = [name for name in self.primary_key if name not in names]
        if unknown:
            raise ValueError(f"{self.qualified_name}: primary key names unknown column(s) {', '.join(unknown)}")

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> TableColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name!r}")


def ddl(table: Table) -> str:
    """The statement creating `table`: `create or replace table`, or `create table if not exists` for a persistent one.

    The schema must exist (each stage creates its own).
    """
    create = "create table if not exists" if table.persistent else "create or replace table"
    lines = [f"    {sql_identifier(column.name)} {column.sql_type}" for column in table.columns]
    if table.primary_key:
        lines.append(f"    primary key ({', '.join(sql_identifier(name) for name in table.primary_key)})")
    name = f"{sql_identifier(table.schema)}.{sql_identifier(table.name)}"
    return f"{create} {name} (\n" + ",\n".join(lines) + "\n)"


# ---------------------------------------------------------------------------------------------- link.*
# Written by the linker (matching/link.py), read by the checks, the feedback import and the reports.

SOURCE = TableColumn("source", "varchar", "the extract the row comes from (its stem: `dibao`, `payments`, …)")
SOURCE_ROW = TableColumn("source_row", "integer", "the row's number in the extract file")
ROLE = TableColumn("role", "varchar", "`subject`: the person the row is about; `head`: the household head it names")

LINK_PERSON = Table(
    "link", "person", "one row per person: each usable citizen number of any extract",
    (
        TableColumn("person_id", "varchar", "the person's key: the citizen number hashed with the deployment secret (`person_id_of`)"),
        TableColumn("id_number", "varchar", "the normalized 18-character citizen number"),
        TableColumn("name", "varchar", "the name on the row describing the person: the register's, else the first source's"),
        TableColumn("sex", "varchar", "`M` or `F`, as that row records it"),
        TableColumn("birth_date", "date", "date of birth, as that row records it"),
        TableColumn("household_no", "varchar", "the register's household number (户号)"),
        TableColumn("township", "varchar", "township (乡镇/街道)"),
        TableColumn("village", "varchar", "village or community (村/社区)"),
        TableColumn("person_status", "varchar", "the register's status: `normal`, `dead` or `moved_out`"),
        TableColumn("status_date", "date", "the register's date of that status (变动日期)"),
        TableColumn("in_register", "boolean", "whether the household register holds the person"),
    ),
    description="Who the people are: one description per person, the household register's where it has one.",
)

LINK_PERSON_RECORD = Table(
    "link", "person_record", "one row per source row and role",
    (
        SOURCE,
        SOURCE_ROW,
        ROLE,
        TableColumn("person_id", "varchar", "the person the row is linked to; null when it is not linked"),
        TableColumn("method", "varchar",
               "how: `exact`, `upgraded`, `repaired`, `same_invalid_number`, `probabilistic`, `confirmed`; null when unlinked"),
        TableColumn("confidence", "double", "how sure the link is, 0 to 1 (1: the same citizen number)"),
        TableColumn("explanation", "varchar", "how the link was made, in Chinese, for evidence text"),
    ),
    description="Which person each row of each extract is about; the checks join every source through it.",
)

LINK_REVIEW = Table(
    "link", "review", "one row per candidate person of a source row linked with doubt or not linked",
    (
        SOURCE,
        SOURCE_ROW,
        ROLE,
        TableColumn("person_id", "varchar", "the candidate person"),
        TableColumn("register_row", "integer", "the candidate's row in the household register"),
        TableColumn("match_probability", "double", "the model's probability that row and candidate are one person"),
        TableColumn("confidence", "double", "the candidate's share of the row's posterior (the best candidate's is highest)"),
        TableColumn("decision", "varchar", "`linked`, `linked_to_confirm` or `review_only`"),
        TableColumn("comparison_vector", "varchar", "the comparison level of each compared field, comma-separated"),
        TableColumn("explanation", "varchar", "what was compared and its weight, in Chinese"),
        TableColumn("record_signature", "varchar",
               "how an inspector's decision on this row is remembered across runs (audit.link_decision)"),
    ),
    description="Links for inspectors to confirm (the 待确认 sheet): each uncertain row beside each of its candidates.",
)

LINK_NUMBER_REPAIR = Table(
    "link", "number_repair", "one row per source row and role whose citizen number is not valid",
    (
        SOURCE,
        SOURCE_ROW,
        ROLE,
        TableColumn("id_number_clean", "varchar", "the number as read, separators dropped and full-width characters made ASCII"),
        TableColumn("status", "varchar", "what repair made of it: `repaired`, `ambiguous`, `disagrees`, `no_candidate`, `not_18`"),
        TableColumn("person_id", "varchar", "the register person the number was repaired to; null unless `repaired`"),
        TableColumn("explanation", "varchar", "what was tried, in Chinese, for evidence text"),
    ),
    description="Every invalid citizen number and what repair made of it; an unrepaired recipient's is an identity anomaly.",
)

LINK_TABLES = (LINK_PERSON, LINK_PERSON_RECORD, LINK_REVIEW, LINK_NUMBER_REPAIR)

# ---------------------------------------------------------------------------------------------- chk.finding
# Written by the check runner (checks/runner.py), read by the audit trail and the reports.

FINDING = Table(
    "chk", "finding", "one row per finding: a check's rows for one person and case",
    (
        TableColumn("check_code", "varchar", "the check that found it (checks/catalogue.py)"),
        TableColumn("person_id", "varchar", "the person it is about (link.person); null when the check names no linked person"),
        TableColumn("id_number", "varchar", "citizen number: link.person's, else the check's own"),
        TableColumn("name", "varchar", "name: link.person's, else the check's own"),
        TableColumn("township", "varchar", "township: link.person's, else the check's own"),
        TableColumn("village", "varchar", "village or community: link.person's, else the check's own"),
        TableColumn("case_no", "varchar", "the case or certificate numbers concerned, separated by 、"),
        TableColumn("period_start", "date", "first month concerned (the 1st)"),
        TableColumn("period_end", "date", "last month concerned (the 1st)"),
        TableColumn("overpaid_amount", "double", "yuan paid that was not due, to recover"),
        TableColumn("backpay_amount", "double", "yuan due that was not paid, to pay back"),
        TableColumn("link_confidence", "double", "the least sure identity link the finding rests on, 0 to 1"),
        TableColumn("needs_confirmation", "boolean", "link_confidence below `identity.review_threshold`: confirm the person first"),
        TableColumn("evidence", "varchar", "the rows and facts the finding rests on, in Chinese"),
        TableColumn("case_key", "varchar", "the case's key across runs, hashed with the deployment secret (`case_key`)"),
    ),
    description="The run's findings, in the output contract (../shared/CONTRACT.md); exceptions.csv is this table.",
)

# ---------------------------------------------------------------------------------------------- audit.*
# An output folder's history (audit.duckdb), written by audit/history.py, audit/feedback.py,
# audit/outcomes.py and audit/screens.py, read by the next runs and the reports.

RUN_ID = TableColumn("run_id", "varchar", "the run (its folder's name)")
CASE_KEY = TableColumn("case_key", "varchar", "the case (chk.finding.case_key)")
RECORDED_AT = TableColumn("recorded_at", "timestamp", "when it was recorded (UTC)")
INSPECTOR = TableColumn("inspector", "varchar", "who recorded it: the workbook's last author, or as the import was told")

AUDIT_RUN = Table(
    "audit", "run", "one row per run published in the folder",
    (
        RUN_ID,
        TableColumn("as_of", "varchar", "the last complete month the run covered, YYYY-MM"),
        TableColumn("run_dir", "varchar", "the folder the run was published to"),
        TableColumn("published_at", "timestamp", "when the run finished (UTC)"),
        TableColumn("checks", "varchar[]", "the checks a campaign ran; null: all"),
        TableColumn("townships", "varchar[]", "the townships a campaign kept; null: all"),
        TableColumn("findings_json", "varchar", "findings per check code, as JSON"),
        TableColumn("findings", "integer", "findings in all"),
        TableColumn("overpaid_amount", "double", "yuan to recover, all findings"),
        TableColumn("backpay_amount", "double", "yuan to pay back, all findings"),
    ),
    description="The folder's published runs: the trend chart and `hecha diff` read them.",
    primary_key=("run_id",),
    persistent=True,
)

AUDIT_CASE = Table(
    "audit", "case", "one row per case ever found in the folder",
    (
        CASE_KEY,
        TableColumn("check_code", "varchar", "the check that found it"),
        TableColumn("person_id", "varchar", "the person it is about"),
        TableColumn("id_number", "varchar", "citizen number"),
        TableColumn("name", "varchar", "name"),
        TableColumn("township", "varchar", "township"),
        TableColumn("village", "varchar", "village or community"),
        TableColumn("case_no", "varchar", "the case or certificate numbers concerned"),
        TableColumn("first_seen_run", "varchar", "the run that first found it"),
        TableColumn("last_seen_run", "varchar", "the last run that found it"),
        TableColumn("evidence_hash", "varchar", "fingerprint of the last evidence, without row numbers and link scores"),
        TableColumn("evidence", "varchar", "the last evidence text"),
    ),
    description="Each case as it was last found, so a later run can tell new from persisting, recurred and resolved.",
    primary_key=("case_key",),
    persistent=True,
)

AUDIT_CASE_RUN = Table(
    "audit", "case_run", "one row per run and case it found",
    (
        RUN_ID,
        CASE_KEY,
        TableColumn("status", "varchar", "`new`, `persisting`, `recurred`, `reopened` or `suppressed`"),
        TableColumn("evidence_hash", "varchar", "fingerprint of the evidence that run found"),
        TableColumn("overpaid_amount", "double", "yuan to recover, as that run found it"),
        TableColumn("backpay_amount", "double", "yuan to pay back, as that run found it"),
        TableColumn("basis_hash", "varchar", "fingerprint of what an inspector judges: the evidence without money, months and ages"),
    ),
    description="Which cases each run found and their status then; a workbook is checked against its run's rows.",
    persistent=True,
)

AUDIT_DISPOSITION = Table(
    "audit", "disposition", "one row per verdict recorded; a case's latest holds",
    (
        CASE_KEY,
        TableColumn("conclusion", "varchar", "核查结论: 属实, 不属实 or 已整改"),
        TableColumn("note", "varchar", "核查说明, as the inspector wrote it"),
        INSPECTOR,
        RECORDED_AT,
        TableColumn("run_id", "varchar", "the run whose workbook it was written in"),
        TableColumn("evidence_hash", "varchar", "fingerprint of the evidence the inspector saw"),
        TableColumn("source_file", "varchar", "the workbook it was read from"),
        TableColumn("source_sheet", "varchar", "its sheet"),
        TableColumn("source_row", "integer", "its row"),
        TableColumn("basis_hash", "varchar", "fingerprint of the basis the inspector judged (audit.case_run.basis_hash)"),
    ),
    description="Inspectors' verdicts, shared by nightly runs and campaigns (kept in the root out folder's history).",
    persistent=True,
)

AUDIT_LINK_DECISION = Table(
    "audit", "link_decision", "one row per source, record signature and person: the latest decision",
    (
        SOURCE,
        TableColumn("record_signature", "varchar", "the record decided on (link.review.record_signature)"),
        TableColumn("person_id", "varchar", "the candidate person decided on"),
        TableColumn("decision", "varchar", "`same` or `different`"),
        INSPECTOR,
        RECORDED_AT,
        TableColumn("run_id", "varchar", "the run whose workbook it was written in"),
        TableColumn("source_file", "varchar", "the workbook it was read from"),
        TableColumn("source_row", "integer", "its row on the 待确认 sheet"),
    ),
    description="Identity links inspectors confirmed or rejected; the linker applies them in every later run.",
    persistent=True,
)

AUDIT_OUTCOME = Table(
    "audit", "outcome", "one row per run and case it tracked",
    (
        RUN_ID,
        CASE_KEY,
        TableColumn("check_code", "varchar", "the check that found the case"),
        TableColumn("township", "varchar", "township"),
        TableColumn("verdict", "varchar", "the verdict in force: 属实, 不属实, 已整改, or null"),
        TableColumn("verdict_date", "date", "when that verdict was recorded"),
        TableColumn("is_found", "boolean", "whether the run found the case again"),
        TableColumn("period_start", "date", "first month concerned, as last found"),
        TableColumn("period_end", "date", "last month concerned, as last found"),
        TableColumn("overpaid_monthly_before", "double", "yuan a month paid on the finding's programmes and cases before it was acted on"),
        TableColumn("last_paid_month", "date", "the last month overpaid"),
        TableColumn("stopped", "boolean", "whether the overpayment has stopped"),
        TableColumn("stopped_month", "date", "the first month no longer overpaid"),
        TableColumn("monthly_stopped_amount", "double", "yuan a month no longer paid since"),
        TableColumn("backpay_due", "double", "yuan due for the months found unpaid"),
        TableColumn("backpay_months", "date[]", "the months found unpaid, by this run or an earlier one"),
        TableColumn("backpay_paid", "double", "yuan the ledger has since paid for those months"),
        TableColumn("backpay_paid_months", "integer", "how many of those months have since been paid"),
        TableColumn("recovered_amount", "double", "yuan recovered so far, as inspectors recorded it"),
    ),
    description="What became of each tracked case, as each run read it from its ledger (the run's chk.outcome).",
    primary_key=("run_id", "case_key"),
    persistent=True,
)

AUDIT_RECOVERY = Table(
    "audit", "recovery", "one row per amount recorded; a case's latest stands",
    (
        CASE_KEY,
        TableColumn("recovered_amount", "decimal(12, 2)", "追回金额: yuan recovered on the case to date"),
        INSPECTOR,
        RECORDED_AT,
        TableColumn("run_id", "varchar", "the run whose workbook it was written in"),
        TableColumn("source", "varchar", "where it was read: file, sheet and row"),
    ),
    description="Money recovered on overpaid cases, as inspectors record it.",
    persistent=True,
)

SCREEN_ID = TableColumn("screen_id", "varchar", "the screen (its folder's name under `screens/`: `YYYY-MM_<UTC stamp>`)")

AUDIT_SCREEN = Table(
    "audit", "screen", "one row per screen published in the folder (`<out>/screens/<screen_id>/`)",
    (
        SCREEN_ID,
        TableColumn("batch_month", "date", "the batch month (the 1st): the month its lines pay, as the screen took it"),
        TableColumn("county", "varchar", "the county the screen was run for"),
        TableColumn("night_run", "varchar", "the published run whose state the batch was screened against"),
        TableColumn("batch_name", "varchar", "the batch file's name"),
        TableColumn("batch_sha256", "varchar", "the batch file's SHA-256: the same batch screened twice has the same"),
        TableColumn("published_at", "timestamp", "when the screen finished (UTC)"),
        TableColumn("screen_dir", "varchar", "the folder the screen was published to"),
        TableColumn("lines", "integer", "lines of the batch, read or not"),
        TableColumn("block_lines", "integer", "lines blocked (拦截)"),
        TableColumn("hold_lines", "integer", "lines held (暂缓)"),
        TableColumn("pass_lines", "integer", "lines passed (通过)"),
        TableColumn("block_amount", "decimal(18,2)", "yuan of the lines blocked"),
        TableColumn("hold_amount", "decimal(18,2)", "yuan of the lines held"),
        TableColumn("pass_amount", "decimal(18,2)", "yuan of the lines passed"),
    ),
    description="The folder's published screens of payment batches (`hecha screen`), counted from their screen.line.",
    primary_key=("screen_id",),
    persistent=True,
)

AUDIT_SCREEN_LINE = Table(
    "audit", "screen_line", "one row per line a screen blocked or held",
    (
        SCREEN_ID,
        TableColumn("source_row", "integer", "the line's row number in the batch file (screen.line.source_row)"),
        TableColumn("case_key", "varchar", "the verdict's key across screens (screen.line.case_key): inspectors' 核查结论 are recorded by it"),
        TableColumn("verdict", "varchar", "`block` (拦截) or `hold` (暂缓)"),
        TableColumn("reason_code", "varchar", "the reason that decided the verdict (screen/reasons.py)"),
        TableColumn("programme", "varchar", "项目 as a code"),
        TableColumn("case_no", "varchar", "证号"),
        TableColumn("paid_month", "date", "发放年月, the 1st; null when it could not be read"),
        TableColumn("amount", "decimal(18,2)", "金额, yuan; null when it could not be read"),
        TableColumn("township", "varchar", "乡镇(街道) as the batch wrote it"),
        TableColumn("person_id", "varchar", "the payee the line is linked to; null: nobody"),
    ),
    description="The lines each screen stopped, with their verdict's key: a blocked line confirmed 属实 or 已整改 is money "
                "prevented (阻止发放, audit/outcomes.py). No names or citizen numbers: the screen's folder keeps them.",
    primary_key=("screen_id", "source_row"),
    persistent=True,
)

STATE_TABLES = (AUDIT_RUN, AUDIT_CASE, AUDIT_CASE_RUN, AUDIT_DISPOSITION, AUDIT_LINK_DECISION)
OUTCOME_TABLES = (AUDIT_OUTCOME, AUDIT_RECOVERY)
SCREEN_HISTORY_TABLES = (AUDIT_SCREEN, AUDIT_SCREEN_LINE)

# ---------------------------------------------------------------------------------------------- screen.line
# A payment batch screened before it is paid (`hecha screen --batch`), in the screen's own screen.duckdb.

SCREEN_LINE = Table(
    "screen", "line", "one row per line of the batch file, read or not",
    (
        TableColumn("source_row", "integer", "the line's row number in the batch file (1 = the first data row)"),
        TableColumn("paid_month", "date", "发放年月, the 1st; null when it could not be read"),
        TableColumn("programme", "varchar", "项目 as a code: `dibao`, `tekun`, `living_subsidy`, `care_subsidy`; null when unreadable"),
        TableColumn("case_no", "varchar", "证号: the dibao case, tekun support or disability certificate the line pays against"),
        TableColumn("name", "varchar", "姓名 as the batch wrote it"),
        TableColumn("id_number", "varchar", "身份证号 normalized to 18 characters; null when not usable"),
        TableColumn("id_number_raw", "varchar", "身份证号 as the batch wrote it"),
        TableColumn("amount", "decimal(18,2)", "金额, yuan; null when it could not be read"),
        TableColumn("township", "varchar", "乡镇(街道) as the batch wrote it; the 拦截清单 is cut by it"),
        TableColumn("village", "varchar", "the payee's register village, when linked"),
        TableColumn("person_id", "varchar", "the payee the line is linked to (link.person_id of the night); null: nobody"),
        TableColumn("link_method", "varchar", "how: `night` (the night linked this identity), `exact`, `upgraded`; null: none"),
        TableColumn("link_confidence", "double", "how sure that link is, 0 to 1"),
        TableColumn("verdict", "varchar", "`block` (拦截), `hold` (暂缓) or `pass` (通过)"),
        TableColumn("reason_code", "varchar", "the reason that decided the verdict (screen/reasons.py); null when it passes"),
        TableColumn("reason", "varchar", "the Chinese label of every reason found, separated by ；"),
        TableColumn("evidence", "varchar", "the facts the verdict rests on, in Chinese (numbers unmasked: mask when shown)"),
        TableColumn("case_key", "varchar", "the verdict's key across screens, hashed with the deployment secret; null when it passes"),
    ),
    description="A screened batch, a verdict per line: `verdicts.csv` is this table; the 拦截清单 and the cleaned batch are cut from it.",
    primary_key=("source_row",),
)

# ---------------------------------------------------------------------------------------------- cfg.label

LABEL = Table(
    "cfg", "label", "one row per kind and code",
    (
        TableColumn("kind", "varchar", "what the code is a code of: `case_status`, `run_status`, `event_kind`, …"),
        TableColumn("code", "varchar", "the English code, as the tables hold it"),
        TableColumn("label", "varchar", "the Chinese label people read"),
    ),
    description="Labels of the codes hecha itself writes (checks/labels.py); the extracts' vocabularies are in stg.vocabulary.",
)

TABLES = (*LINK_TABLES, FINDING, *STATE_TABLES, *OUTCOME_TABLES, *SCREEN_HISTORY_TABLES, SCREEN_LINE, LABEL)
BY_NAME = {table.qualified_name: table for table in TABLES}


def render_table_docs() -> str:
    """docs/tables.md: each declared table, its grain and its columns."""
    lines = [
        "# Output tables",
        "",
        "Generated from `storage/tables.py` by `python -m hecha.storage.tables`; do not edit by hand.",
        "The tables one stage writes and another reads. `audit.*` live in an output folder's `audit.duckdb`",
        "and last across runs; the others are rebuilt in each run's `hecha.duckdb`.",
        "",
    ]
    for table in TABLES:
        lines += [f"## `{table.qualified_name}`", ""]
        if table.description:
            lines += [table.description, ""]
        lines.append(f"Grain: {table.grain}." + (f" Key: `{', '.join(table.primary_key)}`." if table.primary_key else ""))
        lines += ["", "| column | type | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{column.name}` | {column.sql_type} | {column.description} |" for column in table.columns]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_table_docs(), end="")
