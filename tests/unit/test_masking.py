"""Citizen numbers however written: normalization gives the number back, masking leaves only its first 6 and last 4.

Only citizen numbers are masked: a 建档立卡户编号 stays readable, and a disability
certificate number (the citizen number, a category and a grade digit) keeps
its two last digits after the masked number.

Numbers are built here from the standard (ISO 7064 MOD 11-2 as GB 11643 writes
it: the check of the first 17 digits weighted 2^(17-i) mod 11), not with the
code under test, then written as people write them: grouped by spaces or
separators, full-width, with a lower-case x, as 18 or 15 characters, inside
Chinese text.
"""

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hecha.matching.id_number import normalize_id_numbers
from hecha.reports.run_tables import shown_case_numbers
from hecha.storage.masking import mask_id_number, mask_text

SEPARATORS = [" ", "\u3000", "-", "‐", "－", "—", "_", ".", "·", "/"]
FULL_WIDTH = {str(digit): chr(0xFF10 + digit) for digit in range(10)} | {"X": "Ｘ"}
CHINESE = st.text(st.sampled_from("身份证号码出生户籍登记姓名王李张刘发放低保特困元月行第，。；：（）、"), max_size=12)
ORDINARY_NUMBERS = ["12345.67", "2026-10", "2024-11 至 2026-10", "第 8797、9396 行", "DB20000008", "13053419691008"]


def iso_7064_check(first17: str) -> str:
    remainder = sum(int(digit) * (2 ** (17 - position) % 11) for position, digit in enumerate(first17)) % 11
    return "10X98765432"[remainder]


@st.composite
def citizen_numbers(draw) -> str:
    region = draw(st.integers(110000, 659999))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    sequence = draw(st.integers(0, 999))
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + iso_7064_check(first17)


@st.composite
def written_forms(draw, number: str) -> str:
    """`number` as someone might type it: groups cut anywhere, 1–3 separators between, any character full-width."""
    cuts = draw(st.sets(st.integers(1, len(number) - 1), max_size=6))
    text = ""
    for position, character in enumerate(number):
        if position in cuts:
            text += "".join(draw(st.lists(st.sampled_from(SEPARATORS), min_size=1, max_size=3)))
        if character == "X":
            character = draw(st.sampled_from("XxＸｘ"))
        elif draw(st.booleans()):
            character = FULL_WIDTH[character]
        text += character
    return text


@st.composite
def numbers_as_written(draw) -> tuple[str, str, str]:
    """(canonical 18-character number, the characters actually written, how they were written)."""
    number = draw(citizen_numbers())
    if number[6:8] == "19" and draw(st.booleans()):
        shown = number[:6] + number[8:17]  # first generation: two-digit year, no check character
    else:
        shown = number
    return number, shown, draw(written_forms(shown))


def hidden_digits(shown: str) -> str:
    """The first 6 with the birth date after them: what masking must never leave readable."""
    return shown[:12] if len(shown) == 15 else shown[:14]


def readable(text: str) -> str:
    """Text as a reader reassembles it: separators dropped, full-width made ASCII, X in upper case."""
    for separator in SEPARATORS:
        text = text.replace(separator, "")
    return "".join({v: k for k, v in FULL_WIDTH.items()}.get(c, c) for c in text).replace("ｘ", "X").upper()


@settings(max_examples=200, deadline=None)
@given(numbers_as_written())
def test_normalize_id_numbers_gives_back_the_number_however_written(case):
    number, shown, written = case
    (row,) = normalize_id_numbers(pl.Series([written], dtype=pl.String)).to_dicts()
    assert row["id_number"] == number
    assert row["id_number_status"] == ("valid" if len(shown) == 18 else "upgraded")


