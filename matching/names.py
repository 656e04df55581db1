"""Person names (姓名): one written form per name, and its sound for fuzzy comparison.

What belongs here: cleaning the names an extract holds so that the same name
typed on different systems compares equal (spaces, full-width forms,
traditional characters, the many middle dots of minority names), and the
toneless pinyin that lets same-sound characters compare equal.

What does not: scoring how alike two names are, and deciding which records are
one person; those live with the comparisons elsewhere in `matching/`.

OpenCC and pypinyin are per-string Python, so both run on the distinct values
only and the result is joined back: a county's names repeat a lot.
"""

from collections.abc import Callable

import opencc
import polars as pl
import pypinyin

MIDDLE_DOT = "·"

# Separators written between the parts of Uyghur, Tibetan and other
# transliterated names (买买提·艾力): whatever the input method offered.
_MIDDLE_DOT_VARIANTS = "•‧・･ㆍ．.∙⋅\u0387"
# A hyphen is a separator only between two Chinese characters; elsewhere
# (e.g. a Latin double-barrelled name) it is left alone.
_HYPHEN_BETWEEN_HAN = r"(\p{Han})[-－](\p{Han})"

_traditional_to_simplified = opencc.OpenCC("t2s")


def _text_t2s_changes(converter: opencc.OpenCC) -> list[str]:
    """Every text the converter's dictionaries replace by another (a character or a phrase).

    OpenCC replaces the dictionary entries it finds in a string and leaves the
    rest as it is, so a name holding none of these texts comes out unchanged:
    it need not be converted, in Python, a string at a time.
    """
    return sorted(
        key
        for group in converter._dict_chain_data  # the dictionaries t2s applies, as OpenCC loaded them
        for _, _, entries in group
        for key, value in entries.items()
        if value.split(" ")[0] != key  # of several readings OpenCC takes the first
    )


_CHANGED_BY_T2S = _text_t2s_changes(_traditional_to_simplified)


def normalize_names(raw: pl.Series) -> pl.Series:
    """Return names trimmed, space-free, NFKC-folded, simplified, with one middle dot.

    Same length and order as `raw`; null stays null, and a name that is empty
    once spaces are gone becomes null, since an empty name identifies nobody.
    """
    spaced_out = raw.cast(pl.String).str.replace_all(r"\s", "")  # \s covers U+3000
    dotted = (
        spaced_out.str.replace_many({variant: MIDDLE_DOT for variant in _MIDDLE_DOT_VARIANTS})
        # Applied twice: a match consumes the character after the hyphen, so
        # the second hyphen in 阿-布-都 is only seen on the second pass.
        .str.replace_all(_HYPHEN_BETWEEN_HAN, f"${{1}}{MIDDLE_DOT}${{2}}")
        .str.replace_all(_HYPHEN_BETWEEN_HAN, f"${{1}}{MIDDLE_DOT}${{2}}")
    )
    # NFKC after the dots: it would turn ㆍ (U+318D) into a Hangul vowel.
    folded = dotted.str.normalize("NFKC")
    simplified = _map_distinct(folded, _traditional_to_simplified.convert, needed=_CHANGED_BY_T2S)
    return simplified.replace("", None).alias(raw.name)


def name_pinyin(names: pl.Series) -> pl.Series:
    """Return toneless pinyin without separators (张伟 → "zhangwei"), middle dot dropped.

    Looked up per character (a county has a few thousand distinct characters
    and hundreds of thousands of distinct names): names are not phrases, so
    reading each character alone is what a clerk hearing the name would type.
    The readings replace the characters in one vectorised multi-pattern pass.
    """
    undotted = names.cast(pl.String).str.replace_all(MIDDLE_DOT, "", literal=True)
    characters = [c for c in undotted.str.split("").explode().drop_nulls().unique().sort().to_list() if c]
    if not characters:
        return undotted.alias(names.name)
    readings = [pypinyin.lazy_pinyin(c)[0] for c in characters]
    return undotted.str.replace_many(characters, readings).alias(names.name)


def _map_distinct(values: pl.Series, convert: Callable[[str], str], needed: list[str]) -> pl.Series:
    """Apply a per-string Python function once per distinct non-null value holding one of the texts `needed`
    (the function leaves every other value as it is)."""
    distinct = values.drop_nulls().unique()
    distinct = distinct.filter(distinct.str.contains_any(needed))
    converted = [convert(value) for value in distinct.to_list()]
    return values.replace(distinct, pl.Series(converted, dtype=pl.String))
