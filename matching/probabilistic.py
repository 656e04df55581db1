"""Link the rows certain links could not: features, blocking, comparisons, EM, scores, decisions.

Each function here is one step of the `link` layer (matching/link.py
declares them): frames in, one frame out, no database. Records (candidate
rows grouped when identical: a payee's 24 monthly lines are one record) are
compared with candidate persons (the register's, and numbers no register
person holds) only inside blocks, so the candidate set stays small. The
model is trained on the data itself: u from random record × person pairs, m
started from rows certain links settled (known matches, numbers hidden) and
then fitted by EM on the candidate pairs. Each record keeps its best
candidate when its share of the posterior clears the link threshold; the
rest of the band goes to review with every candidate that competes for the
record, each with its own share. Candidates an inspector rejected are left
out before the shares are computed. One-to-one sources (a body is cremated
once) never give one person two records.

A well-formed number that no register person holds is a comparison here,
not an identity: its record is compared with register persons only, and the
number's likeness to each candidate's (one slip, two, a wrong division code,
a mistyped 15-digit number) weighs with name, sex, birth date and place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hecha.matching.compare import COMPARISONS, comparison_levels
from hecha.matching.fellegi_sunter import Model, estimate_u, level_frequencies, match_weights, probability, train
from hecha.matching.id_number import clean_id_number_text
from hecha.matching.names import name_pinyin

ONE_TO_ONE_SOURCES = ("cremation", "tekun")
# An uncertain record's other candidates are listed for review down to this share of its
# posterior (one in a hundred): less likely ones are no real choice for an inspector, and a
# common name in a large township would list dozens of them.
MIN_COMPETITOR_SHARE = 0.01
RANDOM_PAIRS = 100_000
RANDOM_SEED = 11
NAME = [c.name for c in COMPARISONS].index("name")
# What a record says about its person: identical values are one record.
FEATURES = ("name", "pinyin", "surname", "sex", "birth_date", "birth_year", "age_at_death", "death_date",
            "township", "village", "household_no", "id_text", "id_upgraded")
LEVEL_COLUMNS = tuple(f"{c.name}_level" for c in COMPARISONS)
# The share of a source's rows that are about register persons, as well-formed numbers show it,
# kept within these bounds: a source is never sure to be all register people.
REGISTER_SHARE_BOUNDS = (0.5, 0.95)


@dataclass(frozen=True)
class Thresholds:
    link: float  # below: not linked
    review: float  # below (but linked): a link to confirm


# ---------------------------------------------------------------- features


def place_in_address(addresses: pl.Series, places: pl.Series) -> pl.Series:
    """The longest known place name found inside each free-text address (cremation 户籍地址)."""
    unique = pl.DataFrame({"address": addresses.drop_nulls().unique()})
    names = pl.DataFrame({"place": places.drop_nulls().unique()})
    found = (
        unique.join(names, how="cross")
        .filter(pl.col("address").str.contains(pl.col("place"), literal=True))
        .sort([pl.col("place").str.len_chars(), pl.col("place")], descending=[True, False])
        .unique("address", keep="first", maintain_order=True)
    )
    return pl.DataFrame({"address": addresses}).join(found, on="address", how="left", maintain_order="left")["place"]


def describe_records(rows: pl.DataFrame, places: pl.DataFrame) -> pl.DataFrame:
    """`link.record`: each candidate row with what it says about its person, and its record key.

    `rows` are link.candidate_record's; `places` the townships and villages of
    candidate persons (a cremation address is read for them). Identical rows
    of one source share a record key; every training row is a record of its
    own, its number hidden (the model learns what agrees without it).
    """
    from_age = pl.concat_list([pl.col("death_date").dt.year() - pl.col("age_at_death") + k for k in (-1, 0, 1)])
    rows = rows.with_columns(
        pl.coalesce(pl.col("township"), place_in_address(rows["address"], places["township"])).alias("township"),
        pl.coalesce(pl.col("village"), place_in_address(rows["address"], places["village"])).alias("village"),
    )
    written = pl.coalesce(pl.col("id_number"), pl.Series(clean_id_number_text(rows["id_number_raw"])))
    described = rows.with_columns(
        name_pinyin(rows["name"]).alias("pinyin"),
        pl.col("name").str.slice(0, 1).alias("surname"),
        # an address naming no township or village of the county is someone from elsewhere
        (pl.col("address").is_not_null() & pl.col("township").is_null() & pl.col("village").is_null()).alias("outside_county"),
        # an age at death (often 虚岁) puts the birth in one of three years
        pl.when(pl.col("birth_date").is_not_null()).then(pl.concat_list(pl.col("birth_date").dt.year()))
        .otherwise(from_age).alias("birth_year"),
        pl.when(pl.col("is_training")).then(None).otherwise(written).alias("id_text"),
        (~pl.col("is_training") & (pl.col("id_number_status") == "upgraded")).alias("id_upgraded"),
        pl.col("head_household_no").alias("household_no"),
        pl.col("source").is_in(ONE_TO_ONE_SOURCES).alias("one_to_one"),
    )
    grouped = described.filter(~pl.col("is_training"))
    keyed = grouped.with_columns(pl.struct(*FEATURES, "source").rank("dense").cast(pl.Int64).alias("record_key"))
    training = described.filter(pl.col("is_training")).with_columns(
        (pl.int_range(1, pl.len() + 1) + keyed.height).cast(pl.Int64).alias("record_key")
    )
    return pl.concat([keyed, training]).select(
        "record_key", "source", "source_row", "role", "source_rank", "is_training", "person_id", "id_number",
        *[f for f in FEATURES if f not in ("id_text", "id_upgraded")], "id_text", "id_upgraded",
        "address", "outside_county", "one_to_one", "record_signature",
    ).sort("record_key", "source_rank", "source_row", "role")


def spell_names(names: pl.DataFrame) -> pl.DataFrame:
    """`link.name_pinyin`: each distinct name of a candidate person with its toneless pinyin (blocking and same-sound names)."""
    return names.select("name", name_pinyin(names["name"]).alias("pinyin"))


# ---------------------------------------------------------------- comparisons


def pair_frame(pairs: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Pairs with the record's fields `_l` and the person's `_r`, in the pairs' order."""
    fields = ["name", "pinyin", "sex", "birth_date", "township", "village", "household_no"]
    record_fields = [*fields, "age_at_death", "death_date", "id_text", "id_upgraded"]
    left = records.select("record_key", *record_fields).rename({f: f"{f}_l" for f in record_fields})
    person_fields = [*fields, "id_number", "person_status", "status_date"]
    right = persons.select("person_id", *person_fields).rename({f: f"{f}_r" for f in person_fields})
    return (
        pairs.select("record_key", "person_id")
        .join(left, on="record_key", how="left", maintain_order="left")
        .join(right, on="person_id", how="left", maintain_order="left")
    )


