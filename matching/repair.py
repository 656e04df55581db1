"""Citizen-number repair: an invalid number one typing slip away from a register person.

What belongs here: finding, for source rows whose 18-character number fails
its check, the register person whose number differs by one typing slip — one
character typed wrong, or two neighbouring characters swapped — and whose
name, birth date and sex agree with the row; and the Chinese evidence text
saying what was wrong or why no repair was made.

What does not: cleaning and checking numbers (`matching/id_number.py`),
cleaning names (`matching/names.py`), writing link tables (`matching/link.py`
takes this frame and records method `repaired`), and the probabilistic linking
of rows that have no usable number at all.

Why one slip is enough to search: GB 11643's MOD 11-2 check catches every
single wrong character and every swap of two different neighbouring
characters, so no valid number is one slip from another valid number. A
register number one slip away from the row's invalid number is therefore a
real lead, and a valid number passed in by mistake finds no candidate.

Everything is set-based: the row numbers are crossed with a fixed table of
the ~180 possible slips, the results joined to the register and checked with
`normalize_id_numbers`; name similarity is rapidfuzz over whole columns.
"""

from __future__ import annotations

import operator
from functools import reduce

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel

from hecha.matching.compare import LUNAR_BIRTHDAY_DAYS
from hecha.matching.id_number import (
    CHECK_CHARACTERS,
    CHECK_WEIGHTS,
    birth_date_from_id,
    clean_id_number_text,
    normalize_id_numbers,
    sex_from_id,
)
from hecha.matching.names import name_pinyin

REPAIR_STATUSES = ("repaired", "ambiguous", "disagrees", "no_candidate", "not_18")

# Indel normalized similarity (rapidfuzz fuzz.ratio / 100) of the normalized
# names. One character off scores 0.5 in a 2-character name, 0.67 in a
# 3-character one and 0.8 in a 5-character one: so for Han names only the
# same-sound rule lets a different character through (王丽/王莉), while long
# transliterated names (阿不都热合曼/阿不都热合买) may differ in one character.
NAME_SIMILARITY = 0.8

_ID_LENGTH = 18
_DIGITS = "0123456789"
# Name agreement levels that count as the same name.
_NAME_AGREES = ("equal", "same_sound", "similar")
_SEX_ZH = {"M": "男", "F": "女"}


def _slip_table(slip: str, positions: list[int], replacements: list[str | None]) -> pl.DataFrame:
    """Slips with the check weight of their position and of the next (0 past the 17 weighted digits)."""
    weights = (*CHECK_WEIGHTS, 0, 0)
    return pl.DataFrame(
        {"slip": [slip] * len(positions), "position": positions, "replacement": replacements,
         "weight": [weights[p] for p in positions], "next_weight": [weights[p + 1] for p in positions]},
        schema={"slip": pl.String, "position": pl.Int64, "replacement": pl.String, "weight": pl.Int64,
                "next_weight": pl.Int64},
    )


# Every single slip on an 18-character number. A substitution puts
# `replacement` at `position` (0-based); X is tried only as the check
# character, the one place a valid number may hold it. A transposition swaps
# `position` and `position + 1`.
_SUBSTITUTION_PLACES = [
    (position, replacement)
    for position in range(_ID_LENGTH)
    for replacement in (_DIGITS + "X" if position == _ID_LENGTH - 1 else _DIGITS)
]
_SUBSTITUTIONS = _slip_table(
    "substitution",
    [position for position, _ in _SUBSTITUTION_PLACES],
    [replacement for _, replacement in _SUBSTITUTION_PLACES],
)
_TRANSPOSITIONS = _slip_table("transposition", list(range(_ID_LENGTH - 1)), [None] * (_ID_LENGTH - 1))


