"""Pair counts, false merges and planted-pair merges of bench/linkage.py, on frames small enough to count by hand.

Each row is one source row: (source, cluster, true_id); cluster None means
the method left the row unlinked, which matches nothing — not even another
unlinked row of the same person.
"""

import polars as pl
import pytest

from bench.linkage import (
    PairScore,
    attach_predictions,
    count_planted_pairs_merged,
    count_register_false_merges,
    score_source_pairs,
)

REGISTER, DIBAO, CREMATION, PAYMENTS = "household_register", "dibao", "cremation", "payments"
SOURCES = (REGISTER, DIBAO, CREMATION, PAYMENTS)


def frame(rows: list[tuple[str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.String, "cluster": pl.String, "true_id": pl.String}, orient="row")


# register rows H1..H3 and dibao rows D1..D3, one cremation row C1
SMALL = frame([
    (REGISTER, "a", "p1"),   # H1
    (REGISTER, "a", "p2"),   # H2: wrongly put with p1
    (REGISTER, "b", "p3"),   # H3
    (DIBAO, "a", "p1"),      # D1
    (DIBAO, None, "p3"),     # D2: left unlinked
    (DIBAO, "b", "p3"),      # D3
    (CREMATION, "c", "p2"),  # C1: in a cluster of its own
])

# payments repeat a person's row; products of counts, not counts, make the pairs
REPEATED = frame([
    (PAYMENTS, "x", "p1"), (PAYMENTS, "x", "p1"), (PAYMENTS, "x", "p1"),
    (PAYMENTS, "x", "p2"),
    (DIBAO, "x", "p1"), (DIBAO, "x", "p1"),
    (DIBAO, "y", "p1"),
])

PAIR_CASES = [
    # register × dibao: true pairs p1 1·1 + p3 1·2 = 3; predicted a 2·1 + b 1·1 = 3;
    # TP (a,p1) 1·1 + (b,p3) 1·1 = 2 → FP H2–D1, FN H3–D2
    ("register × dibao, one false merge and one unlinked row", SMALL, (REGISTER, DIBAO), (3, 3, 2)),
    # register × cremation: true H2–C1 only; C1's cluster c has no register row
    ("register × cremation, the only true pair missed", SMALL, (REGISTER, CREMATION), (1, 0, 0)),
    # dibao × cremation: no person in both, no cluster in both
    ("dibao × cremation, nothing to find", SMALL, (DIBAO, CREMATION), (0, 0, 0)),
    # dibao × payments (dibao first in SOURCES): true p1 3·3 = 9; predicted x 2·4 + y 1·0 = 8;
    # TP (x,p1) 2·3 = 6 → FP 2 (p2's payment with two dibao rows), FN 3 (y's row with three payments)
    ("dibao × payments, repeated rows multiply", REPEATED, (DIBAO, PAYMENTS), (9, 8, 6)),
]


@pytest.mark.parametrize(("description", "rows", "pair", "expected"), PAIR_CASES, ids=[c[0] for c in PAIR_CASES])
def test_score_source_pairs_counts_cross_source_pairs(description, rows, pair, expected):
    scores = {(s.source_l, s.source_r): s for s in score_source_pairs(rows, SOURCES)}
    score = scores[pair]
    assert (score.true_pairs, score.predicted_pairs, score.true_positives) == expected


def test_score_source_pairs_rates_from_counts():
    scores = {(s.source_l, s.source_r): s for s in score_source_pairs(SMALL, SOURCES)}
    register_dibao = scores[(REGISTER, DIBAO)]
    assert (register_dibao.false_positives, register_dibao.false_negatives) == (1, 1)
    assert register_dibao.precision == pytest.approx(2 / 3)
    assert register_dibao.recall == pytest.approx(2 / 3)
    assert register_dibao.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    register_cremation = scores[(REGISTER, CREMATION)]
    assert register_cremation.precision is None  # nothing predicted
    assert (register_cremation.recall, register_cremation.f1) == (0.0, 0.0)
    assert scores[(DIBAO, CREMATION)].f1 is None  # no pairs of any kind


def test_score_source_pairs_repeated_rows_rates():
    (score,) = [s for s in score_source_pairs(REPEATED, SOURCES) if (s.source_l, s.source_r) == (DIBAO, PAYMENTS)]
    assert (score.precision, score.recall) == (pytest.approx(6 / 8), pytest.approx(6 / 9))
    assert score.f1 == pytest.approx(12 / (12 + 2 + 3))


def test_score_source_pairs_lists_every_pair_once_then_the_total():
    scores = score_source_pairs(SMALL, SOURCES)
    assert [(s.source_l, s.source_r) for s in scores[:-1]] == [
        (REGISTER, DIBAO), (REGISTER, CREMATION), (REGISTER, PAYMENTS),
        (DIBAO, CREMATION), (DIBAO, PAYMENTS), (CREMATION, PAYMENTS),
    ]
    # same-source pairs (D2–D3, both p3) are not counted anywhere
    assert scores[-1] == PairScore("all pairs", "", 3 + 1, 3, 2)


def test_score_source_pairs_unlinked_rows_never_match_each_other():
    rows = frame([(REGISTER, None, "p1"), (DIBAO, None, "p1")])
    (score,) = [s for s in score_source_pairs(rows, SOURCES) if (s.source_l, s.source_r) == (REGISTER, DIBAO)]
    assert (score.true_pairs, score.predicted_pairs, score.true_positives) == (1, 0, 0)


def test_score_source_pairs_counts_beyond_32_bits():
    # 70 000 × 70 000 = 4.9e9 pairs of one person: products must not wrap
    rows = pl.concat([frame([(REGISTER, "a", "p1")] * 70_000), frame([(DIBAO, "a", "p1")] * 70_000)])
    (score,) = [s for s in score_source_pairs(rows, SOURCES) if (s.source_l, s.source_r) == (REGISTER, DIBAO)]
    assert score.true_positives == 4_900_000_000


FALSE_MERGE_CASES = [
    ("cluster a holds register rows of p1 and p2", SMALL, 1),
    ("unlinked register rows are no cluster", frame([(REGISTER, None, "p1"), (REGISTER, None, "p2")]), 0),
    ("a register person with a roster row of another is not a register merge",
     frame([(REGISTER, "a", "p1"), (DIBAO, "a", "p2")]), 0),
    ("two clusters, each with two register persons; one with one person twice",
     frame([(REGISTER, "a", "p1"), (REGISTER, "a", "p2"), (REGISTER, "b", "p3"), (REGISTER, "b", "p4"),
            (REGISTER, "c", "p5"), (REGISTER, "c", "p5")]), 2),
]


@pytest.mark.parametrize(("description", "rows", "expected"), FALSE_MERGE_CASES, ids=[c[0] for c in FALSE_MERGE_CASES])
def test_count_register_false_merges(description, rows, expected):
    assert count_register_false_merges(rows) == expected


def test_count_planted_pairs_merged_by_kind():
    pairs = pl.DataFrame(
        [("p1", "p2", "twins"), ("p3", "p4", "siblings_same_birth_year"), ("p2", "p3", "twins")],
        schema={"true_id_l": pl.String, "true_id_r": pl.String, "kind": pl.String}, orient="row",
    )
    rows = pl.concat([SMALL, frame([(REGISTER, None, "p4"), (DIBAO, "c", "p1")])])
    # p1–p2 share cluster a (and c, counted once); p3–p4: p4 unlinked; p2–p3: no shared cluster
    assert count_planted_pairs_merged(rows, pairs) == {"twins": (1, 2), "siblings_same_birth_year": (0, 1)}


def test_attach_predictions_leaves_unseen_rows_unlinked():
    truth = pl.DataFrame({"source": [REGISTER, REGISTER], "source_row": [1, 2], "true_id": ["p1", "p2"]})
    predicted = pl.DataFrame({"source": [REGISTER], "source_row": [2], "cluster": ["a"]})
    rows = attach_predictions(truth, predicted)
    assert rows.sort("source_row")["cluster"].to_list() == [None, "a"]
