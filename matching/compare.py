"""Field comparisons for probabilistic linking, each with Chinese level labels.

A comparison turns a frame of candidate pairs (record columns `_l`, person
columns `_r`) into one small integer per pair — its level, highest = most
alike, null when either side lacks the field (then it says nothing either
way). String similarities come from rapidfuzz over whole columns
(`process.cpdist`), never a Python loop per pair, and only for the pairs
whose level they decide. Labels are what evidence
text shows, as splink labels its comparison levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

# Rosters often record the lunar birthday (农历生日) as if it were a solar
# date; the two lie up to about 50 days apart, in either direction once a
# clerk has converted the wrong way.
LUNAR_BIRTHDAY_DAYS = 50
NAME_SIMILAR = 0.85  # Jaro-Winkler on normalized names: one character off in a 3-character name


@dataclass(frozen=True)
class Comparison:
    name: str
    labels: tuple[str, ...]  # index = level; the last is the most alike
    compute: Callable[[pl.DataFrame], pl.Series]

    @property
    def level_count(self) -> int:
        return len(self.labels)


def pairwise(left: pl.Series, right: pl.Series, scorer, where: pl.Series, fill: float = 0, **options) -> np.ndarray:
    """rapidfuzz score of left[i] against right[i] where `where[i]` holds, `fill` elsewhere.

    Only the pairs whose level the score can change are scored: at county scale
    most pairs are settled by equality first (same name, same sound).
    """
    scores = np.full(len(left), fill, dtype=float)
    chosen = where.fill_null(False)
    if chosen.any():
        scores[chosen.to_numpy()] = process.cpdist(
            left.filter(chosen).to_list(), right.filter(chosen).to_list(), scorer=scorer, workers=1, **options
        )
    return scores


def both_present(pairs: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(f"{column}_l").is_not_null() & pl.col(f"{column}_r").is_not_null()


def name_levels(pairs: pl.DataFrame) -> pl.Series:
    present = pairs["name_l"].is_not_null() & pairs["name_r"].is_not_null()
    # the score decides only between names neither equal nor of the same sound
    undecided = present & (pairs["name_l"] != pairs["name_r"]) & (pairs["pinyin_l"] != pairs["pinyin_r"]).fill_null(True)
    similarity = pairwise(pairs["name_l"], pairs["name_r"], JaroWinkler.normalized_similarity, undecided)
    return pairs.select(
        pl.when(~both_present(pairs, "name")).then(None)
        .when(pl.col("name_l") == pl.col("name_r")).then(3)
        .when(pl.col("pinyin_l") == pl.col("pinyin_r")).then(2)  # same sound: 王丽 / 王莉
        .when(pl.lit(similarity) >= NAME_SIMILAR).then(1)
        .otherwise(0)
        .cast(pl.Int8)
    ).to_series()


def birth_levels(pairs: pl.DataFrame) -> pl.Series:
    days = (pl.col("birth_date_l") - pl.col("birth_date_r")).dt.total_days().abs()
    return pairs.select(
        pl.when(~both_present(pairs, "birth_date")).then(None)
        .when(days == 0).then(3)
        .when(days <= LUNAR_BIRTHDAY_DAYS).then(2)
        .when(pl.col("birth_date_l").dt.year() == pl.col("birth_date_r").dt.year()).then(1)
        .otherwise(0)
        .cast(pl.Int8)
    ).to_series()


def full_age(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Completed years on a date."""
    had_birthday = (on.dt.month() > birth.dt.month()) | ((on.dt.month() == birth.dt.month()) & (on.dt.day() >= birth.dt.day()))
    return on.dt.year() - birth.dt.year() - pl.when(had_birthday).then(0).otherwise(1)


def where_known(known: pl.Series, pairs: pl.DataFrame, compute: Callable[[pl.DataFrame], pl.Series]) -> pl.Series:
    """`compute` over the pairs `known` marks, null elsewhere: a cremation field is absent from most pairs."""
    levels = pl.repeat(None, pairs.height, dtype=pl.Int8, eager=True)
    chosen = known.fill_null(False)
    if not chosen.any():
        return levels
    return levels.scatter(chosen.arg_true(), compute(pairs.filter(chosen)))


def age_levels(pairs: pl.DataFrame) -> pl.Series:
    """Cremation records give an age at death, often as 虚岁 (one more than full years)."""
    known = pairs["age_at_death_l"].is_not_null() & pairs["death_date_l"].is_not_null() & pairs["birth_date_r"].is_not_null()
    return where_known(known, pairs, known_age_levels)


def known_age_levels(pairs: pl.DataFrame) -> pl.Series:
    age = full_age(pl.col("birth_date_r"), pl.col("death_date_l"))
    given = pl.col("age_at_death_l")
    return pairs.select(
        pl.when(given.is_null() | pl.col("death_date_l").is_null() | pl.col("birth_date_r").is_null()).then(None)
        .when(given == age).then(3)
        .when(given == age + 1).then(2)
        .when((given - age).abs() <= 2).then(1)
        .otherwise(0)
        .cast(pl.Int8)
    ).to_series()