@settings(max_examples=200, deadline=None)
@given(numbers_as_written(), CHINESE, CHINESE, st.sampled_from(ORDINARY_NUMBERS))
def test_mask_text_leaves_first_six_and_last_four_however_written(case, before, after, ordinary):
    number, shown, written = case
    before = f"{before}金额{ordinary}元{before}"  # an ordinary number nearby stays as it is
    masked = mask_text(before + written + after)
    assert masked.upper() == before.upper() + shown[:6] + "********" + shown[-4:] + after.upper()
    assert shown not in readable(masked) and number not in readable(masked)
    assert hidden_digits(shown) not in readable(masked)


@st.composite
def certificates_as_written(draw) -> tuple[str, str, str]:
    """(the citizen number as written on the certificate, the category and grade digits, the certificate as written)."""
    _, shown, _ = draw(numbers_as_written())
    suffix = f"{draw(st.integers(1, 7))}{draw(st.integers(1, 4))}"
    written = "".join(FULL_WIDTH[c] if c.isdigit() and draw(st.booleans()) else c for c in shown + suffix)
    if written[17:18] == "X":
        written = written[:17] + draw(st.sampled_from("XxＸｘ")) + written[18:]
    return shown, suffix, written


@settings(max_examples=200, deadline=None)
@given(certificates_as_written(), CHINESE, CHINESE)
def test_mask_text_masks_the_citizen_number_inside_a_certificate_number(case, before, after):
    shown, suffix, written = case
    masked = mask_text(f"{before}残疾人证 {written}{after}")
    assert readable(masked) == readable(f"{before}残疾人证 {shown[:6]}********{shown[-4:]}{suffix}{after}")
    assert hidden_digits(shown) not in readable(masked)


@settings(max_examples=200, deadline=None)
@given(numbers_as_written())
def test_mask_id_number_leaves_first_six_and_last_four_however_written(case):
    _, shown, written = case
    assert mask_id_number(written).upper() == shown[:6] + "********" + shown[-4:]


@pytest.mark.parametrize("text", ORDINARY_NUMBERS + ["共 24 个月 14400.00 元", "2026-09_20261020T020000000000"])
def test_mask_text_leaves_ordinary_numbers_alone(text):
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("description", "text", "expected"),
    [
        ("grouped by hyphens, as a real probe found it", "号码 130534-19691008-0213 待核", "号码 130534********0213 待核"),
        ("a run longer than one number is masked whole", "12345.67 130534196910080213", "123456********0213"),
        ("two grouped numbers side by side", "130534 19691008 0213 130534 19700101 0011", "130534********0011"),
    ],
)
def test_mask_text_masks_grouped_runs(description, text, expected):
    assert mask_text(text) == expected, description


@pytest.mark.parametrize(
    ("description", "text", "expected"),
    [
        ("a 建档立卡户编号 (15 digits, no birth date inside) stays readable",
         "建档立卡户编号 130534201000010（户主 孙卫鹏）", "建档立卡户编号 130534201000010（户主 孙卫鹏）"),
        ("another 建档立卡户编号", "130534105000015", "130534105000015"),
        ("a certificate of an 18-character number keeps category and grade",
         "残疾人证 13053419870311612X42（肢体二级）", "残疾人证 130534********612X42（肢体二级）"),
        ("a certificate of a 15-digit number", "13052950010112341", "130529********112341"),
        ("a mistyped number (check character wrong) still carries a birth date", "130534196402086354", "130534********6354"),
    ],
)
def test_mask_text_masks_only_citizen_numbers(description, text, expected):
    assert mask_text(text) == expected, description


@pytest.mark.parametrize(
    ("description", "case_no", "expected"),
    [
        ("a certificate listed for two subsidies is shown once",
         "13053419750420398X61、13053419750420398X61、DB00100004", "130534********398X61、DB00100004"),
        ("distinct numbers keep their order", "DB00100001、DB00100002", "DB00100001、DB00100002"),
        ("blank", None, ""),
    ],
)
def test_shown_case_numbers_lists_each_number_once_masked(description, case_no, expected):
    assert shown_case_numbers(case_no) == expected, description