def repair_id_numbers(
    rows: pl.DataFrame,
    register: pl.DataFrame,
    *,
    name_similarity: float = NAME_SIMILARITY,
    birth_tolerance_days: int = LUNAR_BIRTHDAY_DAYS,
) -> pl.DataFrame:
    """Repair invalid 18-character numbers to the one register person one slip away.

    `rows` are source rows whose number is invalid: `source`, `source_row`,
    `role`, `id_number_raw`, `name` (normalized), `sex` ('M'/'F'), `birth_date`.
    `register` holds one row per person: `person_id`, `id_number`, `name`;
    the sex and birth date compared are those the candidate's number carries.

    A candidate is a register person whose number is one substitution or one
    adjacent transposition away from the row's cleaned number. It agrees when
    the name agrees (equal, same toneless pinyin, or Indel similarity at least
    `name_similarity`) and the row's sex and birth date agree with those the
    candidate's number carries (birth dates within `birth_tolerance_days`, for
    lunar birthdays). A field the row lacks (payments have no sex or birth
    date) neither agrees nor disagrees; the name must always agree.

    Returns one row per input row, in input order: `source`, `source_row`,
    `role`, `person_id` and `repaired_id_number` (null unless repaired),
    `status` (one of REPAIR_STATUSES), `candidate_count` (register persons one
    slip away, agreeing or not) and `explanation` (Chinese evidence text).
    Only the one agreeing candidate is repaired; two or more are `ambiguous`.
    """
    numbered = rows.with_row_index("row_index").with_columns(
        id_number_clean=clean_id_number_text(rows["id_number_raw"]),
        name_l=pl.col("name").cast(pl.String),
        sex_l=pl.col("sex").cast(pl.String),
        birth_date_l=pl.col("birth_date").cast(pl.Date),
    )
    pairs = _candidate_pairs(numbered, register)
    judged = _judge_pairs(pairs, name_similarity, birth_tolerance_days)
    verdicts = _verdicts(judged)
    return _finish(numbered, verdicts)


def _modulo_11(value: pl.Expr) -> pl.Expr:
    return ((value % 11) + 11) % 11


def _digit(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Int64, strict=False)


def _check_of(remainder: pl.Expr) -> pl.Expr:
    """The check character GB 11643 gives a weighted sum's remainder."""
    return remainder.replace_strict(dict(enumerate(CHECK_CHARACTERS)), default=None, return_dtype=pl.String)


def _passes_check() -> tuple[pl.Expr, pl.Expr]:
    """Whether a substitution, and a transposition, leaves a number MOD 11-2 accepts — without building it.

    Only such variants can be a register number (every register number is
    valid), and of the ~190 variants of a row about 35 pass: the arithmetic
    on the row's weighted sum (`checksum`) and check remainder (`target`)
    replaces checking each variant. A row whose first 17 characters are not
    all digits, or whose check character is none, keeps every variant.
    """
    number, position = pl.col("id_number_clean"), pl.col("position")
    typed, weight = _digit(number.str.slice(position, 1)), pl.col("weight")
    unknown = pl.col("checksum").is_null() | pl.col("target").is_null()
    substitution = (
        pl.when(unknown).then(True)
        .when(position < _ID_LENGTH - 1)
        .then(_modulo_11(pl.col("checksum") + weight * (_digit(pl.col("replacement")) - typed)) == pl.col("target"))
        .otherwise(pl.col("replacement") == _check_of(pl.col("checksum")))
    )
    following = _digit(number.str.slice(position + 1, 1))
    transposition = (
        pl.when(unknown).then(True)
        .when(position < _ID_LENGTH - 2)
        .then(_modulo_11(pl.col("checksum") + (weight - pl.col("next_weight")) * (following - typed)) == pl.col("target"))
        # the last digit and the check character swapped: the check moves to position 16, the digit becomes the check
        .otherwise(_check_of(_modulo_11(pl.col("checksum") + weight * (following - typed))) == number.str.slice(position, 1))
    )
    return substitution.fill_null(False), transposition.fill_null(False)


