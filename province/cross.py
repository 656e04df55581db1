"""The cross-county stage: the checks no county can run alone, over every county's export.

`run_cross` reads the listed counties' exports from the shared store
(province/store.py: `province.paid`, `province.event`, `province.register`,
`province.county_export`), builds the shared facts and runs the three cross
checks into `province.finding`:

    province.unnumbered_comparison  cremation records without a number beside the persons they could be
                                    (sql/province/unnumbered_pair.sql; levels from matching/compare.py)
    province.unnumbered_match       those tied to one person another county pays (unnumbered_match.sql)
    province.line_after_event       the whole ledger against every event, on the number alone
    province.paid_event             each line paid after a death or move-out only another county records
    province.paid_after_event       per person and event: the money and the evidence
    province.finding                cross_deceased_paid, cross_moved_out_paid, cross_duplicate_benefit

Every rule is SQL (sql/province/, one SELECT per file, parameters from the
policy's `province:` and `identity:` sections); Python here only orders the
steps, runs the comparisons the county linker uses on the few candidate pairs
of unnumbered cremation records, and materialises. What does not belong
here: reading and writing the store (province/store.py), publishing the
findings (province/publish.py).
"""

from __future__ import annotations

import re
import time

import duckdb
import polars as pl

from hecha.checks.catalogue import CROSS_CATALOGUE
from hecha.checks.labels import install_labels
from hecha.config import flatten
from hecha.matching.compare import COMPARISONS, age_levels, equality_levels, name_levels
from hecha.province.store import SCHEMA, load_exports, verify_exports
from hecha.storage.layers import SQL_DIR, bind, read_sql, write_frame
from hecha.storage.masking import mask_text
from hecha.storage.secret import install_keyed_hash
from hecha.storage.tables import Table, TableColumn, ddl

PROVINCE_SQL = SQL_DIR / "province"
# The county macros the cross-county SQL reuses, read by name from sql/macros.sql (the rest of that
# file reads a run's stg.vocabulary, which the province has not got).
COUNTY_MACROS = ("label_of", "month_text", "yuan_text", "is_after_event", "months_text")
# The shared facts, in the order they are built (each reads only those before it and the exports).
FACTS = ("unnumbered_match", "line_after_event", "paid_event", "paid_after_event")
COMPARISON = f"{SCHEMA}.unnumbered_comparison"
LABELS = {comparison.name: comparison.labels for comparison in COMPARISONS}
# The levels of the county linker's comparisons (matching/compare.py) at which a cremation record
# without a number agrees with a person: the name written alike or alike in sound, the same sex, the
# age at death in full years or as 虚岁. Anything less is another person, or too uncertain to say.
AGREEING_LEVELS = {"name": LABELS["name"].index("姓名同音"), "sex": LABELS["sex"].index("性别一致"),
                   "age": LABELS["age"].index("死亡年龄为虚岁（多一岁）")}
SAME_NAME_LEVEL = LABELS["name"].index("姓名一致")

FINDING = Table(
    SCHEMA, "finding", "one row per cross-county finding: a check's rows for one paying county, person and other county",
    (
        TableColumn("check_code", "varchar", "the cross check that found it (checks/catalogue.py CROSS_CATALOGUE)"),
        TableColumn("county", "varchar", "the county that pays and receives the finding"),
        TableColumn("other_county", "varchar", "the county whose record shows the event or the other enrolment"),
        TableColumn("person_key", "varchar", "the person, keyed: HMAC-SHA256 of the number (else the payer's person id)"),
        TableColumn("id_number", "varchar", "normalized 18-character citizen number; null when none"),
        TableColumn("name", "varchar", "name, as the paying county holds it"),
        TableColumn("township", "varchar", "the paying county's township of the person"),
        TableColumn("village", "varchar", "the paying county's village of the person"),
        TableColumn("case_no", "varchar", "the paying county's case or certificate numbers, separated by 、"),
        TableColumn("period_start", "varchar", "first month concerned, YYYY-MM"),
        TableColumn("period_end", "varchar", "last month concerned, YYYY-MM"),
        TableColumn("overpaid_amount", "decimal(18,2)", "yuan the paying county paid that was not due"),
        TableColumn("backpay_amount", "decimal(18,2)", "yuan due and not paid (none for these checks)"),
        TableColumn("link_confidence", "double", "the least sure identity link the finding rests on, 0 to 1"),
        TableColumn("needs_confirmation", "boolean", "link_confidence below `identity.review_threshold`"),
        TableColumn("evidence", "varchar", "the records and facts the finding rests on, in Chinese; no birth date, no number"),
        TableColumn("case_key", "varchar", "HMAC-SHA256 of check, paying county, subject and other county: stable across runs"),
    ),
    description="The province's cross-county findings (province/cross.py `run_cross`).",
)
ORDER = "check_code, county, other_county, person_key, case_key"


