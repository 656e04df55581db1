"""The linkers hecha is measured against in `bench/linkage.py`: Splink 5, recordlinkage, an exact join.

What belongs here: the one input every competitor reads — `bench.identity_rows`
(one row per source row, the person on the row) and `bench.identity` (one
record per distinct identity tuple) built from the normalized stg tables —
and one runner per competitor that returns a cluster per record. What does
not: hecha's own linker, timing and memory, and scoring (all in
`bench/linkage.py`).

Rows of one source whose compared fields are all identical become one record
before any competitor sees them (a payment ledger repeats its payee line every
month: 20 lines a payee on average). Identical rows get identical comparison
vectors, so this changes which pairs are compared, not how any pair is scored;
without it Splink and recordlinkage spend most of their time comparing a
payee's monthly lines with each other. Rows of different sources stay apart,
so the pairs that EM trains on still include the ones agreeing on everything.

Splink is an optional dependency (`pip install -c requirements.lock -e '.[bench]'`);
it is imported inside its runner so the rest runs without it.
"""

from __future__ import annotations

import duckdb
import polars as pl

from hecha.extracts.declarations import CREMATION, EXTRACTS, HOUSEHOLD_REGISTER
from hecha.matching.names import name_pinyin

# Compared fields of a record; rows of one source equal on all of them are one record.
IDENTITY_COLUMNS = (
    "source", "name", "name_pinyin", "sex", "birth_date", "birth_year", "township", "village", "id_number", "has_valid_id_number",
)

# Full-width digits and X typed on a Chinese input method; spaces (U+3000 too)
# are export noise. Applied only where the number did not normalize.
_FULL_WIDTH = "０１２３４５６７８９Ｘｘx"
_ASCII = "0123456789XXX"


def _source_select(stem: str, columns: set[str]) -> str:
    """The person on each row of one source, in the shape every source shares."""

    def pick(column: str, cast: str) -> str:
        return f"cast({column} as {cast})" if column in columns else f"cast(null as {cast})"

    cleaned_raw = f"nullif(upper(translate(regexp_replace(id_number_raw, '[\\s\\x{{3000}}]', '', 'g'), '{_FULL_WIDTH}', '{_ASCII}')), '')"
    if stem == CREMATION.stem:
        # no birth date on a cremation record: death year minus the age is the
        # birth year give or take one (ages are often 虚岁, one above full age)
        birth_year = "year(death_date) - age_at_death"
        place = "address_place.township, address_place.village"
        joins = "left join address_place using (source_row)"
    else:
        birth_year = "year(birth_date)" if "birth_date" in columns else "cast(null as integer)"
        place = f"{pick('township', 'varchar')} as township, {pick('village', 'varchar')} as village"
        joins = ""
    return (
        f"select '{stem}' as source, source_row, name, {pick('sex', 'varchar')} as sex, "
        f"{pick('birth_date', 'date')} as birth_date, cast({birth_year} as integer) as birth_year, {place}, "
        f"coalesce(id_number, {cleaned_raw}) as id_number, id_number is not null as has_valid_id_number, "
        f"id_number as id_number_normalized "
        f"from stg.{stem} {joins}"
    )


# Cremation rows carry a free-text 户籍地址 (清河县连庄镇北李洼村): the township
# is the register township named in it, the village what follows.
ADDRESS_PLACE_SQL = f"""
with addresses as (
    select source_row, address from stg.{CREMATION.stem} where address is not null
),

townships as (
    select distinct township from stg.{HOUSEHOLD_REGISTER.stem} where township is not null
),

named as (
    select
        addresses.source_row,
        townships.township,
        nullif(split_part(addresses.address, townships.township, 2), '') as village,
        row_number() over (partition by addresses.source_row order by length(townships.township) desc) as rank
    from addresses
    inner join townships
        on contains(addresses.address, townships.township)
)

select source_row, township, village from named where rank = 1
"""