def _candidate_pairs(numbered: pl.DataFrame, register: pl.DataFrame) -> pl.DataFrame:
    """(row, register person) pairs whose numbers are one slip apart."""
    number = pl.col("id_number_clean")
    position = pl.col("position")
    typed = number.str.slice(position, 1)
    numbers = numbered.filter(number.str.len_chars() == _ID_LENGTH).select("row_index", "id_number_clean").with_columns(
        # a plain sum, so that one character that is no digit leaves it null
        checksum=reduce(operator.add, [_digit(number.str.slice(i, 1)) * weight for i, weight in enumerate(CHECK_WEIGHTS)]) % 11,
        target=number.str.slice(_ID_LENGTH - 1, 1).replace_strict(
            {character: remainder for remainder, character in enumerate(CHECK_CHARACTERS)}, default=None, return_dtype=pl.Int64
        ),
    )
    substitution_passes, transposition_passes = _passes_check()
    # A slip that changes nothing would give back the row's own, invalid, number.
    substituted = (
        numbers.join(_SUBSTITUTIONS, how="cross")
        .filter(pl.col("replacement") != typed, substitution_passes)
        .with_columns(
            typed=typed,
            id_number=pl.concat_str(number.str.slice(0, position), "replacement", number.str.slice(position + 1)),
        )
    )
    swapped = (
        numbers.join(_TRANSPOSITIONS, how="cross")
        .filter(number.str.slice(position + 1, 1) != typed, transposition_passes)
        .with_columns(
            typed=typed,
            id_number=pl.concat_str(
                number.str.slice(0, position),
                number.str.slice(position + 1, 1),
                typed,
                number.str.slice(position + 2),
            ),
        )
    )
    candidates = pl.concat([substituted, swapped])
    # Join first, check after: the register join is the sharp filter (of the
    # ~180 variants per row a handful survive it), while checking every
    # variant first took most of the run time. The check still runs, so a
    # register number GB 11643 rejects is never a repair target.
    matched = candidates.join(
        register.select("person_id", "id_number", name_r=pl.col("name").cast(pl.String)),
        on="id_number",
        how="inner",
    )
    is_valid = normalize_id_numbers(matched["id_number"])["id_number_status"] == "valid"
    return (
        matched.filter(is_valid)
        .join(numbered.select("row_index", "name_l", "sex_l", "birth_date_l"), on="row_index", how="left")
        .with_columns(
            sex_r=sex_from_id(pl.col("id_number")),
            birth_date_r=birth_date_from_id(pl.col("id_number")),
        )
        .sort("row_index", "id_number")
    )


def _judge_pairs(pairs: pl.DataFrame, name_similarity: float, birth_tolerance_days: int) -> pl.DataFrame:
    """Add whether each pair agrees, and the Chinese text for a repair or a refusal."""
    similarity = process.cpdist(
        pairs["name_l"].fill_null("").to_list(),
        pairs["name_r"].fill_null("").to_list(),
        scorer=Indel.normalized_similarity,
        workers=-1,
    )
    name_l, name_r = pl.col("name_l"), pl.col("name_r")
    name_agreement = (
        pl.when(name_l.is_null() | name_r.is_null())
        .then(pl.lit("missing"))
        .when(name_l == name_r)
        .then(pl.lit("equal"))
        .when(pl.col("pinyin_l") == pl.col("pinyin_r"))
        .then(pl.lit("same_sound"))
        .when(pl.col("name_similarity") >= name_similarity)
        .then(pl.lit("similar"))
        .otherwise(pl.lit("differs"))
    )
    birth_days = (pl.col("birth_date_l") - pl.col("birth_date_r")).dt.total_days().abs()
    judged = pairs.with_columns(
        pinyin_l=name_pinyin(pairs["name_l"]),
        pinyin_r=name_pinyin(pairs["name_r"]),
        name_similarity=pl.Series(similarity, dtype=pl.Float64),
    ).with_columns(
        name_agreement=name_agreement,
        birth_days=birth_days,
        # null when the row has no sex or no birth date: says nothing either way
        sex_agrees=pl.col("sex_l") == pl.col("sex_r"),
        birth_agrees=birth_days <= birth_tolerance_days,
    )
    agrees = (
        pl.col("name_agreement").is_in(_NAME_AGREES)
        & pl.col("sex_agrees").fill_null(True)
        & pl.col("birth_agrees").fill_null(True)
    )
    return judged.with_columns(
        agrees=agrees,
        slip_text=_slip_text(),
        agreement_text=_agreement_text(),
        disagreement_text=_disagreement_text(),
    )