def run_cross(con: duckdb.DuckDBPyConnection, store: str, counties: list[str], policy: dict, secret: bytes,
              timings: dict[str, float] | None = None) -> dict[str, int]:
    """Read the counties' exports from `store` and build `province.finding`; return findings per cross check.

    `secret` keys person and case keys (storage/secret.py; the province's
    own). `timings`, when given, receives seconds per step.
    """
    timings = {} if timings is None else timings
    catalog = con.execute("select current_database()").fetchall()[0][0]
    if catalog == SCHEMA:
        # SQL names province.paid; a database itself called province would make that ambiguous
        raise ValueError(f"the cross-county stage cannot run in a database named {SCHEMA!r} (e.g. {SCHEMA}.duckdb): "
                         "its tables live in the schema of that name; name the file otherwise")
    started = time.perf_counter()
    install_keyed_hash(con, secret)
    install_macros(con)
    records = load_exports(con, store, counties, policy["province"]["export_wait_seconds"])
    timings["load"] = time.perf_counter() - started
    parameters = flatten(policy)
    build_facts(con, parameters, timings)
    counts = run_checks(con, parameters, timings)
    started = time.perf_counter()
    verify_exports(con, store, records)
    timings["verify"] = time.perf_counter() - started
    return counts


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The labels (cfg.label), the county macros the cross SQL reuses, and sql/province/macros.sql, all TEMP."""
    install_labels(con)
    for statement in county_macros(COUNTY_MACROS):
        con.execute(statement)
    con.execute(name_agreement_macro())
    con.execute(read_sql(PROVINCE_SQL / "macros.sql"))


def county_macros(names: tuple[str, ...]) -> list[str]:
    """The `create or replace macro` statements of sql/macros.sql for `names`, made TEMP (nothing written to a file)."""
    text = re.sub(r"--[^\n]*", "", read_sql(SQL_DIR / "macros.sql"))
    statements = {}
    for statement in text.split(";"):
        found = re.match(r"\s*create or replace macro (\w+)", statement)
        if found:
            statements[found.group(1)] = statement.strip().replace("create or replace macro", "create or replace temp macro", 1)
    missing = [name for name in names if name not in statements]
    if missing:
        raise KeyError(f"sql/macros.sql: no macro {', '.join(missing)}")
    return [statements[name] for name in names]


def name_agreement_macro() -> str:
    """`name_agreement_text(...)`: how two names compare, in the county linker's words (matching/compare.py)."""
    labels = LABELS["name"]
    return (
        "create or replace temp macro name_agreement_text(name_l, pinyin_l, name_r, pinyin_r) as "
        f"case when name_l = name_r then '{labels[SAME_NAME_LEVEL]}' "
        f"when pinyin_l = pinyin_r then '{labels[AGREEING_LEVELS['name']]}' else '{labels[0]}' end"
    )


def build_facts(con: duckdb.DuckDBPyConnection, parameters: dict[str, object], timings: dict[str, float]) -> None:
    started = time.perf_counter()
    pairs = con.sql(read_sql(PROVINCE_SQL / "unnumbered_pair.sql")).pl()
    write_frame(con, COMPARISON, compare_unnumbered(pairs))
    timings[COMPARISON] = time.perf_counter() - started
    for table in FACTS:
        started = time.perf_counter()
        sql = read_sql(PROVINCE_SQL / f"{table}.sql")
        con.execute(f"create or replace table {SCHEMA}.{table} as {sql}", bind(sql, parameters, f"province/{table}.sql"))
        timings[f"{SCHEMA}.{table}"] = time.perf_counter() - started


