"""Citizen-number normalization, checking and upgrading (matching/id_number.py).

Worked example throughout: GB 11643's own number 11010519491231002X.
Its first 17 digits times the weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:

    1*7 + 1*9 + 0*10 + 1*5 + 0*8 + 5*4 + 1*2 + 9*1 + 4*6
      + 9*3 + 1*7 + 2*9 + 3*10 + 1*5 + 0*8 + 0*4 + 2*2
    = 7 + 9 + 0 + 5 + 0 + 20 + 2 + 9 + 24 + 27 + 7 + 18 + 30 + 5 + 0 + 0 + 4
    = 167;  167 mod 11 = 2;  "10X98765432"[2] = "X".

Other cases change one or two positions, so their sums are 167 plus the change.
"""

import datetime

import polars as pl
import pytest

from hecha.matching.id_number import (
    birth_date_from_id,
    check_character,
    make_id_number,
    normalize_id_numbers,
    sex_from_id,
    upgrade_15_to_18,
)

EXAMPLE = "11010519491231002X"

NORMALIZE_CASES = [
    ("standard example is valid", EXAMPLE, EXAMPLE, "valid"),
    ("lower-case x", "11010519491231002x", EXAMPLE, "valid"),
    ("full-width digits and X", "１１０１０５１９４９１２３１００２Ｘ", EXAMPLE, "valid"),
    ("full-width lower-case x", "１１０１０５１９４９１２３１００２ｘ", EXAMPLE, "valid"),
    ("surrounding spaces", "  11010519491231002X ", EXAMPLE, "valid"),
    ("inner spaces and ideographic space", "110105 19491231\u3000002 X", EXAMPLE, "valid"),
    # 15-digit: insert "19" before 49 → 11010519491231002, the example's first
    # 17 digits, so the appended check character is the example's X.
    ("15-digit first generation is upgraded", "110105491231002", EXAMPLE, "upgraded"),
    ("15-digit with spaces is upgraded", " 110105 491231 002 ", EXAMPLE, "upgraded"),
    # Check character changed X → 0; the sum still asks for X.
    ("wrong check character", "110105194912310020", None, "invalid"),
    # Positions 16-17 "02" → "20": sum 167 - (0*4 + 2*2) + (2*4 + 0*2) = 171,
    # 171 mod 11 = 6 → "6", not X.
    ("transposed adjacent digits", "11010519491231020X", None, "invalid"),
    # Position 15 "0" → "5": sum 167 + 5*8 = 207, 207 mod 11 = 9 → "3", not X.
    ("single digit substituted", "11010519491231502X", None, "invalid"),
    # Date 19491231 → 19490230 changes position 11 (1 → 0, weight 7) and
    # position 14 (1 → 0, weight 5): sum 167 - 7 - 5 = 155, 155 mod 11 = 1 → "0".
    # The check character is right; only the date is impossible.
    ("February 30 with a right check character", "110105194902300020", None, "invalid"),
    ("15-digit with February 30", "110105490230002", None, "invalid"),
    # Year 1949 → 1879 changes position 8 (9 → 8, weight 1) and position 9
    # (4 → 7, weight 6): sum 167 - 1 + 18 = 184, 184 mod 11 = 8 → "4".
    # Right check character, year before 1880.
    ("birth year before 1880", "110105187912310024", None, "invalid"),
    ("letter inside the digits", "1101051949123100AX", None, "invalid"),
    ("17 characters", "11010519491231002", None, "invalid"),
    ("19 characters", "11010519491231002X0", None, "invalid"),
    ("16 digits", "1101054912310020", None, "invalid"),
    ("X not in last position", "1101051949123100X2", None, "invalid"),
    ("empty string", "", None, "blank"),
    ("whitespace only", " \u3000 ", None, "blank"),
    ("null", None, None, "blank"),
]


@pytest.mark.parametrize(
    ("raw", "expected_number", "expected_status"),
    [case[1:] for case in NORMALIZE_CASES],
    ids=[case[0] for case in NORMALIZE_CASES],
)
def test_normalize_id_numbers_single_value(raw, expected_number, expected_status):
    (row,) = normalize_id_numbers(pl.Series([raw], dtype=pl.String)).to_dicts()
    assert row == {
        "id_number_raw": raw,
        "id_number": expected_number,
        "id_number_status": expected_status,
    }


def test_normalize_id_numbers_keeps_length_and_order():
    raw = pl.Series([None, "110105491231002", "110105194912310020", EXAMPLE])
    result = normalize_id_numbers(raw)
    assert result.columns == ["id_number_raw", "id_number", "id_number_status"]
    assert result["id_number_raw"].to_list() == raw.to_list()
    assert result["id_number"].to_list() == [None, EXAMPLE, None, EXAMPLE]
    assert result["id_number_status"].to_list() == ["blank", "upgraded", "invalid", "valid"]


SCALAR_CASES = [
    ("check character of the example", lambda: check_character("11010519491231002"), "X"),
    # The near misses above must fail for the stated reason, not a stray check
    # character: the February 30 and 1879 variants carry the right one.
    ("check character of the Feb 30 variant", lambda: check_character("11010519490230002"), "0"),
    ("check character of the 1879 variant", lambda: check_character("11010518791231002"), "4"),
    ("upgrade the example's 15-digit form", lambda: upgrade_15_to_18("110105491231002"), EXAMPLE),
    (
        "make the example from its parts",
        lambda: make_id_number("110105", datetime.date(1949, 12, 31), 2),
        EXAMPLE,
    ),
]


@pytest.mark.parametrize(
    ("compute", "expected"),
    [case[1:] for case in SCALAR_CASES],
    ids=[case[0] for case in SCALAR_CASES],
)
def test_scalar_helpers_rebuild_the_example(compute, expected):
    assert compute() == expected


BAD_SCALAR_INPUTS = [
    ("check character of 16 digits", lambda: check_character("1101051949123100")),
    ("check character with a letter", lambda: check_character("1101051949123100A")),
    ("upgrade 18 characters", lambda: upgrade_15_to_18(EXAMPLE)),
    ("area code of 4 digits", lambda: make_id_number("1101", datetime.date(1949, 12, 31), 2)),
    ("sequence above 999", lambda: make_id_number("110105", datetime.date(1949, 12, 31), 1000)),
]


@pytest.mark.parametrize(
    "compute", [case[1] for case in BAD_SCALAR_INPUTS], ids=[case[0] for case in BAD_SCALAR_INPUTS]
)
def test_scalar_helpers_reject_malformed_input(compute):
    with pytest.raises(ValueError):
        compute()


FACT_CASES = [
    # Characters 7-14 of the example are 19491231; its 17th character is 2, even.
    ("example", EXAMPLE, datetime.date(1949, 12, 31), "F"),
    # make_id_number with sequence 001 (odd) born 2010-02-28.
    (
        "odd sequence",
        make_id_number("110105", datetime.date(2010, 2, 28), 1),
        datetime.date(2010, 2, 28),
        "M",
    ),
    ("null", None, None, None),
]


@pytest.mark.parametrize(
    ("id_number", "expected_birth", "expected_sex"),
    [case[1:] for case in FACT_CASES],
    ids=[case[0] for case in FACT_CASES],
)
def test_birth_date_and_sex_from_id(id_number, expected_birth, expected_sex):
    frame = pl.DataFrame({"id_number": [id_number]}, schema={"id_number": pl.String})
    row = frame.select(
        birth_date=birth_date_from_id(pl.col("id_number")),
        sex=sex_from_id(pl.col("id_number")),
    ).row(0)
    assert row == (expected_birth, expected_sex)