def death_levels(pairs: pl.DataFrame) -> pl.Series:
    """A cremation record against the register's own word on the person: dead when, or still 正常."""
    return where_known(pairs["death_date_l"].is_not_null() & pairs["person_status_r"].is_not_null(), pairs, known_death_levels)


def known_death_levels(pairs: pl.DataFrame) -> pl.Series:
    days = (pl.col("death_date_l") - pl.col("status_date_r")).dt.total_days().abs()
    dead = pl.col("person_status_r") == "dead"
    return pairs.select(
        pl.when(pl.col("death_date_l").is_null() | pl.col("person_status_r").is_null()).then(None)
        .when(dead & (days <= 7)).then(3)
        .when(dead & (days <= 90)).then(2)
        .when(pl.col("person_status_r") == "normal").then(1)  # the register is often updated late
        .otherwise(0)
        .cast(pl.Int8)
    ).to_series()


def equality_levels(column: str) -> Callable[[pl.DataFrame], pl.Series]:
    def compute(pairs: pl.DataFrame) -> pl.Series:
        return pairs.select(
            pl.when(~both_present(pairs, column)).then(None)
            .when(pl.col(f"{column}_l") == pl.col(f"{column}_r")).then(1)
            .otherwise(0)
            .cast(pl.Int8)
        ).to_series()

    return compute


def id_number_levels(pairs: pl.DataFrame) -> pl.Series:
    """A mistyped number is still evidence: one or two edits (a swap counts as one) from the person's.

    A 15-digit number's check character was computed when it was upgraded, so
    it says nothing: an upgraded number is compared on its first 17
    characters (a 15-digit typo is one edit, not two). A number whose only
    difference is the division code (the first six digits: a clerk's code, a
    neighbouring county's) has its own level.
    """
    upgraded = pl.col("id_upgraded_l").fill_null(False) if "id_upgraded_l" in pairs.columns else pl.lit(False)
    compared = pairs.select(
        pl.when(upgraded).then(pl.col(column).str.slice(0, 17)).otherwise(pl.col(column)).alias(column)
        for column in ("id_text_l", "id_number_r")
    )
    # edits beyond four all fall in the lowest level: rapidfuzz stops counting there
    edits = pairwise(compared["id_text_l"], compared["id_number_r"], OSA.distance,
                     compared["id_text_l"].is_not_null() & compared["id_number_r"].is_not_null(), score_cutoff=4)
    same_body = (pairs["id_text_l"].str.slice(6, 11) == pairs["id_number_r"].str.slice(6, 11)).fill_null(False)
    return pairs.select(
        pl.when(pl.col("id_text_l").is_null() | pl.col("id_number_r").is_null()).then(None)
        .when(pl.lit(edits) <= 1).then(4)
        .when(pl.lit(same_body) & (pl.col("id_text_l").str.len_chars() == 18)).then(3)
        .when(pl.lit(edits) <= 2).then(2)
        .when(pl.lit(edits) <= 4).then(1)
        .otherwise(0)
        .cast(pl.Int8)
    ).to_series()


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", ("姓名不同", "姓名相近", "姓名同音", "姓名一致"), name_levels),
    Comparison("birth", ("出生日期不符", "出生年份相同", "出生日期相差不超过50天（农历生日）", "出生日期一致"), birth_levels),
    Comparison("age", ("死亡年龄不符", "死亡年龄相差1–2岁", "死亡年龄为虚岁（多一岁）", "死亡年龄一致"), age_levels),
    Comparison("death", ("户籍死亡或迁出日期不符", "户籍尚未登记死亡", "户籍登记死亡日期相近（90天内）", "户籍登记死亡日期一致"), death_levels),
    Comparison("sex", ("性别不同", "性别一致"), equality_levels("sex")),
    Comparison("township", ("乡镇不同", "乡镇一致"), equality_levels("township")),
    Comparison("village", ("村（社区）不同", "村（社区）一致"), equality_levels("village")),
    Comparison("id_number", ("身份证号不同", "身份证号相差3–4位", "身份证号相差两位", "身份证号仅行政区划代码不同",
                            "身份证号仅差一位或两位颠倒"), id_number_levels),
    Comparison("household", ("不在户主户内", "与户主同户"), equality_levels("household_no")),
)


def comparison_levels(pairs: pl.DataFrame, comparisons: tuple[Comparison, ...] = COMPARISONS) -> np.ndarray:
    """Pairs → an (n_pairs × n_comparisons) int8 matrix of levels, -1 where a field is missing."""
    columns = [c.compute(pairs).fill_null(-1).to_numpy().astype(np.int8) for c in comparisons]
    return np.column_stack(columns) if columns else np.empty((pairs.height, 0), dtype=np.int8)
