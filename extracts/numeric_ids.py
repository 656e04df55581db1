"""Citizen-number columns a spreadsheet has turned into numbers: what the damage looks like.

What belongs here: the rules telling, from the values of one column as read,
that Excel or WPS has stored its citizen numbers as numbers. A number keeps
15 significant digits there, so an 18-digit citizen number (and the
20-digit 残疾人证号 that begins with one) loses its last digits for good:
the column still loads, most rows stop linking, and the people on them turn
into findings. What does not: wording the error (`extracts.read`, which knows
the file's columns), and judging numbers one by one (`matching.id_number`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Excel and WPS keep this many significant digits of a number and write zeros for the rest.
SIGNIFICANT_DIGITS = 15
# What Excel writes for a long number in a General-format cell (1.30534E+17), and what other tools write (1.30534e17).
SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]{1,3}$"
# Only zeros after the 15th digit: what Excel leaves of any longer number. A real citizen
# number ends in 000 about once in 1,100 (a sequence number ending in 00, 1 in 100, then
# the check character 0, 1 in 11); a real 残疾人证号 never does, its last digit being a
# grade from 1 to 4. A column is refused when at least MIN_ROUNDED of its distinct numbers
# of 16 or more digits end so and they are more than 1 in MAX_ROUNDED_SHARE_DENOMINATOR
# of them: over 50 times the natural rate, so a real column of any size stays far below it
# (three such numbers among the first few dozen happen once in tens of thousands of
# files), while a column Excel touched has all of them, and one partly pasted from an
# Excel copy has far more than 1 in 20. Distinct numbers: a ledger repeats its payees'
# numbers every month, and one real number ending in 000 must count once.
MIN_ROUNDED = 3
MAX_ROUNDED_SHARE_DENOMINATOR = 20


@dataclass(frozen=True)
class NumericCell:
    """The first cell of a workbook column holding a number rather than text."""

    row: int  # 1-based data row
    value: int | float


@dataclass(frozen=True)
class Damage:
    """The first value of a column showing that a spreadsheet stored its citizen numbers as numbers."""

    row: int  # 1-based data row
    shown: str  # the value as the error may print it: no birth date
    problem: str  # what the column holds, e.g. "holds numbers, not text"


def is_number(value: object) -> bool:
    """A numeric workbook cell (openpyxl gives int or float; a TRUE/FALSE cell is a bool, not a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def excel_general(value: int | float) -> str:
    """A number as Excel's General format shows it in a cell of default width: 1.30534E+17 beyond 11 digits."""
    if abs(value) < 1e11:
        return str(int(value)) if float(value).is_integer() else str(value)
    mantissa, exponent = f"{value:.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{int(exponent):+03d}"


def mask_digits(number: str) -> str:
    """First 6 and last 4 characters: the division code and the rounded tail, no birth date."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else number


def find_damage(values: pl.Series, numeric: NumericCell | None = None) -> Damage | None:
    """How a column of citizen numbers (text as read, one per data row) shows it was stored as numbers, if it does.

    `numeric` is the column's first numeric workbook cell (None for CSV). In
    order: a numeric cell, a value in scientific notation (either is refused
    at once: no citizen number is written so), too many numbers rounded to 15
    significant digits (refused by their share, see MIN_ROUNDED).
    """
    if numeric is not None:
        return Damage(numeric.row, excel_general(numeric.value), "holds numbers, not text")
    text = values.str.strip_chars()
    scientific = text.str.contains(SCIENTIFIC).fill_null(False)
    if scientific.any():
        row = int(scientific.arg_max())
        return Damage(row + 1, text[row], "holds numbers in scientific notation, not text")
    long = text.filter(text.str.contains(r"^[0-9]{16,}$").fill_null(False))
    rounded = long.filter(long.str.slice(SIGNIFICANT_DIGITS).str.contains(r"^0+$")).unique()
    if rounded.len() < MIN_ROUNDED or holds_distinct(long, rounded.len() * MAX_ROUNDED_SHARE_DENOMINATOR):
        return None
    row = int(text.is_in(rounded.to_list()).fill_null(False).arg_max())
    return Damage(
        row + 1,
        mask_digits(text[row]),
        f"holds numbers rounded to {SIGNIFICANT_DIGITS} significant digits: {rounded.len()} of its {long.n_unique()} distinct "
        f"numbers of 16 or more digits end in zeros from digit {SIGNIFICANT_DIGITS + 1} on "
        "(000 for 18 digits; about 1 real number in 1,100 does)",
    )


def holds_distinct(values: pl.Series, count: int) -> bool:
    """Whether `values` holds at least `count` distinct values.

    Counted first among the first few times `count` values, which settles it
    for a column of real numbers (a register's are all distinct, a ledger
    repeats each a dozen times) without finding the distinct values of a
    million; only when that falls short are they all counted.
    """
    if values.len() < count:
        return False
    return values.head(4 * count).n_unique() >= count or values.n_unique() >= count
