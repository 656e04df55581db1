"""The Fellegi–Sunter model: m/u probabilities, EM, match weights.

Levels come in as an (n_pairs × n_comparisons) int8 matrix (-1 = field
missing, contributing nothing). m — how often a level occurs for the same
person — u — for two different people — and the share of matches are
estimated by EM on the candidate pairs, as the recordlinkage toolkit's ECM
does: u has to describe different people *inside a block*, who agree on the
blocked fields by construction, so u from random pairs only starts it.
Names get term-frequency u values: two records agreeing on 王伟 is weaker
evidence than agreeing on 卓玛. Everything is numpy over whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMOOTHING = 1.0  # Laplace pseudo-count per level: no level is ever impossible
FLOOR = 1e-6


@dataclass
class Model:
    m: list[np.ndarray]  # per comparison, P(level | same person)
    u: list[np.ndarray]  # per comparison, P(level | different people)
    prior: float  # P(same person) among candidate pairs
    iterations: int = 0


def level_frequencies(levels: np.ndarray, level_count: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of each level among the pairs where the field is present (smoothed)."""
    present = levels >= 0
    counts = np.bincount(levels[present], weights=None if weights is None else weights[present], minlength=level_count)
    counts = counts[:level_count].astype(float) + SMOOTHING
    return np.maximum(counts / counts.sum(), FLOOR)


def estimate_u(levels: np.ndarray, level_counts: list[int]) -> list[np.ndarray]:
    """u from pairs of (almost surely) different people, e.g. random record × person pairs."""
    return [level_frequencies(levels[:, k], n) for k, n in enumerate(level_counts)]


def initial_m(level_counts: list[int]) -> list[np.ndarray]:
    """Same person: mostly the top level. EM moves it from there."""
    m = []
    for n in level_counts:
        weights = np.geomspace(1, 50, n)
        m.append(weights / weights.sum())
    return m


def log2_ratio_matrix(levels: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], u_override: dict[int, tuple[int, np.ndarray]] | None = None) -> np.ndarray:
    """Per pair and comparison, log2(m/u) of the observed level (0 where missing)."""
    contributions = np.empty(levels.shape, dtype=float)
    for k in range(levels.shape[1]):
        column = levels[:, k]
        # a missing field (-1) reads the table's last entry, 0: one lookup per pair, no mask
        ratio = np.append(np.log2(m[k]) - np.log2(u[k]), 0.0)
        contributions[:, k] = ratio[column]
        if u_override and k in u_override:
            level, u_values = u_override[k]
            hit = column == level
            contributions[hit, k] = np.log2(m[k][level]) - np.log2(np.maximum(u_values[hit], FLOOR))
    return contributions


def distinct_patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `levels` and how often each occurs (rows packed into one integer to sort)."""
    base = int(levels.max(initial=0)) + 2  # levels run from -1
    codes = np.zeros(len(levels), dtype=np.int64)
    for k in range(levels.shape[1]):
        codes = codes * base + (levels[:, k].astype(np.int64) + 1)
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return levels[first], counts.astype(float)


def train(levels: np.ndarray, level_counts: list[int], u: list[np.ndarray], *, m: list[np.ndarray] | None = None,
          prior: float = 0.05, iterations: int = 60, tolerance: float = 1e-5) -> Model:
    """EM for m, u and the prior from starting values (conditional independence between comparisons).

    Pairs with the same levels are the same observation: EM runs on the
    distinct patterns weighted by how often each occurs (a few thousand
    patterns however many millions of pairs).
    """
    patterns, counts = distinct_patterns(levels)
    m = [x.copy() for x in (m or initial_m(level_counts))]
    u = [x.copy() for x in u]
    done = 0
    for done in range(1, iterations + 1):
        weight = log2_ratio_matrix(patterns, m, u).sum(axis=1) + np.log2(prior / (1 - prior))
        posterior = 1.0 / (1.0 + np.exp2(-weight))
        new_m = [level_frequencies(patterns[:, k], n, posterior * counts) for k, n in enumerate(level_counts)]
        new_u = [level_frequencies(patterns[:, k], n, (1.0 - posterior) * counts) for k, n in enumerate(level_counts)]
        new_prior = float(np.clip((posterior * counts).sum() / counts.sum(), 1e-6, 1 - 1e-6))
        change = max(float(np.abs(a - b).max()) for a, b in zip(new_m + new_u, m + u))
        m, u, prior = new_m, new_u, new_prior
        if change < tolerance:
            break
    return Model(m=m, u=u, prior=prior, iterations=done)


def match_weights(levels: np.ndarray, model: Model, u_override: dict[int, tuple[int, np.ndarray]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(total match weight in bits incl. the prior, per-comparison contributions) per pair."""
    contributions = log2_ratio_matrix(levels, model.m, model.u, u_override)
    prior = np.log2(model.prior / (1 - model.prior))
    return contributions.sum(axis=1) + prior, contributions


def probability(weight: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-weight))