HIDDEN_POSITIONS = (6, 13)  # 0-based: the birth date, the characters a masked number hides


def _slip_text() -> pl.Expr:
    """第3位录入错误（2→3）, 第12位录入错误 or 第9、10位颠倒, positions counted from 1.

    The typed and right characters are named only outside the birth date:
    evidence sits beside the masked number, and a digit shown there is a
    hidden digit given away.
    """
    first = (pl.col("position") + 1).cast(pl.String)
    second = (pl.col("position") + 2).cast(pl.String)
    hidden = pl.col("position").is_between(*HIDDEN_POSITIONS)
    return (
        pl.when((pl.col("slip") == "substitution") & hidden)
        .then(pl.concat_str(pl.lit("第"), first, pl.lit("位录入错误")))
        .when(pl.col("slip") == "substitution")
        .then(pl.concat_str(pl.lit("第"), first, pl.lit("位录入错误（"), "typed", pl.lit("→"), "replacement", pl.lit("）")))
        .otherwise(pl.concat_str(pl.lit("第"), first, pl.lit("、"), second, pl.lit("位颠倒")))
    )


def _names_pair() -> pl.Expr:
    """（row name/register name）, for a name that is not written the same."""
    return pl.concat_str(pl.lit("（"), "name_l", pl.lit("/"), "name_r", pl.lit("）"))


def _birth_gap_text() -> pl.Expr:
    """出生日期相差30天: the row's birth date against the one in the candidate's number."""
    return pl.concat_str(pl.lit("出生日期相差"), pl.col("birth_days").cast(pl.String), pl.lit("天"))


def _agreement_text() -> pl.Expr:
    """What agreed, e.g. 姓名、出生日期、性别一致 or 性别一致，姓名同音（王莉/王丽），出生日期相差30天."""
    name_agreement = pl.col("name_agreement")
    exact = (
        pl.concat_list(
            pl.when(name_agreement == "equal").then(pl.lit("姓名")),
            pl.when(pl.col("birth_days") == 0).then(pl.lit("出生日期")),
            pl.when(pl.col("sex_agrees")).then(pl.lit("性别")),
        )
        .list.drop_nulls()
        .list.join("、")
    )
    absent = (
        pl.concat_list(
            pl.when(pl.col("birth_date_l").is_null()).then(pl.lit("出生日期")),
            pl.when(pl.col("sex_l").is_null()).then(pl.lit("性别")),
        )
        .list.drop_nulls()
        .list.join("、")
    )
    return (
        pl.concat_list(
            pl.when(exact != "").then(exact + "一致"),
            pl.when(name_agreement == "same_sound").then(pl.concat_str(pl.lit("姓名同音"), _names_pair())),
            pl.when(name_agreement == "similar").then(pl.concat_str(pl.lit("姓名相近"), _names_pair())),
            pl.when(pl.col("birth_days") > 0).then(_birth_gap_text()),
            pl.when(absent != "").then(pl.concat_str(pl.lit("无"), absent, pl.lit("可比"))),
        )
        .list.drop_nulls()
        .list.join("，")
    )


def _disagreement_text() -> pl.Expr:
    """Why a candidate was turned down, e.g. 姓名不一致（张伟/王丽）、出生日期相差80天."""
    name_agreement = pl.col("name_agreement")
    return (
        pl.concat_list(
            pl.when(pl.col("name_l").is_null()).then(pl.lit("本行无姓名可比")),
            pl.when(pl.col("name_l").is_not_null() & pl.col("name_r").is_null()).then(pl.lit("户籍无姓名可比")),
            pl.when(name_agreement == "differs").then(pl.concat_str(pl.lit("姓名不一致"), _names_pair())),
            pl.when(~pl.col("sex_agrees")).then(
                pl.concat_str(
                    pl.lit("性别不一致（"),
                    pl.col("sex_l").replace_strict(_SEX_ZH, default=pl.col("sex_l")),
                    pl.lit("/"),
                    pl.col("sex_r").replace_strict(_SEX_ZH),
                    pl.lit("）"),
                )
            ),
            pl.when(~pl.col("birth_agrees")).then(_birth_gap_text()),
        )
        .list.drop_nulls()
        .list.join("、")
    )