def build_identity_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Write `bench.identity_rows` (source, source_row, record_id, id_number_normalized) and `bench.identity`.

    Reads the normalized stg tables (after `normalize_identities`). `id_number`
    is the normalized number where there is one, else the raw number cleaned
    of spaces and full-width forms (so an edit distance can still see a typo);
    `id_number_normalized` is only the former.
    """
    con.execute("create schema if not exists bench")
    con.execute(f"create or replace temp table address_place as {ADDRESS_PLACE_SQL}")
    selects = []
    for extract in EXTRACTS:
        columns = {c.name for c in extract.columns}
        selects.append(_source_select(extract.stem, columns))
    con.execute(f"create or replace temp table source_identity as {' union all '.join(selects)}")
    names = con.sql("select distinct name from source_identity where name is not null").pl()["name"]
    pinyin = pl.DataFrame({"name": names, "name_pinyin": name_pinyin(names)})
    con.register("pinyin_map", pinyin.to_arrow())
    keys = ", ".join(f"rows.{c}" if c != "name_pinyin" else "pinyin_map.name_pinyin" for c in IDENTITY_COLUMNS)
    try:
        # dense_rank over every compared column: rows equal on all of them
        # (nulls included) share a record_id
        con.execute(
            f"""
            create or replace table bench.identity_rows as
            select rows.*, pinyin_map.name_pinyin, dense_rank() over (order by {keys}) as record_id
            from source_identity as rows
            left join pinyin_map
                on rows.name = pinyin_map.name
            """
        )
    finally:
        con.unregister("pinyin_map")
    con.execute(
        f"create or replace table bench.identity as "
        f"select distinct record_id as unique_id, {', '.join(IDENTITY_COLUMNS)} from bench.identity_rows order by unique_id"
    )
    con.execute("drop table source_identity")
    con.execute("drop table address_place")
    rows, records = con.execute("select (select count(*) from bench.identity_rows), count(*) from bench.identity").fetchall()[0]
    return {"rows": rows, "records": records}


# --- naive exact join ------------------------------------------------------------


def cluster_by_exact_number(rows: pl.DataFrame) -> pl.DataFrame:
    """The pre-fuzzy baseline: rows with the same normalized citizen number are one person.

    `rows` holds source, source_row, id_number_normalized; a row without a
    normalized number stays unlinked (cluster null).
    """
    return rows.select("source", "source_row", pl.col("id_number_normalized").alias("cluster"))


# --- Splink 5 ----------------------------------------------------------------------

SPLINK_PREDICT_THRESHOLD = 0.5  # pairs kept from predict()
# edges connected by clustering: hecha's policy review_threshold, the
# probability at which hecha holds a link to be a fact
SPLINK_CLUSTER_THRESHOLD = 0.95
SPLINK_U_SAMPLE_PAIRS = 2e6
SPLINK_ID_NEAR_U = 1 / SPLINK_U_SAMPLE_PAIRS


def splink_settings():
    """The Splink model: blocking rules, comparisons and their levels (see the module docstring of bench/linkage.py)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="姓名：同字 / 同音 / 拼音相近",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.ExactMatchLevel("name_pinyin"),
            cll.JaroWinklerLevel("name_pinyin", 0.9),
            cll.ElseLevel(),
        ],
    )
    birth = cl.CustomComparison(
        output_column_name="birth",
        comparison_description="出生日期：同日 / 相差一月内 / 同年 / 相差一年",
        comparison_levels=[
            cll.CustomLevel("birth_year_l is null or birth_year_r is null", "出生年份缺失").configure(is_null_level=True),
            cll.CustomLevel("birth_date_l = birth_date_r", "出生日期一致"),
            cll.CustomLevel("abs(date_diff('day', birth_date_l, birth_date_r)) <= 31", "出生日期相差一月内"),
            cll.CustomLevel("birth_year_l = birth_year_r", "出生年份一致"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "出生年份相差一年"),
            cll.ElseLevel(),
        ],
    )
    # payments carry no village: "same township, village unknown" is its own
    # level, not lumped with "same township, another village"
    place = cl.CustomComparison(
        output_column_name="place",
        comparison_description="住址：同村 / 同乡镇（村不详）/ 同乡镇不同村",
        comparison_levels=[
            cll.NullLevel("township"),
            cll.CustomLevel("township_l = township_r and village_l = village_r", "同乡镇同村"),
            cll.CustomLevel("township_l = township_r and (village_l is null or village_r is null)", "同乡镇，村不详"),
            cll.ExactMatchLevel("township"),
            cll.ElseLevel(),
        ],
    )
    # Two numbers that both pass the GB 11643 check and differ are two people:
    # people born on one day in one county differ only in the last four
    # characters, so an edit distance of two between valid numbers is common
    # and means nothing. A mistyped number fails its check.
    id_number = cl.CustomComparison(
        output_column_name="id_number",
        comparison_description="身份证号：一致 / 一方校验不通过且相差至多两位",
        comparison_levels=[
            cll.NullLevel("id_number"),
            cll.ExactMatchLevel("id_number"),
            # random sampling never meets this level (a typo within two edits
            # of a stranger's number): u is set, of the order 1 / max_pairs
            cll.CustomLevel(
                "not (has_valid_id_number_l and has_valid_id_number_r) and levenshtein(id_number_l, id_number_r) <= 2",
                "一方校验不通过，相差至多两位",
            ).configure(u_probability=SPLINK_ID_NEAR_U, fix_u_probability=True),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[name, birth, cl.ExactMatch("sex"), place, id_number],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name_pinyin", "birth_year"),
            block_on("name_pinyin", "township"),
            block_on("birth_date", "township"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def cluster_with_splink(con: duckdb.DuckDBPyConnection, table: str = "identity") -> pl.DataFrame:
    """Train, predict and cluster `table` (the `bench.identity` columns) with Splink 5 on DuckDB.

    Returns unique_id → cluster_id for every record.
    """
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(table), splink_settings(), log_level=None)
    # λ from the same-number rule; its recall is a guess: it misses every
    # match whose number is blank or mistyped
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=SPLINK_U_SAMPLE_PAIRS, seed=1)
    # each EM pass estimates the m values of the comparisons its rule leaves free
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_pinyin", "birth_year"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date", "township"))
    predictions = linker.inference.predict(threshold_match_probability=SPLINK_PREDICT_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, SPLINK_CLUSTER_THRESHOLD)
    return pl.from_arrow(clusters.as_pyarrow_table()).select("unique_id", pl.col("cluster_id").cast(pl.String))