def distinct_records(records: pl.DataFrame) -> pl.DataFrame:
    return records.unique("record_key", keep="first", maintain_order=True)


def compare_pairs(pairs: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """`link.compared_pair`: every candidate pair's level on each comparison (null: a side lacks the field)."""
    levels = comparison_levels(pair_frame(pairs, distinct_records(records), persons))
    columns = {name: pl.Series(name, levels[:, k], dtype=pl.Int8) for k, name in enumerate(LEVEL_COLUMNS)}
    return pairs.select("record_key", "person_id").with_columns(
        pl.when(column >= 0).then(column).otherwise(None).alias(name) for name, column in columns.items()
    )


def level_matrix(compared: pl.DataFrame) -> np.ndarray:
    """Levels as the model reads them: an (n_pairs × n_comparisons) int8 matrix, -1 where a field is missing."""
    return np.column_stack([compared[name].fill_null(-1).to_numpy().astype(np.int8) for name in LEVEL_COLUMNS])


# ---------------------------------------------------------------- model


def random_pairs(records: pl.DataFrame, persons: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    picks = pl.DataFrame({
        "record_key": records["record_key"].gather(rng.integers(0, records.height, count)),
        "person_id": persons["person_id"].gather(rng.integers(0, persons.height, count)),
    })
    return pair_frame(picks, records, persons)


def fit_model(compared: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame, sample: pl.DataFrame,
              population: pl.DataFrame) -> pl.DataFrame:
    """`link.model`: m and u per comparison level, and the prior — learned from the drop itself.

    EM runs on the candidate pairs of the unlinked records and of known
    matches (training rows, numbers hidden), started from u of random record
    × person pairs (`sample`: candidate persons spread evenly, since person
    ids are keyed hashes) and m of the known matches (`persons` holds theirs);
    it re-estimates u too (ECM), because different people inside a block
    agree on the blocked fields. Scoring then uses EM's m with the
    random-pair u and prior (one true match among all `population` persons),
    as splink does: blocking only decides where to look, not how surprising
    an agreement is — so an address in another township counts fully
    against a link.
    """
    level_counts = [c.level_count for c in COMPARISONS]
    pool = distinct_records(records)
    size = int(population["persons"][0]) if population.height else 0
    if compared.is_empty() or pool.is_empty() or sample.is_empty():
        m = u = [np.full(n, 1.0 / n) for n in level_counts]
        return model_frame(Model(m=m, u=u, prior=0.5, iterations=0))
    u = estimate_u(comparison_levels(random_pairs(pool, sample, RANDOM_PAIRS, RANDOM_SEED)), level_counts)
    training = pool.filter(pl.col("is_training"))
    known = comparison_levels(pair_frame(training.select("record_key", "person_id"), pool, persons))
    m = [level_frequencies(known[:, k], n) for k, n in enumerate(level_counts)]
    prior = max(1e-4, min(0.5, pool.height / max(compared.height, 1)))
    fitted = train(level_matrix(compared), level_counts, u, m=m, prior=prior)
    # one true match among the persons; a register of one person is not a certainty
    return model_frame(Model(m=fitted.m, u=u, prior=min(0.5, 1.0 / max(size, 1)), iterations=fitted.iterations))


def model_frame(model: Model) -> pl.DataFrame:
    rows = [
        (comparison.name, level, comparison.labels[level], float(m[level]), float(u[level]),
         float(np.log2(m[level]) - np.log2(u[level])), model.prior, model.iterations)
        for comparison, m, u in zip(COMPARISONS, model.m, model.u)
        for level in range(comparison.level_count)
    ]
    return pl.DataFrame(rows, orient="row", schema={
        "comparison": pl.String, "level": pl.Int8, "label": pl.String, "m_probability": pl.Float64,
        "u_probability": pl.Float64, "weight": pl.Float64, "prior": pl.Float64, "em_iterations": pl.Int64,
    })


def read_model(frame: pl.DataFrame) -> Model:
    by_comparison = {name: frame.filter(pl.col("comparison") == name).sort("level") for name in (c.name for c in COMPARISONS)}
    return Model(
        m=[by_comparison[c.name]["m_probability"].to_numpy() for c in COMPARISONS],
        u=[by_comparison[c.name]["u_probability"].to_numpy() for c in COMPARISONS],
        prior=float(frame["prior"][0]) if frame.height else 0.5,
        iterations=int(frame["em_iterations"][0]) if frame.height else 0,
    )


# ---------------------------------------------------------------- scores


def name_frequency_u(pairs: pl.DataFrame, persons: pl.DataFrame, frequencies: pl.DataFrame) -> dict[int, tuple[int, np.ndarray]]:
    """u for an exact name agreement = how common the person's name is among candidate persons (link.name_frequency)."""
    # each person's share first, then one join of the (millions of) pairs
    person_shares = persons.select("person_id", "name").join(frequencies.select("name", "share"), on="name", how="left")
    tf = pairs.select("person_id").join(
        person_shares.select("person_id", "share"), on="person_id", how="left", maintain_order="left"
    )["share"]
    floor = float(frequencies["share"].min()) if frequencies.height else 1.0
    return {NAME: (3, tf.fill_null(floor).to_numpy())}


def register_log_odds(pairs: pl.DataFrame, records: pl.DataFrame, shares: pl.DataFrame) -> np.ndarray:
    """Prior log-odds, per pair, that the record is about some register person at all.

    The 1/N prior says which register person; whether the record is about one
    differs by source: nearly every ledger row is, while about one body in
    twelve cremated here was registered in another county (`shares`,
    link.register_share, learned from well-formed numbers).
    """
    low, high = REGISTER_SHARE_BOUNDS
    record_shares = distinct_records(records).select("record_key", "source").join(
        shares.select("source", "share"), on="source", how="left"
    )
    share = (
        pairs.select("record_key")
        .join(record_shares.select("record_key", "share"), on="record_key", how="left", maintain_order="left")
        .select(pl.col("share").fill_null(low).clip(low, high))
        .to_series()
    )
    return np.log2(share / (1 - share)).to_numpy()


def score_pairs(compared: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame, model: pl.DataFrame,
                taken: pl.DataFrame, excluded: pl.DataFrame, shares: pl.DataFrame, frequencies: pl.DataFrame) -> pl.DataFrame:
    """`link.scored_pair`: match weight and probability of every candidate pair of a record to link.

    Training records are left out (they only taught the model), and so are a
    person who already holds a certain row of the record's one-to-one source
    (`taken`: source, person_id) and `excluded` pairs (record_key,
    person_id), those an inspector said are not the same person.
    """
    to_link = distinct_records(records).filter(~pl.col("is_training")).select("record_key", "source")
    candidates = (
        compared.join(to_link, on="record_key", how="inner")
        .join(taken.select("source", "person_id"), on=["source", "person_id"], how="anti")  # only one-to-one sources are taken
        .join(excluded.select("record_key", "person_id"), on=["record_key", "person_id"], how="anti")
        .drop("source")
        .sort("record_key", "person_id")
    )
    weight, _ = match_weights(level_matrix(candidates), read_model(model), name_frequency_u(candidates, persons, frequencies))
    weight = weight + register_log_odds(candidates, records, shares)
    return candidates.select("record_key", "person_id").with_columns(
        pl.Series("match_weight", weight, dtype=pl.Float64), pl.Series("probability", probability(weight), dtype=pl.Float64),
    )


# ---------------------------------------------------------------- decisions


def explain(levels: np.ndarray, contributions: np.ndarray, shares: np.ndarray) -> pl.Series:
    """Splink-style waterfall in words, per line: each field's level and its weight in bits.

    `shares` are each candidate's share of the record's posterior (its
    confidence), not the pair's probability alone: of two equally good
    candidates each is 0.5, however alike each pair looks, and the words say
    so. A field's words are written once per distinct (level, weight), not
    once per line: a county's lines share a few hundred of them.
    """
    parts = []
    for k, comparison in enumerate(COMPARISONS):
        weights = np.ascontiguousarray(contributions[:, k])
        # distinct by the weight's bits: the words show it as Python formats that very float
        keys = np.column_stack([levels[:, k].astype(np.int64), weights.view(np.int64)])
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        words = pl.Series([
            f"{comparison.labels[level]}({weight:+.1f})" if level >= 0 else None
            for level, weight in zip(distinct[:, 0].tolist(), distinct[:, 1].view(np.float64).tolist())
        ], dtype=pl.String)
        parts.append(words.gather(inverse.reshape(-1)).alias(comparison.name))
    prefixes = pl.Series([f"概率匹配 {p:.3f}：" for p in shares.tolist()], dtype=pl.String)
    return pl.DataFrame([prefixes.alias("prefix"), *parts]).select(
        pl.concat_str(pl.col("prefix"), pl.concat_str([c.name for c in COMPARISONS], separator="、", ignore_nulls=True))
    ).to_series()


def comparison_vectors(levels: np.ndarray) -> pl.Series:
    """Each line's levels as text, comma-separated (-1: the field is missing)."""
    columns = [pl.Series(c.name, levels[:, k], dtype=pl.Int8).cast(pl.String) for k, c in enumerate(COMPARISONS)]
    return pl.DataFrame(columns).select(pl.concat_str([c.name for c in COMPARISONS], separator=",")).to_series()


def candidate_shares(scored: pl.DataFrame) -> pl.DataFrame:
    """Each candidate's share of its record's posterior, and its rank (1 = best) among the record's candidates.

    The posterior is over "this candidate" for each candidate and "none of
    them": candidate j gets 2^w_j / (1 + Σ 2^w_k). Two equally good candidates
    get 0.5 each (a little less: "none" keeps the rest); a runner-up twenty
    bits behind changes nothing. Computed relative to the best weight, so no
    power overflows. Ties in weight are ranked by person id.

    Only the candidates a decision can name are kept and ranked: the best, and
    every one weighing at least as much as the lightest with MIN_COMPETITOR_SHARE.
    That is a record's top candidates (ranks counted in full), so a county's
    millions of candidate pairs are not sorted to rank the few hundred thousand
    a decision reads.
    """
    best_weight = pl.col("match_weight").max().over("record_key")
    relative = pl.lit(2.0).pow(pl.col("match_weight") - best_weight)
    shared = scored.with_columns(
        (relative / (pl.lit(2.0).pow(-best_weight) + relative.sum().over("record_key"))).alias("confidence")
    )
    lightest = pl.col("match_weight").filter(pl.col("confidence") >= MIN_COMPETITOR_SHARE).min().over("record_key")
    return (
        shared.filter((pl.col("match_weight") >= lightest).fill_null(False) | (pl.col("match_weight") == best_weight))
        .sort(["record_key", "match_weight", "person_id"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("record_key").alias("candidate_rank"))
    )


def resolve(scored: pl.DataFrame, records: pl.DataFrame, thresholds: Thresholds) -> pl.DataFrame:
    """Best candidate per record, with its confidence; each one-to-one source claims a person once.

    Confidence is the best candidate's share of the posterior
    (`candidate_shares`). A record left uncertain (linked to confirm, or a
    close call left unlinked) also keeps every other candidate with at least
    MIN_COMPETITOR_SHARE, each with its own share and decision `review_only`
    (not linked, may be the one): an inspector chooses among all of them, not
    only the best.
    """
    ranked = candidate_shares(scored)
    best = ranked.filter(pl.col("candidate_rank") == 1).join(records.select("record_key", "source", "one_to_one"), on="record_key")
    # a body is cremated once and a person supported once: within each such source, not across them
    one_to_one = (
        best.filter(pl.col("one_to_one"))
        .sort(["confidence", "record_key"], descending=[True, False])
        .unique(["source", "person_id"], keep="first", maintain_order=True)
    )
    best = pl.concat([best.filter(~pl.col("one_to_one")), one_to_one]).drop("source").sort("record_key").with_columns(
        pl.when(pl.col("confidence") >= thresholds.review).then(pl.lit("linked"))
        .when(pl.col("confidence") >= thresholds.link).then(pl.lit("linked_to_confirm"))
        .when(pl.col("probability") >= thresholds.link).then(pl.lit("review_only"))
        .otherwise(pl.lit("unlinked"))
        .alias("decision")
    )
    uncertain = best.filter(pl.col("decision").is_in(["linked_to_confirm", "review_only"])).select("record_key")
    competitors = (
        ranked.filter((pl.col("candidate_rank") > 1) & (pl.col("confidence") >= MIN_COMPETITOR_SHARE))
        .join(uncertain, on="record_key", how="semi")
        .with_columns(pl.lit("review_only").alias("decision"))
    )
    return pl.concat([best.drop("one_to_one"), competitors], how="diagonal").sort("record_key", "candidate_rank")


def decide_records(scored: pl.DataFrame, compared: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame,
                   model: pl.DataFrame, frequencies: pl.DataFrame, identity_link_threshold: float,
                   identity_review_threshold: float) -> pl.DataFrame:
    """`link.probabilistic` (and `link.number_decision`): per record its best candidate and decision, and for
    uncertain records every competitor.

    Each line carries the comparison vector and the waterfall in words
    (`explain`) of its pair (`compared_person_id`'s, where one person stands
    for another: link.resolved_pair): a few lines per record, not every candidate.
    """
    schema = {"record_key": pl.Int64, "person_id": pl.String, "candidate_rank": pl.Int64, "match_weight": pl.Float64,
              "probability": pl.Float64, "confidence": pl.Float64, "decision": pl.String,
              "comparison_vector": pl.String, "explanation": pl.String}
    if scored.is_empty():
        return pl.DataFrame(schema=schema)
    if "compared_person_id" not in scored.columns:  # scored pairs as compared (no person stands for another)
        scored = scored.with_columns(pl.col("person_id").alias("compared_person_id"))
    decisions = resolve(scored, distinct_records(records), Thresholds(link=identity_link_threshold, review=identity_review_threshold))
    chosen = decisions.select("record_key", pl.col("compared_person_id").alias("person_id")).join(
        compared, on=["record_key", "person_id"], how="left", maintain_order="left"
    )
    levels = level_matrix(chosen)
    _, contributions = match_weights(levels, read_model(model), name_frequency_u(chosen, persons, frequencies))
    return decisions.with_columns(
        comparison_vectors(levels).alias("comparison_vector"),
        explain(levels, contributions, decisions["confidence"].to_numpy()).alias("explanation"),
    ).select(*schema)