def compare_unnumbered(pairs: pl.DataFrame) -> pl.DataFrame:
    """`province.unnumbered_comparison`: each candidate pair's name, sex and age levels, whether they agree, and why."""
    name, sex, age = name_levels(pairs), equality_levels("sex")(pairs), age_levels(pairs)
    compared = pairs.select(
        "event_county", "source", "source_row", "record_no", "funeral_home", "address", "event_month", "candidate_key",
        "paying_county", "person_id", "id_number", "township", "village",
    ).with_columns(
        name.alias("name_level"), sex.alias("sex_level"), age.alias("age_level"),
    )
    agrees = (
        (pl.col("name_level") >= AGREEING_LEVELS["name"])
        & (pl.col("sex_level") >= AGREEING_LEVELS["sex"])
        & (pl.col("age_level") >= AGREEING_LEVELS["age"])
    ).fill_null(False)
    return compared.with_columns(
        agrees.alias("agrees"),
        (pl.col("name_level") == SAME_NAME_LEVEL).fill_null(False).alias("is_same_name"),
        pl.concat_str(
            [level_text("name", "name_level"), level_text("sex", "sex_level"), level_text("age", "age_level")],
            separator="、",
        ).alias("agreement"),
    )


def level_text(comparison: str, column: str) -> pl.Expr:
    labels = LABELS[comparison]
    return pl.col(column).replace_strict(list(range(len(labels))), list(labels), default="", return_dtype=pl.String)


def run_checks(con: duckdb.DuckDBPyConnection, parameters: dict[str, object], timings: dict[str, float]) -> dict[str, int]:
    """Each cross check's rows into `province.finding` (months as YYYY-MM, amounts to the fen), in a fixed order."""
    con.execute(f"create schema if not exists {SCHEMA}")
    found = "province_found"
    con.execute(f"create or replace temp table {found} as select * from ({ddl_select(FINDING)}) limit 0")
    counts = {}
    for check in CROSS_CATALOGUE:
        started = time.perf_counter()
        sql = read_sql(PROVINCE_SQL / f"{check.code}.sql")
        statement = f"""
            insert into {found}
            select
                check_code, county, other_county, person_key, id_number, name, township, village, case_no,
                month_text(period_start), month_text(period_end),
                cast(overpaid_amount as decimal(18, 2)), cast(backpay_amount as decimal(18, 2)),
                link_confidence, link_confidence < $identity_review_threshold, evidence, case_key
            from ({sql})
        """
        con.execute(statement, bind(sql + " $identity_review_threshold", parameters, f"province/{check.code}.sql"))
        counts[check.code] = con.execute(f"select count(*) from {found} where check_code = ?", [check.code]).fetchall()[0][0]
        timings[check.code] = time.perf_counter() - started
    mask_evidence(con, found)
    con.execute(ddl(FINDING))
    con.execute(f"insert into {FINDING.qualified_name} select * from {found} order by {ORDER}")
    con.execute(f"drop table {found}")
    return counts


def mask_evidence(con: duckdb.DuckDBPyConnection, found: str) -> None:
    """Every citizen number inside evidence masked as inspectors see it (a certificate number embeds one).

    storage/masking.py is the one place that says what a number inside text is;
    findings are few, so each distinct evidence text passes through it once.
    """
    texts = con.sql(f"select distinct evidence from {found} where evidence is not null").pl()
    if texts.is_empty():
        return
    masked = texts.with_columns(pl.col("evidence").map_elements(mask_text, return_dtype=pl.String).alias("masked"))
    con.register("masked_evidence", masked.to_arrow())
    try:
        con.execute(f"update {found} set evidence = masked_evidence.masked from masked_evidence "
                    f"where {found}.evidence = masked_evidence.evidence")
    finally:
        con.unregister("masked_evidence")


def ddl_select(table: Table) -> str:
    """A SELECT of no rows with `table`'s columns and types."""
    return "select " + ", ".join(f"cast(null as {column.sql_type}) as {column.name}" for column in table.columns)