# --- recordlinkage -----------------------------------------------------------------

RECORDLINKAGE_BLOCKS = (("id_number",), ("name_pinyin", "birth_year"), ("name_pinyin", "township"), ("birth_date", "township"))


def cluster_with_recordlinkage(identity: pl.DataFrame) -> pl.DataFrame:
    """Block, compare and classify with the recordlinkage toolkit (ECM); clusters are connected components.

    The same blocking keys as Splink. ECM models each feature as agree /
    disagree, independent given match status, so a field is compared once:
    birth year (approximate, only cremation rows lack the date) and village
    (nested in township) are left out, where they would count the same
    evidence twice. Returns unique_id → cluster_id for every record.
    """
    import warnings

    import numpy as np
    import recordlinkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    warnings.filterwarnings("ignore", category=RuntimeWarning)  # log(0) of never-seen feature values inside ECM
    frame = identity.to_pandas().set_index("unique_id")
    indexer = recordlinkage.Index()
    for keys in RECORDLINKAGE_BLOCKS:
        indexer.block(list(keys))
    candidates = indexer.index(frame)
    compare = recordlinkage.Compare()
    compare.exact("name", "name", label="name")
    compare.string("name_pinyin", "name_pinyin", method="jarowinkler", threshold=0.9, label="name_pinyin")
    compare.exact("birth_date", "birth_date", label="birth_date")
    compare.exact("sex", "sex", label="sex")
    compare.exact("township", "township", label="township")
    compare.exact("id_number", "id_number", label="id_number")
    # normalized Levenshtein similarity: two edits in 18 characters is 0.889
    compare.string("id_number", "id_number", method="levenshtein", threshold=0.85, label="id_number_close")
    features = compare.compute(candidates, frame).astype(int)
    # as in Splink: close numbers are evidence only when one fails its check
    valid = frame["has_valid_id_number"].astype(bool)
    both_valid = valid.loc[candidates.get_level_values(0)].to_numpy() & valid.loc[candidates.get_level_values(1)].to_numpy()
    features.loc[both_valid, "id_number_close"] = 0
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    ids = frame.index.to_numpy()
    position = {uid: i for i, uid in enumerate(ids)}
    left = np.fromiter((position[a] for a, _ in matches), dtype=np.int64, count=len(matches))
    right = np.fromiter((position[b] for _, b in matches), dtype=np.int64, count=len(matches))
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=False)
    return pl.DataFrame({"unique_id": ids, "cluster_id": labels.astype(str)})
