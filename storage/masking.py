"""Masking citizen numbers: how a number leaves a run's database or a history for anyone's eyes.

A citizen number is shown only masked (first 6 and last 4), in whatever form
it was written (grouped, full-width): what a number is, is
matching/id_number.py's to say. Only citizen numbers are masked: a
建档立卡户编号 or a case number stays readable, and a disability certificate
number (citizen number + category + grade) keeps its two last digits. The
workbooks, the report, `hecha diff` and the feedback import's messages all
mask through here. What does not belong here: keyed hashes of numbers
(storage/secret.py), evidence wording (reports/run_tables.py).
"""

from __future__ import annotations

import datetime as dt
import re

from hecha.matching.id_number import FULL_WIDTH_TO_ASCII, ID_SEPARATORS, check_character

# A number as people write it: digits, perhaps full-width, perhaps grouped by up to three
# separators (130534-19691008-0213, 1305 3419 6910 0802 13), perhaps ending in a check X.
NUMBER_RUN = re.compile(rf"[0-9０-９](?:{ID_SEPARATORS}{{0,3}}[0-9０-９])*(?:{ID_SEPARATORS}{{0,3}}[XxＸｘ])?")
SHORTEST_NUMBER = 15  # a first-generation number; shorter runs are amounts, dates, row and case numbers
LONGEST_NUMBER = 18
CERTIFICATE_SUFFIX = 2  # a disability certificate number: the holder's citizen number, category and grade digits
MASK = "********"
TO_ASCII = str.maketrans(FULL_WIDTH_TO_ASCII)
EARLIEST_BIRTH_YEAR = 1880  # a birth date outside these years is not one a citizen number carries
LATEST_BIRTH_YEAR = 2030


def compact_number(text: str) -> str:
    """`text` without separators, full-width digits and X made ASCII (an ASCII x stays as written)."""
    return re.sub(ID_SEPARATORS, "", text).translate(TO_ASCII)


def mask_id_number(value: object) -> str:
    """A citizen number as inspectors see it: first 6, eight asterisks, last 4 (separators dropped).

    For a column that holds citizen numbers: the value is masked whatever its
    shape, a mistyped number included.
    """
    if value is None:
        return ""
    text = compact_number(str(value))
    if not text:
        return ""
    if len(text) <= 10:  # too short to be a number anyone could use; show its length only
        return "*" * len(text)
    return mask_text(text[:6] + MASK + text[-4:])


def mask_text(value: object) -> str:
    """Text with every citizen number inside it masked (evidence, certificate numbers, lists of numbers).

    A citizen number is a run of characters (however grouped, see `NUMBER_RUN`)
    of one of the shapes `is_citizen_number` accepts; it keeps its first 6 and
    last 4. A disability certificate number (the number and two digits) keeps
    its two last digits after the masked number. Other numbers of 15 or more
    digits (a 建档立卡户编号) are left as they are, unless a citizen number
    could lie inside them (two numbers written back to back): then the whole
    run is masked, since where a number starts inside it cannot be known.
    """
    if value is None:
        return ""
    return NUMBER_RUN.sub(mask_number_run, str(value))


def mask_number_run(match: re.Match) -> str:
    digits = compact_number(match.group())
    if len(digits) < SHORTEST_NUMBER:
        return match.group()
    if is_citizen_number(digits):
        return digits[:6] + MASK + digits[-4:]
    holder, suffix = digits[:-CERTIFICATE_SUFFIX], digits[-CERTIFICATE_SUFFIX:]
    if suffix.isdigit() and is_citizen_number(holder):  # a certificate: mask the holder's number only
        return holder[:6] + MASK + holder[-4:] + suffix
    if len(digits) in (SHORTEST_NUMBER, LONGEST_NUMBER) or not holds_citizen_number(digits):
        return match.group()
    return digits[:6] + MASK + digits[-4:]


def is_citizen_number(text: str) -> bool:
    """Whether `text` (ASCII, no separators) has the shape of a citizen number (GB 11643).

    18 characters (17 digits and a digit or X, either case) whose check character
    is right or, for a number typed with a slip, whose characters 7–14 are a
    birth date; or a first-generation number: 15 digits whose characters 7–12
    are a birth date in the 1900s. A 建档立卡户编号 (15 digits, no date there)
    is not one.
    """
    if len(text) == LONGEST_NUMBER and text[:17].isdigit() and (text[17].isdigit() or text[17] in "Xx"):
        return check_character(text[:17]) == text[17].upper() or is_birth_date(text[6:14])
    if len(text) == SHORTEST_NUMBER and text.isdigit():
        return is_birth_date("19" + text[6:12])
    return False


def holds_citizen_number(text: str) -> bool:
    """Whether some 15 or 18 consecutive characters of `text` have the shape of a citizen number."""
    return any(
        is_citizen_number(text[start:start + length])
        for length in (LONGEST_NUMBER, SHORTEST_NUMBER)
        for start in range(len(text) - length + 1)
    )


def is_birth_date(digits: str) -> bool:
    """Whether 8 digits are a calendar date YYYYMMDD in the years a living person's number holds."""
    if len(digits) != 8 or not digits.isdigit() or not EARLIEST_BIRTH_YEAR <= int(digits[:4]) <= LATEST_BIRTH_YEAR:
        return False
    try:
        dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True
