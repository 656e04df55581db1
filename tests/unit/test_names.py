"""Name normalization and pinyin (matching/names.py)."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hecha.matching.names import _CHANGED_BY_T2S, MIDDLE_DOT, _traditional_to_simplified, name_pinyin, normalize_names

NORMALIZE_CASES = [
    ("already clean", "张国荣", "张国荣"),
    ("traditional to simplified", "張國榮", "张国荣"),
    ("surrounding and inner spaces", " 张 国荣 ", "张国荣"),
    ("ideographic space U+3000", "张\u3000国荣", "张国荣"),
    ("full-width Latin letters", "ＺＨＡＮＧ", "ZHANG"),
    ("middle dot U+00B7 kept", "买买提·艾力", "买买提·艾力"),
    ("bullet U+2022", "买买提•艾力", "买买提·艾力"),
    ("ASCII full stop", "买买提.艾力", "买买提·艾力"),
    ("katakana middle dot U+30FB", "买买提・艾力", "买买提·艾力"),
    ("half-width katakana middle dot U+FF65", "买买提･艾力", "买买提·艾力"),
    ("hyphenation point U+2027", "买买提‧艾力", "买买提·艾力"),
    ("Hangul araea U+318D", "买买提ㆍ艾力", "买买提·艾力"),
    ("full-width full stop U+FF0E", "买买提．艾力", "买买提·艾力"),
    ("bullet operator U+2219", "买买提∙艾力", "买买提·艾力"),
    ("dot operator U+22C5", "买买提⋅艾力", "买买提·艾力"),
    ("Greek ano teleia U+0387", "买买提\u0387艾力", "买买提·艾力"),
    ("full-width hyphen between Han", "买买提－艾力", "买买提·艾力"),
    ("ASCII hyphen between Han", "买买提-艾力", "买买提·艾力"),
    ("two hyphens in a row of parts", "阿-布-都", "阿·布·都"),
    ("hyphen between Latin letters kept", "Anne-Marie", "Anne-Marie"),
    ("dot with spaces around it", "买买提 • 艾力", "买买提·艾力"),
    ("traditional with a dot variant", "買買提•艾力", "买买提·艾力"),
    ("null stays null", None, None),
    ("whitespace only becomes null", " \u3000 ", None),
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [case[1:] for case in NORMALIZE_CASES],
    ids=[case[0] for case in NORMALIZE_CASES],
)
def test_normalize_names_single_value(raw, expected):
    assert normalize_names(pl.Series([raw], dtype=pl.String)).to_list() == [expected]


def test_normalize_names_keeps_length_order_and_repeats():
    raw = pl.Series("name", ["張國榮", None, "买买提•艾力", "张国荣", "張國榮"])
    result = normalize_names(raw)
    assert result.name == "name"
    assert result.to_list() == ["张国荣", None, "买买提·艾力", "张国荣", "张国荣"]


# Characters of the t2s dictionaries (the traditional ones and those beside them in phrases), with common name characters.
DICTIONARY_CHARACTERS = sorted({character for text in _CHANGED_BY_T2S for character in text} | set("张王李明林文金子小一乾隆著"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(DICTIONARY_CHARACTERS), min_size=1, max_size=6))
def test_opencc_changes_a_name_only_when_it_holds_a_text_t2s_replaces(name):
    # names holding none of those texts skip OpenCC, so this must hold for every name
    if _traditional_to_simplified.convert(name) != name:
        assert any(text in name for text in _CHANGED_BY_T2S)


def test_phrase_is_simplified_in_context_even_when_its_characters_alone_are_not():
    convert = _traditional_to_simplified.convert
    # 沈默 → 沉默 and 明瞭 → 明了, while 沈, 默, 明 and 瞭 alone stay as they are
    phrases = [text for text in _CHANGED_BY_T2S if len(text) > 1 and all(convert(c) == c for c in text)]
    assert "沈默" in phrases and "明瞭" in phrases
    assert normalize_names(pl.Series(phrases)).to_list() == [convert(phrase) for phrase in phrases]


def test_middle_dot_is_u00b7():
    assert MIDDLE_DOT == "\u00b7"


PINYIN_CASES = [
    ("Tibetan name", "卓玛", "zhuoma"),
    ("common name", "张伟", "zhangwei"),
    ("same sound, other surname character", "章伟", "zhangwei"),
    ("middle dot dropped", "买买提·艾力", "maimaitiaili"),
    ("null stays null", None, None),
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [case[1:] for case in PINYIN_CASES],
    ids=[case[0] for case in PINYIN_CASES],
)
def test_name_pinyin_single_value(name, expected):
    assert name_pinyin(pl.Series([name], dtype=pl.String)).to_list() == [expected]


def test_name_pinyin_same_sound_names_compare_equal_in_order():
    result = name_pinyin(pl.Series(["张伟", "卓玛", None, "章伟"]))
    assert result.to_list() == ["zhangwei", "zhuoma", None, "zhangwei"]
    assert result[0] == result[3]