def _verdicts(judged: pl.DataFrame) -> pl.DataFrame:
    """One row per source row that has candidates: status, the repair, and its text."""
    agrees = pl.col("agrees")
    # 第12位录入错误：王丽 11010519850312024X
    candidate = pl.concat_str("slip_text", pl.lit("："), "name_r", pl.lit(" "), "id_number", ignore_nulls=True)
    per_row = judged.group_by("row_index", maintain_order=True).agg(
        candidate_count=pl.col("person_id").n_unique(),
        agreeing_count=pl.col("person_id").filter(agrees).n_unique(),
        person_id=pl.col("person_id").filter(agrees).first(),
        repaired_id_number=pl.col("id_number").filter(agrees).first(),
        repair_text=pl.concat_str(
            pl.lit("身份证号"), "slip_text", pl.lit("，修复为户籍人员（"), "agreement_text", pl.lit("）")
        )
        .filter(agrees)
        .first(),
        agreeing=candidate.filter(agrees).str.join("；"),
        disagreeing=pl.concat_str(candidate, pl.lit("，"), "disagreement_text").filter(~agrees).str.join("；"),
    )
    agreeing_count = pl.col("agreeing_count")
    status = (
        pl.when(agreeing_count == 1)
        .then(pl.lit("repaired"))
        .when(agreeing_count > 1)
        .then(pl.lit("ambiguous"))
        .otherwise(pl.lit("disagrees"))
    )
    how_many = pl.when(agreeing_count == 2).then(pl.lit("两")).otherwise(agreeing_count.cast(pl.String))
    explanation = (
        pl.when(agreeing_count == 1)
        .then(pl.col("repair_text"))
        .when(agreeing_count > 1)
        .then(pl.concat_str(how_many, pl.lit("个户籍人员都可能（"), "agreeing", pl.lit("），不自动修复")))
        .otherwise(pl.concat_str(pl.lit("相近号码的户籍人员与本行不一致（"), "disagreeing", pl.lit("），不自动修复")))
    )
    is_repaired = agreeing_count == 1
    return per_row.select(
        "row_index",
        pl.when(is_repaired).then(pl.col("person_id")).alias("person_id"),
        pl.when(is_repaired).then(pl.col("repaired_id_number")).alias("repaired_id_number"),
        status.alias("status"),
        "candidate_count",
        explanation.alias("explanation"),
    )


def _finish(numbered: pl.DataFrame, verdicts: pl.DataFrame) -> pl.DataFrame:
    """Every input row in input order; rows without candidates say why."""
    length = pl.col("id_number_clean").str.len_chars().fill_null(0)
    is_18 = length == _ID_LENGTH
    not_18_text = (
        pl.when(length == 0)
        .then(pl.lit("身份证号为空，无法修复"))
        .otherwise(pl.concat_str(pl.lit("身份证号为"), length.cast(pl.String), pl.lit("位，不是18位，不按录入错误修复")))
    )
    return (
        numbered.select("row_index", "source", "source_row", "role", "id_number_clean")
        .join(verdicts, on="row_index", how="left")
        .sort("row_index")
        .select(
            "source",
            "source_row",
            "role",
            "person_id",
            "repaired_id_number",
            pl.coalesce("status", pl.when(is_18).then(pl.lit("no_candidate")).otherwise(pl.lit("not_18"))).alias(
                "status"
            ),
            pl.col("candidate_count").fill_null(0).cast(pl.Int32),
            pl.coalesce(
                "explanation",
                pl.when(is_18)
                .then(pl.lit("身份证号无效，户籍中没有只差一位或相邻两位颠倒的号码，无法修复"))
                .otherwise(not_18_text),
            ).alias("explanation"),
        )
    )
