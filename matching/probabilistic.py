"""Link the rows exact numbers could not: blocking, scoring, EM, resolution.

Records (source rows without a usable number, grouped when identical) are
compared with persons (one row each, the register's view of them) only
inside blocks, so the candidate set stays small. The model is trained on the
data itself: u from random record × person pairs, m started from the rows
exact numbers already linked (known matches, free labels) and then fitted by
EM on the candidate pairs. Each record keeps its best candidate when the
probability clears the link threshold and no second candidate is close; the
rest of the band goes to review, with every candidate that competes for the
record, each with its own share of the posterior, so an inspector can choose
among them. Candidates an inspector rejected are left out before the shares
are computed. One-to-one sources (a body is cremated once) never give one
person two records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from hecha.matching.compare import COMPARISONS, comparison_levels
from hecha.matching.fellegi_sunter import Model, estimate_u, level_frequencies, match_weights, probability, train

# Blocking rules: candidate pairs share every key of at least one rule.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("pinyin", "birth_year"),
    ("surname", "birth_date"),
    ("surname", "sex", "village", "birth_year"),  # a given name misspelt beyond its sound
    ("pinyin", "township"),
    ("id_head",),  # area + birth date of a mistyped number
    ("id_tail",),  # birth month, day, sequence and check character
)
ONE_TO_ONE_SOURCES = ("cremation", "tekun")
# An uncertain record's other candidates are listed for review down to this share of its
# posterior (one in a hundred): less likely ones are no real choice for an inspector, and a
# common name in a large township would list dozens of them.
MIN_COMPETITOR_SHARE = 0.01
RANDOM_PAIRS = 100_000
NAME = [c.name for c in COMPARISONS].index("name")


@dataclass(frozen=True)
class Thresholds:
    link: float  # below: not linked
    review: float  # below (but linked): a link to confirm


def blocking_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Key columns every rule needs; records carry several candidate birth years (age at death)."""
    return frame.with_columns(
        pl.col("id_text").str.slice(0, 14).alias("id_head"),
        pl.col("id_text").str.slice(10, 8).alias("id_tail"),
    )


def candidate_pairs(records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """(record_key, person_id) sharing all keys of some blocking rule.

    A record whose address lies outside the county is never a candidate for
    a register person: a same-name, same-age person who lived elsewhere is
    someone else, however alike the rest looks.
    """
    if "outside_county" in records.columns:
        outsiders = records.filter(pl.col("outside_county"))
        persons_elsewhere = persons.filter(~pl.col("in_register"))
        inside = candidate_pairs(records.filter(~pl.col("outside_county")).drop("outside_county"), persons)
        if outsiders.is_empty() or persons_elsewhere.is_empty():
            return inside
        return pl.concat([inside, candidate_pairs(outsiders.drop("outside_county"), persons_elsewhere)]).sort("record_key", "person_id")
    records = blocking_keys(records.explode("birth_year"))
    persons = blocking_keys(persons.rename({"id_number": "id_text"}))
    found = []
    for rule in BLOCKING_RULES:
        left = records.select("record_key", *rule).drop_nulls().unique()
        right = persons.select("person_id", *rule).drop_nulls()
        found.append(left.join(right, on=list(rule)).select("record_key", "person_id"))
    return pl.concat(found).unique().sort("record_key", "person_id")


def pair_frame(pairs: pl.DataFrame, records: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Candidate pairs with the record's fields `_l` and the person's `_r`."""
    fields = ["name", "pinyin", "sex", "birth_date", "township", "village", "household_no"]
    left = records.select("record_key", *fields, "age_at_death", "death_date", "id_text").rename(
        {f: f"{f}_l" for f in [*fields, "age_at_death", "death_date", "id_text"]}
    )
    person_fields = [*fields, "id_number", "person_status", "status_date"]
    involved = persons.join(pairs.select("person_id").unique(), on="person_id", how="semi")
    right = involved.select("person_id", *person_fields).rename({f: f"{f}_r" for f in person_fields})
    return pairs.join(left, on="record_key").join(right, on="person_id")


def name_frequency_u(pairs: pl.DataFrame, persons: pl.DataFrame) -> dict[int, tuple[int, np.ndarray]]:
    """u for an exact name agreement = how common the person's name is (term frequency)."""
    counts = persons.group_by("name").len().with_columns((pl.col("len") / persons.height).alias("tf"))
    tf = pairs.select("name_r").join(counts.rename({"name": "name_r"}), on="name_r", how="left", maintain_order="left")["tf"]
    return {NAME: (3, tf.fill_null(1 / persons.height).to_numpy())}


def random_pairs(records: pl.DataFrame, persons: pl.DataFrame, count: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    picks = pl.DataFrame({
        "record_key": records["record_key"].gather(rng.integers(0, records.height, count)),
        "person_id": persons["person_id"].gather(rng.integers(0, persons.height, count)),
    })
    return pair_frame(picks, records, persons)


def fit_model(pool_levels: np.ndarray, training: pl.DataFrame, pool: pl.DataFrame, persons: pl.DataFrame, seed: int = 11) -> Model:
    """m by EM on candidate pairs; u and the prior as for two records drawn at random.

    EM runs on the candidate pairs of the unlinked records and of known
    matches (`training`: rows exact numbers linked, numbers hidden), started
    from u of random record × person pairs and m of the known matches; it
    re-estimates u too (ECM), because different people inside a block agree
    on the blocked fields. Scoring then uses EM's m with the random-pair u and
    prior (one true match among all persons), as splink does: blocking only
    decides where to look, not how surprising an agreement is — so an
    address in another township counts fully against a link.
    """
    level_counts = [c.level_count for c in COMPARISONS]
    u = estimate_u(comparison_levels(random_pairs(pool, persons, RANDOM_PAIRS, seed)), level_counts)
    known = comparison_levels(pair_frame(training.select("record_key", "person_id"), training.drop("person_id"), persons))
    m = [level_frequencies(known[:, k], n) for k, n in enumerate(level_counts)]
    prior = max(1e-4, min(0.5, pool.height / max(len(pool_levels), 1)))
    fitted = train(pool_levels, level_counts, u, m=m, prior=prior)
    # one true match among the persons; a register of one person is not a certainty
    return Model(m=fitted.m, u=u, prior=min(0.5, 1.0 / persons.height), iterations=fitted.iterations)


def explain(levels: np.ndarray, contributions: np.ndarray, p: float) -> str:
    """Splink-style waterfall in words: each field's level and its weight in bits.

    `p` is the candidate's share of the record's posterior (its confidence), not
    the pair's probability alone: of two equally good candidates each is 0.5,
    however alike each pair looks, and the words say so.
    """
    parts = [
        f"{comparison.labels[level]}({contribution:+.1f})"
        for comparison, level, contribution in zip(COMPARISONS, levels, contributions)
        if level >= 0
    ]
    return f"概率匹配 {p:.3f}：" + "、".join(parts)


def candidate_shares(scored: pl.DataFrame) -> pl.DataFrame:
    """Each candidate's share of its record's posterior, and its rank (1 = best) among the record's candidates.

    The posterior is over "this candidate" for each candidate and "none of
    them": candidate j gets 2^w_j / (1 + Σ 2^w_k). Two equally good candidates
    get 0.5 each (a little less: "none" keeps the rest); a runner-up twenty
    bits behind changes nothing. Computed relative to the best weight, so no
    power overflows.
    """
    best_weight = pl.col("match_weight").max().over("record_key")
    relative = pl.lit(2.0).pow(pl.col("match_weight") - best_weight)
    return (
        scored.with_columns((relative / (pl.lit(2.0).pow(-best_weight) + relative.sum().over("record_key"))).alias("confidence"))
        .sort(["record_key", "match_weight", "person_id"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("record_key").alias("candidate_rank"))
    )


def resolve(scored: pl.DataFrame, records: pl.DataFrame, thresholds: Thresholds) -> pl.DataFrame:
    """Best candidate per record, with its confidence; one-to-one sources claim a person once.

    Confidence is the best candidate's share of the posterior
    (`candidate_shares`). A record left uncertain (linked to confirm, or a
    close call left unlinked) also keeps every other candidate with at least
    MIN_COMPETITOR_SHARE, each with its own share and decision `review_only`
    (not linked, may be the one): an inspector chooses among all of them, not
    only the best.
    """
    ranked = candidate_shares(scored)
    best = ranked.filter(pl.col("candidate_rank") == 1).join(records.select("record_key", "one_to_one"), on="record_key")
    one_to_one = (
        best.filter(pl.col("one_to_one"))
        .sort(["confidence", "record_key"], descending=[True, False])
        .unique("person_id", keep="first", maintain_order=True)
    )
    best = pl.concat([best.filter(~pl.col("one_to_one")), one_to_one]).sort("record_key").with_columns(
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


# The share of a source's rows that are about register persons, as exact numbers show it,
# kept within these bounds: a source is never sure to be all register people.
REGISTER_SHARE_BOUNDS = (0.5, 0.95)


def register_odds(records: pl.DataFrame, training: pl.DataFrame, persons: pl.DataFrame, candidates: pl.DataFrame) -> np.ndarray:
    """Prior log-odds, per candidate pair, that the record is about some register person at all.

    The 1/N prior says which register person; whether the record is about one
    differs by source: nearly every ledger row is, while about one body in
    twelve cremated here was registered in another county. Learned from the
    rows exact numbers linked; 0.5 (no change) where there are none.
    """
    low, high = REGISTER_SHARE_BOUNDS
    shares = (
        training.select("source", "person_id")
        .join(persons.select("person_id", "in_register"), on="person_id")
        .group_by("source")
        .agg(pl.col("in_register").cast(pl.Float64).mean().clip(low, high).alias("share"))
    )
    odds = (
        candidates.select("record_key")
        .join(records.select("record_key", "source"), on="record_key", how="left", maintain_order="left")
        .join(shares, on="source", how="left", maintain_order="left")
        .select((pl.col("share").fill_null(low) / (1 - pl.col("share").fill_null(low))).log(2))
    )
    return odds.to_series().to_numpy()


def link_records(records: pl.DataFrame, persons: pl.DataFrame, training: pl.DataFrame, thresholds: Thresholds,
                 rejected: pl.DataFrame | None = None) -> tuple[pl.DataFrame, dict]:
    """Score every candidate pair and decide per record; returns decisions and figures for the run record.

    `rejected` (record_key, person_id): pairs an inspector said are not the
    same person. They are no candidates, so the record's posterior is shared
    among the others (one of two namesakes rejected leaves the other alone).
    Decisions hold one row per record (`candidate_rank` 1) and, for records
    left uncertain, one per competing candidate.
    """
    if records.is_empty():
        return pl.DataFrame(schema={"record_key": pl.Int64, "person_id": pl.String}), {"records": 0, "candidate_pairs": 0}
    # the pool: records to link, and known matches with their numbers hidden (they train the model)
    known_records = training.drop("person_id").with_columns(pl.lit(None, dtype=pl.String).alias("id_text"))
    pool = pl.concat([records, known_records], how="diagonal_relaxed")
    pool_pairs = pair_frame(candidate_pairs(pool, persons), pool, persons).with_row_index("pool_index")
    pool_levels = comparison_levels(pool_pairs)
    model = fit_model(pool_levels, training, pool, persons)
    # a person already holding an exact row of a one-to-one source cannot take another
    taken = records.filter(pl.col("one_to_one")).select("record_key", "source").join(
        training.select("source", "person_id").unique(), on="source"
    ).select("record_key", "person_id")
    if rejected is not None:
        taken = pl.concat([taken, rejected.select("record_key", "person_id")])
    candidates = (
        pool_pairs.join(records.select("record_key"), on="record_key", how="semi")
        .join(taken, on=["record_key", "person_id"], how="anti")
        .sort("pool_index")
    )
    levels = pool_levels[candidates["pool_index"].to_numpy()]
    weight, contributions = match_weights(levels, model, name_frequency_u(candidates, persons))
    weight = weight + register_odds(records, training, persons, candidates)
    p = probability(weight)
    scored = candidates.select("record_key", "person_id").with_columns(
        pl.Series("probability", p), pl.Series("match_weight", weight), pl.int_range(0, len(p)).alias("pair_index"),
    )
    decisions = resolve(scored, records, thresholds)
    # words only for the pairs that were decided: a few per record, not every candidate
    chosen = decisions["pair_index"].to_numpy()
    shares = decisions["confidence"].to_numpy()
    decisions = decisions.with_columns(
        pl.Series("explanation", [explain(levels[i], contributions[i], share) for i, share in zip(chosen, shares)],
                  dtype=pl.String),
        pl.Series("comparison_vector", [",".join(map(str, levels[i])) for i in chosen], dtype=pl.String),
    )
    figures = {
        "records": records.height,
        "candidate_pairs": candidates.height,
        "training_pairs": pool_pairs.height,
        "em_iterations": model.iterations,
        "prior": round(model.prior, 6),
        "m": {c.name: [round(x, 4) for x in m] for c, m in zip(COMPARISONS, model.m)},
        "u": {c.name: [round(x, 4) for x in u] for c, u in zip(COMPARISONS, model.u)},
        "decisions": dict(
            decisions.filter(pl.col("candidate_rank") == 1).group_by("decision").len().sort("decision").iter_rows()
        ),
        "competing_candidates": decisions.filter(pl.col("candidate_rank") > 1).height,
    }
    return decisions, figures
